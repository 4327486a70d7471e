"""attune/PersonMatches and PersonMatch <-> FaceMatch (attune.ros.msg_person_matches)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.identity.face_people import FaceMatch
from attune.ros import msg_person_matches
from test.ros.round_trip import assert_same, header, maybe_nan32, stamps, words

pytestmark = pytest.mark.ros

matches = st.builds(FaceMatch, words.filter(bool), words, words, st.booleans(), maybe_nan32, maybe_nan32,
                    st.integers(0, 2**32 - 1))


@settings(max_examples=60, deadline=None)
@given(st.lists(matches, max_size=4), stamps)
def test_person_matches_round_trip(face_matches: list[FaceMatch], stamp_ns: int) -> None:
    assert_same(msg_person_matches.from_msg(msg_person_matches.to_msg(face_matches, header(stamp_ns))), face_matches)


def test_a_match_without_a_face_id_is_left_out() -> None:
    msg = msg_person_matches.to_msg([FaceMatch('t1', known=False, confidence=0.4), FaceMatch('')], header(1))
    assert [m.face_id for m in msg_person_matches.from_msg(msg)] == ['t1']
