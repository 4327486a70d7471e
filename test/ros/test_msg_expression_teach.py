"""attune/ExpressionTeach <-> Lesson (attune.ros.msg_expression_teach): round trip and refusals."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.expression.lessons import Lesson
from attune.ros import msg_expression_teach
from test.ros.round_trip import assert_same, stamps

pytestmark = pytest.mark.ros

#: Face ids and labels as an operator types them (the message's own are stripped of blanks).
names = st.text(st.characters(categories=('L', 'N', 'P')), min_size=1, max_size=12)


@st.composite
def lessons(draw: st.DrawFn) -> Lesson:
    calibrate = draw(st.booleans())
    duration_ns = draw(st.integers(1, 2400)) * 250_000_000  # quarter seconds: exact in float32
    return Lesson(draw(st.just('') | names), 'neutral' if calibrate else draw(names), draw(stamps), duration_ns,
                  calibrate_only=calibrate)


@settings(max_examples=60, deadline=None)
@given(lessons())
def test_expression_teach_round_trip(lesson: Lesson) -> None:
    assert_same(msg_expression_teach.from_msg(msg_expression_teach.to_msg(lesson)), lesson)


@pytest.mark.parametrize(('label', 'calibrate', 'duration_s', 'why'), [
    ('', False, 2.0, 'needs a label'), ('happy', True, 2.0, 'neutral now'), ('happy', False, 0.0, 'duration_s'),
    ('happy', False, float('nan'), 'duration_s'), ('happy', False, 601.0, 'duration_s')])
def test_a_lesson_that_cannot_be_taught_is_refused(label: str, calibrate: bool, duration_s: float, why: str) -> None:
    msg = msg_expression_teach.to_msg(Lesson('f1', 'happy', 0, 1_000_000_000))
    msg.label, msg.calibrate, msg.duration_s = label, calibrate, duration_s
    with pytest.raises(ValueError, match=why):
        msg_expression_teach.from_msg(msg)
