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


def test_attune_up_refuses_a_participant_who_is_not_enrolled(tmp_path, monkeypatch) -> None:
    import numpy as np

    from attune.cli.main import main
    from attune.cli.up import check_participant
    from attune.identity import keys
    from attune.identity.store import PeopleDatabase

    key_file = tmp_path / 'people.key'
    key = keys.create_key_file(key_file)
    monkeypatch.setenv(keys.DATABASE_ENV, str(tmp_path / 'people.db'))
    monkeypatch.setenv(keys.KEY_FILE_ENV, str(key_file))
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    db = PeopleDatabase.open_or_create(tmp_path / 'people.db', key)
    ada = db.enroll('Ada', np.random.default_rng(0).normal(size=(1, 128)), 'Ada agreed (test)', 'test')
    db.save()
    assert check_participant('ada') == '' and check_participant(ada.person_id) == ''
    assert 'not enrolled' in check_participant('Bob')
    assert main(['up', '--robot', 'sim', '--participant', 'Bob', '--dry-run']) == 1
    assert main(['up', '--robot', 'sim', '--participant', 'Ada', '--dry-run']) == 0
