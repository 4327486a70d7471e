"""attune/AffectState <-> attune.affect.observation.AffectObservation.

Two nodes publish AffectState, each naming itself in `source`: the ASD emotion node
(from_estimate) and the sign node's signer emotion (from_signer_affect).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from attune.affect.observation import AffectObservation
from attune.emotions import EMOTIONS
from attune.ros.interfaces import attune_msgs

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.affect.estimator import AffectEstimate
    from attune.msg import AffectState
    from attune.sign.emotion import SignerAffect

#: AffectState.source of the ASD emotion model.
ASD_SOURCE = 'asd_emotion'


def to_msg(affect: AffectObservation, header: Header) -> AffectState:
    """An AffectState carrying `header` (the source image's)."""
    msg: AffectState = attune_msgs().AffectState(
        header=header, face_id=affect.face_id, source=affect.source, emotions=list(affect.emotions),
        probabilities=[float(p) for p in affect.probabilities], dominant_emotion=affect.dominant,
        valence=float(affect.valence), arousal=float(affect.arousal), engagement=float(affect.engagement))
    return msg


def from_msg(msg: AffectState) -> AffectObservation:
    return AffectObservation(face_id=msg.face_id, source=msg.source, emotions=tuple(msg.emotions),
                             probabilities=tuple(float(p) for p in msg.probabilities), dominant=msg.dominant_emotion,
                             valence=float(msg.valence), arousal=float(msg.arousal),
                             engagement=float(msg.engagement))


def from_estimate(face_id: str, estimate: AffectEstimate | None = None) -> AffectObservation:
    """The ASD emotion model's affect of a face: the estimate's distribution, or nothing estimated
    (None: no emotions, NaN valence and arousal). It does not estimate engagement."""
    if estimate is None:
        return AffectObservation(face_id, ASD_SOURCE)
    return AffectObservation(face_id, ASD_SOURCE, emotions=tuple(EMOTIONS),
                             probabilities=tuple(float(p) for p in estimate.probabilities),
                             dominant=estimate.dominant, valence=float(estimate.valence),
                             arousal=float(estimate.arousal))


def from_signer_affect(affect: SignerAffect) -> AffectObservation:
    """A signer's affect estimate (source 'signer_emotion')."""
    from attune.sign.emotion import SOURCE as SIGNER_SOURCE  # the sign package is the sign node's to load

    return AffectObservation(affect.face_id, SIGNER_SOURCE, emotions=tuple(affect.emotions),
                             probabilities=tuple(float(p) for p in affect.probabilities), dominant=affect.dominant,
                             valence=float(affect.valence), arousal=float(affect.arousal),
                             engagement=float(affect.engagement))
