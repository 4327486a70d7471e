"""launch/attune.launch.py and `attune up` describe the same node graph, and every node they name
exists as a colcon executable, a pip module and a node class."""
from __future__ import annotations

import ast
import importlib
import importlib.util
import itertools
import json
import re
import subprocess
import sys

import pytest

from attune.graph import GRAPH_ARGUMENTS, GraphArgs, node_graph
from test.conftest import REPO

LAUNCH_FILE = REPO / 'launch' / 'attune.launch.py'


def load_launch_module():
    spec = importlib.util.spec_from_file_location('attune_launch', LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # top level imports only attune.graph (launch is imported lazily)
    return module


def up_graph(arguments: dict[str, str]) -> list[dict]:
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in arguments.items()]
    out = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'up', '--dry-run', '--json', *flags],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return json.loads(out.strip().splitlines()[-1])


def as_dicts(specs) -> list[dict]:
    return [{'name': s.name, 'package': s.package, 'executable': s.executable, 'namespace': s.namespace,
             'parameter_files': list(s.parameter_files), 'parameters': dict(s.parameters),
             'remappings': [list(r) for r in s.remappings]} for s in specs]


def all_nodes_on() -> dict[str, str]:
    """Every optional node switched on (true/false launch arguments other than use_sim_time)."""
    return {a.name: 'true' for a in GRAPH_ARGUMENTS if 'true' in a.choices and a.name != 'use_sim_time'}


def argument_combinations() -> list[dict[str, str]]:
    """Every pair of values of any two arguments occurs in some combination (all-pairs), so an
    interaction between two switches is covered while the count grows with the square of the largest
    choice list, not with the product of all of them (each switch added would double it)."""
    choices = {a.name: a.choices for a in GRAPH_ARGUMENTS if a.choices}
    names = list(choices)
    uncovered = {((a, va), (b, vb)) for i, a in enumerate(names) for b in names[i + 1:]
                 for va in choices[a] for vb in choices[b]}
    candidates = [dict(zip(names, values)) for values in itertools.product(*choices.values())]
    candidate_pairs = [pairs_of(c, names) for c in candidates]
    combos: list[dict[str, str]] = []
    while uncovered:  # greedy: the first candidate that covers most pairs not covered yet
        best = max(range(len(candidates)), key=lambda i: len(uncovered & candidate_pairs[i]))
        uncovered -= candidate_pairs[best]
        combos.append(candidates[best])
    return [{'camera_topic': '/nao/top_camera/image_raw', **c} for c in combos]


def pairs_of(combo: dict[str, str], names: list[str]) -> set:
    return {((a, combo[a]), (b, combo[b])) for i, a in enumerate(names) for b in names[i + 1:]}


def test_combinations_cover_every_pair_of_argument_values() -> None:
    choices = {a.name: a.choices for a in GRAPH_ARGUMENTS if a.choices}
    names = list(choices)
    combos = argument_combinations()
    covered = set().union(*(pairs_of(c, names) for c in combos))
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert {(va, vb) for va in choices[a] for vb in choices[b]} == \
                {(x[1], y[1]) for x, y in covered if x[0] == a and y[0] == b}


@pytest.mark.parametrize('arguments', argument_combinations(), ids=lambda a: '-'.join(a.values()))
def test_launch_file_and_attune_up_start_the_same_graph(arguments: dict[str, str]) -> None:
    from_launch = as_dicts(load_launch_module().describe(arguments))
    assert from_launch == up_graph(arguments)
    assert from_launch == as_dicts(node_graph(GraphArgs(**arguments)))


def test_launch_file_declares_every_graph_argument_and_builds_launch_ros_nodes() -> None:
    tree = ast.parse(LAUNCH_FILE.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert {'DeclareLaunchArgument', 'Node', 'LaunchDescription', 'GRAPH_ARGUMENTS', 'describe'} <= names
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert {'DeclareLaunchArgument', 'Node', 'LaunchDescription', 'OpaqueFunction'} <= calls


def all_specs() -> list:
    """The nodes of the graph for every robot choice (robot:=none starts perception only), with every
    optional node switched on."""
    from attune.graph.spec import ROBOTS

    return [s for robot in ROBOTS for s in node_graph(GraphArgs(robot=robot, **all_nodes_on()))]


def test_every_node_exists_as_executable_module_and_class() -> None:
    cmake = (REPO / 'CMakeLists.txt').read_text()
    block = re.search(r'set\(ATTUNE_EXECUTABLES\s+([^)]*)\)', cmake).group(1)
    executables = set(block.split())
    specs = all_specs()
    for spec in specs:
        assert spec.executable in executables, f'{spec.executable} missing from CMakeLists.txt'
        module = importlib.import_module(spec.module)
        assert callable(module.main) and isinstance(module.NODE_CLASS, type)
    for executable in executables:  # and nothing stale is installed
        assert importlib.util.find_spec(f'attune.nodes.{executable}') is not None, executable


def test_parameter_files_exist_and_name_only_known_nodes() -> None:
    import yaml

    specs = all_specs()
    for spec in specs:
        for path in spec.parameter_files:
            with open(path) as stream:
                config = yaml.safe_load(stream)
            unknown = set(config) - {s.name for s in specs} - {'/**'}
            assert not unknown, f'{path} configures nodes that are not in the graph: {unknown}'


def test_a_bad_argument_is_refused_by_name() -> None:
    from attune.errors import ConfigError

    with pytest.raises(ConfigError, match='robot'):
        GraphArgs(robot='r2d2')


def test_the_asd_session_policy_brings_the_asd_emotion_node_unless_told_otherwise() -> None:
    def names(**kw) -> set[str]:
        return {s.name for s in node_graph(GraphArgs(**kw))}

    assert 'asd_emotion_node' in names(robot='nao', policy='asd_session')  # its name calls need the node
    assert 'asd_emotion_node' not in names(robot='nao', policy='asd_session', asd_emotion='false')
    assert 'asd_emotion_node' not in names(robot='nao', policy='default')
    assert 'asd_emotion_node' not in names(policy='asd_session')  # no robot: no policy runs
    assert 'asd_emotion_node' in names(asd_emotion='true')


def test_the_identity_node_starts_when_a_people_database_exists(tmp_path, monkeypatch) -> None:
    def names(**kw) -> set[str]:
        return {s.name for s in node_graph(GraphArgs(**kw))}

    monkeypatch.setenv('ATTUNE_PEOPLE_DB', str(tmp_path / 'people.db'))
    assert 'identity_node' not in names()  # auto, nobody enrolled
    assert 'identity_node' in names(identity='true')
    (tmp_path / 'people.db').write_bytes(b'')
    assert 'identity_node' in names()
    assert 'identity_node' not in names(identity='false')
    assert [s['name'] for s in up_graph({'identity': 'auto'})] == [s.name for s in node_graph(GraphArgs())]
