"""attune/SessionRating <-> Rating (attune.ros.msg_session_rating)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.behavior.ratings import Rating, RatingError
from attune.ros import msg_session_rating
from test.ros.round_trip import assert_same, stamps, words

pytestmark = pytest.mark.ros

scores = st.none() | st.integers(1, 7)


@st.composite
def ratings(draw: st.DrawFn) -> Rating:
    engagement, comfort = draw(scores), draw(scores)
    note = draw(words if engagement or comfort else words.filter(bool))  # nothing rated: a note is required
    return Rating(engagement=engagement, comfort=comfort, note=note, rater=draw(words), source='topic')


@settings(max_examples=60, deadline=None)
@given(ratings(), stamps)
def test_session_rating_round_trip(rating: Rating, stamp_ns: int) -> None:
    msg = msg_session_rating.to_msg(rating, stamp_ns)
    assert_same(msg_session_rating.from_msg(msg), rating)


def test_a_score_off_the_scale_is_refused() -> None:
    msg = msg_session_rating.to_msg(Rating(engagement=5))
    msg.comfort = 9
    with pytest.raises(RatingError):
        msg_session_rating.from_msg(msg)
