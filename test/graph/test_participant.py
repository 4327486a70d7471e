"""`attune up --participant` / launch argument participant: the interaction node is bound to the person,
and a participant without the identity node (which recognises them) is refused before anything starts."""
from __future__ import annotations

import pytest

from attune.errors import ConfigError
from attune.graph.spec import GraphArgs, node_graph


def interaction_parameters(**args: str) -> dict:
    (node,) = [n for n in node_graph(GraphArgs(**args)) if n.name == 'interaction_node']
    return dict(node.parameters)


def test_the_participant_is_bound_in_the_interaction_node() -> None:
    assert interaction_parameters(robot='sim', participant='Ada', identity='true')['participant'] == 'Ada'
    assert 'participant' not in interaction_parameters(robot='sim', identity='true')
    (node,) = [n for n in node_graph(GraphArgs(robot='sim', participant='Yes', identity='true'))
               if n.name == 'interaction_node']
    assert "participant:='Yes'" in node.ros_arguments()   # a name YAML would read as a boolean stays text


def test_a_participant_needs_the_identity_node() -> None:
    with pytest.raises(ConfigError, match='needs the identity node'):
        node_graph(GraphArgs(robot='sim', participant='Ada', identity='false'))
