"""attune/InteractionState and ModalityContribution <-> PersonState and Contribution
(attune.ros.msg_interaction_state)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.behavior.state import Contribution, Identity, PersonState
from attune.ros import msg_interaction_state
from test.ros.round_trip import assert_same, floats32, maybe_nan32, stamps, unit32, words

pytestmark = pytest.mark.ros

contributions = st.builds(Contribution, words, words, words, floats32, unit32, floats32, words)


@st.composite
def identities(draw: st.DrawFn) -> Identity:
    known = draw(st.booleans())  # an unknown face carries no person id or name
    return Identity(person_id=draw(words) if known else '', name=draw(words) if known else '', known=known,
                    confidence=draw(maybe_nan32), participant=draw(st.booleans()))


@st.composite
def person_states(draw: st.DrawFn) -> PersonState:
    return PersonState(
        person_id=draw(words), stamp_ns=draw(stamps), present=draw(st.booleans()), attention=draw(maybe_nan32),
        engagement=draw(maybe_nan32), valence=draw(maybe_nan32), arousal=draw(maybe_nan32),
        distress=draw(maybe_nan32), contributions=tuple(draw(st.lists(contributions, max_size=4))),
        robot_speaking=draw(st.booleans()), summary=draw(words),
        face_position=draw(st.none() | st.tuples(floats32, floats32, floats32)),
        identity=draw(st.none() | identities()), stream_trust=draw(maybe_nan32), stream_live=draw(st.booleans()),
        participant_bound=draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(person_states())
def test_interaction_state_round_trip(state: PersonState) -> None:
    msg = msg_interaction_state.to_msg(state, 'camera')
    assert msg.header.frame_id == 'camera'
    assert_same(msg_interaction_state.from_msg(msg), state)


@settings(max_examples=40, deadline=None)
@given(contributions)
def test_modality_contribution_round_trip(contribution: Contribution) -> None:
    back = msg_interaction_state.contribution_from_msg(msg_interaction_state.contribution_to_msg(contribution))
    assert_same(back, contribution)
