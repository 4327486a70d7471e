"""attune/InteractionEvent <-> PersonSign | ProtocolResult (attune.ros.msg_interaction_event)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.behavior.outcome import PROTOCOL_STATUS, PersonSign, ProtocolResult
from attune.ros import msg_interaction_event
from test.ros.round_trip import assert_same, floats32, header, maybe_nan32, stamps, unit32, words

pytestmark = pytest.mark.ros

person_signs = st.builds(PersonSign, words, words, unit32, words, stamps, st.lists(words, max_size=4).map(tuple))
protocol_results = st.builds(
    ProtocolResult, words, words, st.sampled_from([s for s in PROTOCOL_STATUS.values() if s != 'none']),
    latency_s=maybe_nan32, head_turn_deg=maybe_nan32, emotion=words, valence=maybe_nan32 | floats32,
    stamp_ns=stamps, reason=words, called_name=words)


@settings(max_examples=60, deadline=None)
@given(person_signs | protocol_results, stamps)
def test_interaction_event_round_trip(event: PersonSign | ProtocolResult, stamp_ns: int) -> None:
    assert_same(msg_interaction_event.from_msg(msg_interaction_event.to_msg(event, header(stamp_ns))), event)


def test_a_status_without_a_code_is_refused() -> None:
    with pytest.raises(ValueError, match='no InteractionEvent code'):
        msg_interaction_event.to_msg(ProtocolResult('p', 'name_call', 'timeout'), header(1))


def test_a_sign_event_is_not_a_protocol_result() -> None:
    msg = msg_interaction_event.to_msg(PersonSign('p', 'hello', 0.9), header(1))
    with pytest.raises(ValueError, match='not a protocol event'):
        msg_interaction_event.protocol_from_msg(msg)
