"""attune/Expression <-> attune.expression.observation.ExpressionObservation, and the views consumers
take of an Expression: the label distribution, the action units, signer-emotion fusion's input.

Producers build the observation (from_face_expression for the expression node's FaceExpression;
the spiking FER node builds its own) and publish to_msg(observation, header). The views import their
types where they are used, so a node loads only the packages it needs (the sign node's ones are not
the expression node's).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from attune.expression.observation import ExpressionObservation
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.expression.analyzer import FaceExpression
    from attune.expression.ensemble import Distribution
    from attune.msg import Expression
    from attune.sign.emotion import ExpressionInput


def _finite_or_nan(value: float) -> float:
    return float(value) if math.isfinite(value) else math.nan


def to_msg(expression: ExpressionObservation, header: Header) -> Expression:
    """An Expression carrying `header` (the source image's)."""
    msg: Expression = attune_msgs().Expression(
        header=header, face_id=expression.face_id, source=expression.source, label=expression.label,
        confidence=float(expression.confidence), labels=list(expression.labels),
        probabilities=[float(p) for p in expression.probabilities], valence=_finite_or_nan(expression.valence),
        arousal=_finite_or_nan(expression.arousal), action_units=list(expression.action_units),
        au_intensities=[float(v) for v in expression.au_intensities], calibrated=bool(expression.calibrated))
    return msg


def from_msg(msg: Expression) -> ExpressionObservation:
    return ExpressionObservation(
        face_id=msg.face_id, source=msg.source, label=msg.label, confidence=float(msg.confidence),
        labels=tuple(msg.labels), probabilities=tuple(float(p) for p in msg.probabilities),
        valence=float(msg.valence), arousal=float(msg.arousal), action_units=tuple(msg.action_units),
        au_intensities=tuple(float(v) for v in msg.au_intensities), calibrated=bool(msg.calibrated))


def from_face_expression(result: FaceExpression, source: str = 'ensemble') -> ExpressionObservation:
    """The observation of one face from the expression node's analysis: `source` is 'ensemble' or
    one of result.sources; it carries that distribution's valence/arousal and the face's AUs."""
    from attune.expression.action_units import AU_NAMES

    distribution = result.ensemble if source == 'ensemble' else result.sources[source]
    valence, arousal = distribution.valence_arousal()
    return ExpressionObservation(
        face_id=result.track, source=source, label=distribution.label, confidence=float(distribution.confidence),
        labels=tuple(distribution.labels), probabilities=tuple(float(p) for p in distribution.probabilities),
        valence=_finite_or_nan(valence), arousal=_finite_or_nan(arousal), action_units=tuple(AU_NAMES),
        au_intensities=tuple(float(v) for v in result.aus.intensities), calibrated=source in result.calibrated)


def distribution(msg: Expression) -> Distribution:
    """The label distribution an Expression message carries."""
    from attune.expression.ensemble import Distribution

    return Distribution(tuple(msg.labels), np.asarray(msg.probabilities, dtype=np.float32))


def action_units(msg: Expression) -> dict[str, float]:
    """{AU name: intensity} of an Expression message."""
    return {name: float(v) for name, v in zip(msg.action_units, msg.au_intensities)}


def signer_input(msg: Expression) -> ExpressionInput:
    """What signer-emotion fusion (attune.sign.emotion) uses of an Expression message."""
    from attune.sign.emotion import ExpressionInput

    return ExpressionInput(stamp_ns=to_ns(msg.header.stamp), labels=tuple(msg.labels),
                           probabilities=tuple(float(p) for p in msg.probabilities), valence=float(msg.valence),
                           arousal=float(msg.arousal), face_id=msg.face_id, source=msg.source)
