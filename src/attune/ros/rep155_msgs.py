"""attune messages -> REP-155 (hri_msgs) messages, for the hri bridge node.

Expressions and affect arrive as the core dataclasses of their messages (attune.ros.msg_expression,
msg_affect_state); a Face is translated field by field from its message, so that one face's malformed
landmark array drops only that face's landmarks, not the whole Faces message.

hri_msgs comes from the ROS 2 install when it has the package (ros-$ROS_DISTRO-hri-msgs), otherwise
from attune's wire-compatible copy that tools/bootstrap.sh builds into the venv (interfaces/hri_msgs).
"""
from __future__ import annotations

import math
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from attune.errors import AttuneError
from attune.face.rep155 import FACS_SLOTS, PUPILS, expression_name, facs_code, landmarks_70

if TYPE_CHECKING:
    from hri_msgs.msg import Expression as HriExpression
    from hri_msgs.msg import FacialActionUnits, FacialLandmarks, IdsList, NormalizedRegionOfInterest2D
    from std_msgs.msg import Header

    from attune.affect.observation import AffectObservation
    from attune.expression.observation import ExpressionObservation
    from attune.msg import Face


def hri_interfaces() -> ModuleType:
    """The `hri_msgs.msg` module, with an actionable error when it is missing."""
    try:
        import hri_msgs.msg as msgs
    except ImportError as exc:
        raise AttuneError(
            f'the REP-155 messages (hri_msgs) are not available ({exc}). On a ROS 2 install: '
            'apt install ros-$ROS_DISTRO-hri-msgs (or rosdep install --from-paths src -y); in a venv: '
            'tools/bootstrap.sh builds attune\'s copy. Or start the graph with rep155:=false.') from None
    return msgs


def tracked_msg(hri: ModuleType, header: Header, ids: list[str]) -> IdsList:
    """hri_msgs/IdsList for /humans/faces/tracked."""
    msg: IdsList = hri.IdsList(header=header, ids=list(ids))
    return msg


def roi_msg(hri: ModuleType, header: Header, face: Face) -> NormalizedRegionOfInterest2D:
    """hri_msgs/NormalizedRegionOfInterest2D of an attune/Face (box clipped to the image)."""
    r = face.roi
    msg: NormalizedRegionOfInterest2D = hri.NormalizedRegionOfInterest2D(
        header=header, xmin=_clip(r.xmin), ymin=_clip(r.ymin), xmax=_clip(r.xmax), ymax=_clip(r.ymax),
        c=_clip(face.detection_confidence))
    return msg


def _clip(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def landmarks_msg(hri: ModuleType, header: Header, face: Face, width: int, height: int) -> FacialLandmarks | None:
    """hri_msgs/FacialLandmarks (70 points) of an attune/Face; None when it carries no landmarks.

    Each point's confidence c is the face's detection confidence; the pupils have c = 0 (and sit at
    the eye's centre) when the mesh was not refined (468 points, no iris).

    Raises:
        ValueError: the landmark array is malformed.
    """
    flat = np.asarray(face.landmarks, dtype=np.float32)
    if flat.size == 0:
        return None
    if flat.size % 3:
        raise ValueError(f'Face.landmarks must hold x, y, z triplets; got {flat.size} values')
    points, present = landmarks_70(flat.reshape(-1, 3))
    if not present[PUPILS[0]]:  # no iris: the eye centre stands in, marked unknown by c = 0
        points[PUPILS[0]] = points[[36, 39]].mean(axis=0)
        points[PUPILS[1]] = points[[42, 45]].mean(axis=0)
    c = float(min(1.0, max(0.0, face.detection_confidence)))
    poi = hri.NormalizedPointOfInterest2D
    msg: FacialLandmarks = hri.FacialLandmarks(
        header=header, width=int(width), height=int(height),
        landmarks=[poi(x=float(x), y=float(y), c=c if present[i] else 0.0) for i, (x, y) in enumerate(points)])
    return msg


def _finite_or(value: float, fallback: float) -> float:
    return float(value) if math.isfinite(value) else fallback


def expression_msg(hri: ModuleType, header: Header, expression: ExpressionObservation,
                   affect: AffectObservation | None = None) -> HriExpression:
    """hri_msgs/Expression of an attune/Expression. Valence and arousal come from the Expression,
    or from the face's latest attune/AffectState where the Expression has none (NaN stays NaN
    when neither estimates them)."""
    valence, arousal = float(expression.valence), float(expression.arousal)
    if affect is not None:
        valence = _finite_or(valence, float(affect.valence))
        arousal = _finite_or(arousal, float(affect.arousal))
    msg: HriExpression = hri.Expression(header=header, expression=expression_name(expression.label), valence=valence,
                                        arousal=arousal, confidence=float(min(1.0, max(0.0, expression.confidence))))
    return msg


def affect_expression_msg(hri: ModuleType, header: Header, affect: AffectObservation) -> HriExpression:
    """hri_msgs/Expression of an attune/AffectState (for faces no Expression source covers)."""
    probabilities = dict(zip(affect.emotions, affect.probabilities))
    confidence = float(probabilities.get(affect.dominant, 0.0))
    msg: HriExpression = hri.Expression(header=header, expression=expression_name(affect.dominant),
                                        valence=float(affect.valence), arousal=float(affect.arousal),
                                        confidence=min(1.0, max(0.0, confidence)))
    return msg


def facs_msg(hri: ModuleType, header: Header, expression: ExpressionObservation) -> FacialActionUnits | None:
    """hri_msgs/FacialActionUnits of an attune/Expression's action units; None when it has none.

    intensity[code] is attune's intensity in [0, 1]; confidence[code] is 1 for the AUs attune
    estimated and 0 for all others (not estimated, intensity 0).

    Raises:
        ValueError: names and intensities differ in length.
    """
    if len(expression.action_units) != len(expression.au_intensities):
        raise ValueError(f'Expression has {len(expression.action_units)} action unit names but '
                         f'{len(expression.au_intensities)} intensities')
    if not expression.action_units:
        return None
    intensity = np.zeros(FACS_SLOTS, dtype=np.float32)
    confidence = np.zeros(FACS_SLOTS, dtype=np.float32)
    for name, value in zip(expression.action_units, expression.au_intensities):
        code = facs_code(name)
        if code is not None and math.isfinite(value):
            intensity[code] = min(1.0, max(0.0, float(value)))
            confidence[code] = 1.0
    msg: FacialActionUnits = hri.FacialActionUnits(header=header, intensity=intensity, confidence=confidence)
    return msg
