"""attune/Sign <-> SignEvent (attune.ros.msg_sign), and the fusion's view of a Sign."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.ros import msg_sign
from attune.sign.events import SignEvent
from test.ros.round_trip import assert_same, header, stamps, unit32, words

pytestmark = pytest.mark.ros


@st.composite
def signs(draw: st.DrawFn) -> SignEvent:
    mode = draw(st.sampled_from(['isolated', 'continuous']))
    top = tuple(draw(st.lists(st.tuples(words, unit32), max_size=4)))
    return SignEvent(mode=mode, gloss=draw(words), confidence=draw(unit32), top=top, start_ns=draw(stamps),
                     end_ns=draw(stamps), stamp_ns=draw(stamps), handedness=draw(st.sampled_from(['left', 'right',
                                                                                                  'both', ''])),
                     sequence=tuple(draw(st.lists(words, max_size=4))) if mode == 'continuous' else (),
                     source=draw(words), face_id=draw(words))


@settings(max_examples=60, deadline=None)
@given(signs())
def test_sign_round_trip(event: SignEvent) -> None:
    msg = msg_sign.to_msg(event, header(event.stamp_ns))
    assert_same(msg_sign.from_msg(msg), event)
    seen = msg_sign.fusion_input(msg)
    assert (seen.face_id, seen.gloss, seen.source) == (event.face_id, event.gloss, event.source)
