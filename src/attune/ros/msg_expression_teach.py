"""attune/ExpressionTeach <-> attune.expression.lessons.Lesson: an operator teaching the expression
node a label for a face ("this is happy", for `duration_s` from the header stamp), or a "neutral now"
for per-person calibration (calibrate)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from attune.expression.lessons import Lesson
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns

if TYPE_CHECKING:
    from attune.msg import ExpressionTeach


def to_msg(lesson: Lesson, frame_id: str = '') -> ExpressionTeach:
    """The ExpressionTeach that asks for `lesson` (stamped with its start; no samples travel)."""
    msg: ExpressionTeach = attune_msgs().ExpressionTeach(
        header=Header(stamp=from_ns(lesson.start_ns, Time), frame_id=frame_id), face_id=lesson.face_id,
        label=lesson.label, duration_s=lesson.duration_ns / 1e9, calibrate=lesson.calibrate_only)
    return msg


def from_msg(msg: ExpressionTeach) -> Lesson:
    """The lesson an ExpressionTeach message asks for. With `calibrate` set, the lesson is a "neutral
    now" for per-person calibration only (Lesson.calibrate_only, label 'neutral').

    Raises:
        ValueError: an empty label (without calibrate), a label other than 'neutral' with calibrate,
            or a duration that is not a positive finite number.
    """
    label = msg.label.strip()
    calibrate = bool(msg.calibrate)
    if calibrate and label not in ('', 'neutral'):
        raise ValueError(f"a calibrate ExpressionTeach is a 'neutral now': label must be '' or 'neutral', "
                         f'got {label!r}')
    if not label and not calibrate:
        raise ValueError('an ExpressionTeach message needs a label')
    if not math.isfinite(msg.duration_s) or msg.duration_s <= 0 or msg.duration_s > 600:
        raise ValueError(f'duration_s must be in (0, 600] s, got {msg.duration_s}')
    return Lesson(msg.face_id.strip(), label or 'neutral', to_ns(msg.header.stamp), int(msg.duration_s * 1e9),
                  calibrate_only=calibrate)
