"""attune/Sign <-> attune.sign.events.SignEvent, and the interaction fusion's view of a Sign
(attune.behavior.state.SignObservation: who signed what, how sure)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from builtin_interfaces.msg import Time

from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns
from attune.sign.events import SignEvent

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.behavior.state import SignObservation
    from attune.msg import Sign


def to_msg(event: SignEvent, header: Header) -> Sign:
    """A Sign message for `event`; `header` is the header of the frame the decision was made at."""
    msgs = attune_msgs()
    sign: Sign = msgs.Sign(
        header=header, mode=msgs.Sign.ISOLATED if event.mode == 'isolated' else msgs.Sign.CONTINUOUS,
        gloss=event.gloss, confidence=float(event.confidence),
        top_glosses=[g for g, _ in event.top], top_scores=[float(s) for _, s in event.top],
        sequence=list(event.sequence), start=from_ns(event.start_ns, Time), end=from_ns(event.end_ns, Time),
        handedness=event.handedness, face_id=event.face_id, source=event.source)
    return sign


def from_msg(msg: Sign) -> SignEvent:
    """The SignEvent of a Sign message (stamp_ns: the header's)."""
    return SignEvent(mode='isolated' if msg.mode == 0 else 'continuous', gloss=msg.gloss,
                     confidence=float(msg.confidence),
                     top=tuple(zip(msg.top_glosses, (float(s) for s in msg.top_scores))),
                     start_ns=to_ns(msg.start), end_ns=to_ns(msg.end), stamp_ns=to_ns(msg.header.stamp),
                     handedness=msg.handedness, sequence=tuple(msg.sequence), source=msg.source,
                     face_id=msg.face_id)


def fusion_input(msg: Sign) -> SignObservation:
    """The sign as the interaction fusion takes it."""
    # Imported here: the behaviour layer is the interaction node's, not the sign node's, to load.
    from attune.behavior.state import SignObservation

    return SignObservation(face_id=msg.face_id, gloss=msg.gloss, confidence=float(msg.confidence), source=msg.source)
