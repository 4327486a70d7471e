"""SignEvent -> attune/Sign, SignerAffect -> attune/AffectState, attune/Expression -> ExpressionInput."""
from __future__ import annotations

from typing import TYPE_CHECKING

from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns
from attune.sign.emotion import SOURCE as EMOTION_SOURCE
from attune.sign.emotion import ExpressionInput, SignerAffect
from attune.sign.events import SignEvent

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import AffectState, Expression, Sign


def sign_to_msg(event: SignEvent, header: Header) -> Sign:
    """A Sign message for `event`; `header` is the header of the frame the decision was made at."""
    from builtin_interfaces.msg import Time

    msgs = attune_msgs()
    sign: Sign = msgs.Sign(
        header=header, mode=msgs.Sign.ISOLATED if event.mode == 'isolated' else msgs.Sign.CONTINUOUS,
        gloss=event.gloss, confidence=float(event.confidence),
        top_glosses=[g for g, _ in event.top], top_scores=[float(s) for _, s in event.top],
        sequence=list(event.sequence), start=from_ns(event.start_ns, Time), end=from_ns(event.end_ns, Time),
        handedness=event.handedness, face_id=event.face_id, source=event.source)
    return sign


def sign_from_msg(msg: Sign) -> SignEvent:
    """The SignEvent of a Sign message (round trip of sign_to_msg)."""
    return SignEvent(mode='isolated' if msg.mode == 0 else 'continuous', gloss=msg.gloss,
                     confidence=float(msg.confidence),
                     top=tuple(zip(msg.top_glosses, (float(s) for s in msg.top_scores))),
                     start_ns=to_ns(msg.start), end_ns=to_ns(msg.end), stamp_ns=to_ns(msg.header.stamp),
                     handedness=msg.handedness, sequence=tuple(msg.sequence), source=msg.source,
                     face_id=msg.face_id)


def affect_to_msg(affect: SignerAffect, header: Header) -> AffectState:
    """An AffectState (source 'signer_emotion') for a signer's affect estimate."""
    msgs = attune_msgs()
    msg: AffectState = msgs.AffectState(header=header, face_id=affect.face_id, source=EMOTION_SOURCE,
                           emotions=list(affect.emotions), probabilities=[float(p) for p in affect.probabilities],
                           dominant_emotion=affect.dominant, valence=float(affect.valence),
                           arousal=float(affect.arousal), engagement=float(affect.engagement))
    return msg


def expression_from_msg(msg: Expression) -> ExpressionInput:
    """What signer-emotion fusion uses of an Expression message."""
    return ExpressionInput(stamp_ns=to_ns(msg.header.stamp), labels=tuple(msg.labels),
                           probabilities=tuple(float(p) for p in msg.probabilities), valence=float(msg.valence),
                           arousal=float(msg.arousal), face_id=msg.face_id, source=msg.source)
