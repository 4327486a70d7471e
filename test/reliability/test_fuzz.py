"""Every node fuzzed through real rclpy with a short seeded run (bench/fuzz.py runs the full volume):
no crash, valid traffic still answered correctly, every certainly-bad message counted."""
from __future__ import annotations

import pytest

from test.reliability.fuzzing import fuzz_node
from test.reliability.targets import TARGETS
from test.reliability.targets_more import MORE_TARGETS

ALL_TARGETS = {**TARGETS, **MORE_TARGETS}

pytestmark = [pytest.mark.ros, pytest.mark.slow]

#: Messages per node in CI (a few hundred; bench/fuzz.py sends 10,000 and more).
CI_MESSAGES = 240


@pytest.mark.parametrize('name', sorted(ALL_TARGETS))
def test_fuzzed_node_survives_and_still_answers(rclpy_session, name: str) -> None:
    result = fuzz_node(ALL_TARGETS[name](), CI_MESSAGES, seed_value=14)
    assert result.messages >= CI_MESSAGES
    assert result.crashes == 0, result.as_dict()
    assert result.every_bad_counted and result.certainly_bad > 0, result.as_dict()
    assert result.valid_outputs_ok, result.as_dict()


def test_every_node_is_fuzzed() -> None:
    """A new node gets a fuzz target (the stream guard went without one until it was listed here)."""
    from pathlib import Path

    import attune.nodes

    nodes = {p.stem for p in Path(attune.nodes.__file__).parent.glob('*_node.py')}
    assert nodes == set(ALL_TARGETS)
