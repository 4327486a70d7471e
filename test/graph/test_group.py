"""`attune up --mode grouped`: which nodes share a process, and how their specs reach it."""
from __future__ import annotations

import importlib
import pkgutil

import attune.nodes
from attune.graph import GraphArgs, node_graph
from attune.graph.group import IMAGE_NODES, group_command, specs_from_json, split_graph
from attune.ros.image_input import ImageInputNode


def test_image_nodes_are_exactly_the_nodes_built_on_the_image_input_shell() -> None:
    image_nodes = set()
    for info in pkgutil.iter_modules(attune.nodes.__path__):
        node_class = getattr(importlib.import_module(f'attune.nodes.{info.name}'), 'NODE_CLASS', None)
        if node_class is not None and issubclass(node_class, ImageInputNode):
            image_nodes.add(info.name)
    assert image_nodes == IMAGE_NODES


def test_the_full_graph_splits_into_image_processes_and_one_shared_process() -> None:
    specs = node_graph(GraphArgs(robot='sim', sign='true', spiking_fer='true', asd_emotion='true', stream_guard='true'))
    own, shared = split_graph(specs)
    assert sorted(own + shared, key=specs.index) == specs
    assert {s.executable for s in own} <= IMAGE_NODES and 'face_node' in {s.executable for s in own}
    assert {'interaction_node', 'behavior_node', 'sim_robot_node', 'sign_node'} <= {s.executable for s in shared}


def test_specs_reach_the_group_process_unchanged() -> None:
    specs = node_graph(GraphArgs(robot='sim', sign='true', identity='true', participant='Ada'))
    command = group_command(specs, python='python3')
    assert command[:3] == ['python3', '-m', 'attune.graph.group']
    assert specs_from_json(command[3]) == specs
