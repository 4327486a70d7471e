"""attune/InteractionState <-> attune.behavior.state.PersonState (and its sub-message
attune/ModalityContribution <-> Contribution)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from attune.behavior.state import Contribution, Identity, PersonState
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns

if TYPE_CHECKING:
    from attune.msg import InteractionState, ModalityContribution


def _f(x: Any) -> float:
    return float(x)


def contribution_to_msg(c: Contribution) -> ModalityContribution:
    msg: ModalityContribution = attune_msgs().ModalityContribution(
        modality=c.modality, source=c.source, quantity=c.quantity, value=c.value, weight=c.weight, age_s=c.age_s,
        detail=c.detail)
    return msg


def contribution_from_msg(c: ModalityContribution) -> Contribution:
    return Contribution(c.modality, c.source, c.quantity, _f(c.value), _f(c.weight), _f(c.age_s), c.detail)


def to_msg(state: PersonState, frame_id: str = '') -> InteractionState:
    """The InteractionState of `state`, stamped with the newest input behind it (the trends stay out)."""
    out: InteractionState = attune_msgs().InteractionState(
        header=Header(stamp=from_ns(state.stamp_ns, Time), frame_id=frame_id), person_id=state.person_id,
        present=state.present, attention=state.attention, engagement=state.engagement, valence=state.valence,
        arousal=state.arousal, distress=state.distress, robot_speaking=state.robot_speaking, summary=state.summary)
    out.contributions = [contribution_to_msg(c) for c in state.contributions]
    x, y, z = state.face_position if state.face_position is not None else (math.nan,) * 3
    out.face_position.x, out.face_position.y, out.face_position.z = float(x), float(y), float(z)
    who = state.identity
    out.identified = who is not None
    out.identity_confidence = who.confidence if who is not None else math.nan
    if who is not None and who.known:
        out.known, out.enrolled_person_id, out.person_name = True, who.person_id, who.name
    out.participant = bool(who is not None and who.participant)
    out.participant_bound = bool(state.participant_bound)
    out.stream_trust, out.stream_live = float(state.stream_trust), bool(state.stream_live)
    return out


def from_msg(msg: InteractionState) -> PersonState:
    """An InteractionState as a PersonState (the round trip of to_msg, less the trends)."""
    contributions = tuple(contribution_from_msg(c) for c in msg.contributions)
    p = msg.face_position
    position = (_f(p.x), _f(p.y), _f(p.z)) if math.isfinite(p.z) else None
    identity = None
    if msg.identified:
        identity = Identity(person_id=msg.enrolled_person_id, name=msg.person_name, known=bool(msg.known),
                            confidence=_f(msg.identity_confidence), participant=bool(msg.participant))
    return PersonState(person_id=msg.person_id, stamp_ns=to_ns(msg.header.stamp), present=bool(msg.present),
                       attention=_f(msg.attention), engagement=_f(msg.engagement), valence=_f(msg.valence),
                       arousal=_f(msg.arousal), distress=_f(msg.distress), contributions=contributions,
                       robot_speaking=bool(msg.robot_speaking), summary=msg.summary, face_position=position,
                       identity=identity, stream_trust=_f(msg.stream_trust), stream_live=bool(msg.stream_live),
                       participant_bound=bool(msg.participant_bound))
