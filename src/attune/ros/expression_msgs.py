"""attune/Expression and attune/ExpressionTeach <-> the expression core's types, for rclpy messages."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from attune.expression.action_units import AU_NAMES
from attune.expression.analyzer import FaceExpression
from attune.expression.ensemble import Distribution
from attune.expression.lessons import Lesson
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import Expression, ExpressionTeach


def expression_to_msg(result: FaceExpression, header: Header, source: str = 'ensemble') -> Expression:
    """An Expression message for one face: `source` is 'ensemble' or one of result.sources.

    Carries `header` (the source image's), the AUs, and valence/arousal of that distribution.
    """
    distribution = result.ensemble if source == 'ensemble' else result.sources[source]
    valence, arousal = distribution.valence_arousal()
    msg: Expression = attune_msgs().Expression(header=header, face_id=result.track, source=source)
    msg.label = distribution.label
    msg.confidence = distribution.confidence
    msg.labels = list(distribution.labels)
    msg.probabilities = [float(p) for p in distribution.probabilities]
    msg.valence = valence if math.isfinite(valence) else math.nan
    msg.arousal = arousal if math.isfinite(arousal) else math.nan
    msg.action_units = list(AU_NAMES)
    msg.au_intensities = [float(v) for v in result.aus.intensities]
    msg.calibrated = source in result.calibrated
    return msg


def distribution_from_msg(msg: Expression) -> Distribution:
    """The label distribution an Expression message carries."""
    return Distribution(tuple(msg.labels), np.asarray(msg.probabilities, dtype=np.float32))


def action_units_from_msg(msg: Expression) -> dict[str, float]:
    """{AU name: intensity} of an Expression message."""
    return {name: float(v) for name, v in zip(msg.action_units, msg.au_intensities)}


def lesson_from_msg(msg: ExpressionTeach) -> Lesson:
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
