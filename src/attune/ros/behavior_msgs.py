"""attune's behaviour messages <-> the ROS-free types of attune.behavior (plain functions, no spinning).

Faces/Expression/AffectState/Sign -> fusion inputs; PersonState <-> InteractionState;
Command <-> BehaviorCommand; AffectState protocol fields -> ProtocolResult.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PointStamped
from std_msgs.msg import ColorRGBA, Header

from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.behavior.engine import PROTOCOL_STATUS, ProtocolResult, SignEvent
from attune.behavior.fusion import (
    AffectInput,
    Contribution,
    ExpressionInput,
    FaceInput,
    PersonState,
    SignInput,
)
from attune.behavior.ratings import Rating
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns


def _f(x: Any) -> float:
    return float(x)


def face_inputs(msg: Any) -> list[FaceInput]:
    """The faces of an attune/Faces message (head pose only when pose_valid)."""
    out = []
    for face in msg.faces:
        valid = bool(face.pose_valid)
        out.append(FaceInput(id=face.id, yaw=_f(face.yaw) if valid else math.nan,
                             pitch=_f(face.pitch) if valid else math.nan,
                             confidence=_f(face.detection_confidence)))
    return out


def expression_input(msg: Any) -> ExpressionInput:
    return ExpressionInput(face_id=msg.face_id, source=msg.source, label=msg.label, confidence=_f(msg.confidence),
                           labels=tuple(msg.labels), probabilities=tuple(float(p) for p in msg.probabilities),
                           valence=_f(msg.valence), arousal=_f(msg.arousal))


def affect_input(msg: Any) -> AffectInput:
    return AffectInput(face_id=msg.face_id, source=msg.source, emotions=tuple(msg.emotions),
                       probabilities=tuple(float(p) for p in msg.probabilities), dominant=msg.dominant_emotion,
                       valence=_f(msg.valence), arousal=_f(msg.arousal), engagement=_f(msg.engagement))


def sign_input(msg: Any) -> SignInput:
    return SignInput(face_id=msg.face_id, gloss=msg.gloss, confidence=_f(msg.confidence), source=msg.source)


def contribution_detail(kind: str, msg: Any) -> tuple[str, str, str] | None:
    """(person, source, words) describing an Expression / AffectState / Sign, as the fusion's summary
    does ('happy 0.90', the dominant emotion, 'hello 0.92'); None when there is nothing to say."""
    if kind == 'expression' and msg.label:
        return msg.face_id, msg.source, f'{msg.label} {float(msg.confidence):.2f}'
    if kind == 'affect' and msg.dominant_emotion:
        return msg.face_id, msg.source, msg.dominant_emotion
    if kind == 'sign' and msg.gloss:
        return msg.face_id, msg.source or 'sign', f'{msg.gloss} {float(msg.confidence):.2f}'
    return None


def sign_event(msg: Any, person_id: str) -> SignEvent:
    sequence = tuple(msg.sequence) if msg.mode == msg.CONTINUOUS else ()
    return SignEvent(person_id=person_id, gloss=msg.gloss, confidence=_f(msg.confidence), source=msg.source,
                     stamp_ns=to_ns(msg.header.stamp), sequence=sequence)


def protocol_result(msg: Any) -> ProtocolResult | None:
    """The protocol outcome carried by an AffectState, None when it carries none (PROTOCOL_NONE)."""
    status = PROTOCOL_STATUS.get(int(msg.protocol_status), 'none')
    if status == 'none':
        return None
    return ProtocolResult(person_id=msg.face_id, name=msg.protocol, status=status,
                          latency_s=_f(msg.response_latency_s), head_turn_deg=_f(msg.head_turn_deg),
                          emotion=msg.response_emotion, valence=_f(msg.response_valence),
                          stamp_ns=to_ns(msg.stimulus_stamp))


def state_to_msg(state: PersonState, frame_id: str = '') -> Any:
    msgs = attune_msgs()
    out = msgs.InteractionState(
        header=Header(stamp=from_ns(state.stamp_ns, Time), frame_id=frame_id), person_id=state.person_id,
        present=state.present, attention=state.attention, engagement=state.engagement, valence=state.valence,
        arousal=state.arousal, distress=state.distress, robot_speaking=state.robot_speaking, summary=state.summary)
    out.contributions = [msgs.ModalityContribution(modality=c.modality, source=c.source, quantity=c.quantity,
                                                   value=c.value, weight=c.weight, age_s=c.age_s)
                         for c in state.contributions]
    return out


def state_from_msg(msg: Any, details: Mapping[tuple[str, str], str] | None = None) -> PersonState:
    """An InteractionState as a PersonState. `details` ({(modality, source): 'happy 0.90'}) restores
    the words behind each contribution, which the message does not carry (for explanations)."""
    details = details or {}
    contributions = tuple(Contribution(c.modality, c.source, c.quantity, _f(c.value), _f(c.weight), _f(c.age_s),
                                       details.get((c.modality, c.source), ''))
                          for c in msg.contributions)
    return PersonState(person_id=msg.person_id, stamp_ns=to_ns(msg.header.stamp), present=bool(msg.present),
                       attention=_f(msg.attention), engagement=_f(msg.engagement), valence=_f(msg.valence),
                       arousal=_f(msg.arousal), distress=_f(msg.distress), contributions=contributions,
                       robot_speaking=bool(msg.robot_speaking), summary=msg.summary)


def command_to_msg(cmd: Command) -> Any:
    msgs = attune_msgs()
    out = msgs.BehaviorCommand(
        header=Header(stamp=from_ns(cmd.stamp_ns, Time)), action=int(cmd.action), priority=int(cmd.priority),
        target_id=cmd.target_id, text=cmd.text, speech_rate=cmd.speech_rate, volume=cmd.volume,
        animation=cmd.animation, velocity=cmd.velocity, duration_s=cmd.duration_s, rule=cmd.rule, reason=cmd.reason)
    r, g, b = cmd.led_color
    out.led_color = ColorRGBA(r=float(r), g=float(g), b=float(b), a=1.0)
    if cmd.gaze is not None:
        point = PointStamped(header=Header(stamp=from_ns(cmd.stamp_ns, Time), frame_id=cmd.gaze.frame))
        point.point.x, point.point.y, point.point.z = float(cmd.gaze.x), float(cmd.gaze.y), float(cmd.gaze.z)
        out.gaze_target = point
    return out


def command_from_msg(msg: Any) -> Command:
    """A BehaviorCommand as a Command.

    Raises:
        ValueError: the action or priority is not one BehaviorCommand defines.
    """
    try:
        action = Action(int(msg.action))
    except ValueError:
        raise ValueError(f'unknown BehaviorCommand action {msg.action}') from None
    try:
        priority = Priority(int(msg.priority))
    except ValueError:
        raise ValueError(f'unknown BehaviorCommand priority {msg.priority}') from None
    gaze = None
    g = msg.gaze_target
    if g.header.frame_id:
        gaze = GazeTarget(_f(g.point.x), _f(g.point.y), _f(g.point.z), g.header.frame_id)
    return Command(action=action, priority=priority, target_id=msg.target_id, text=msg.text,
                   speech_rate=_f(msg.speech_rate), volume=_f(msg.volume), animation=msg.animation,
                   led_color=(_f(msg.led_color.r), _f(msg.led_color.g), _f(msg.led_color.b)), gaze=gaze,
                   velocity=_f(msg.velocity), duration_s=_f(msg.duration_s), rule=msg.rule, reason=msg.reason,
                   stamp_ns=to_ns(msg.header.stamp))


def rating_from_msg(msg: Any, t: float | None = None, rated_at: str = '') -> Rating:
    """An attune/SessionRating as a Rating (NOT_RATED = 0 -> None); `t` = seconds into the session.

    Raises:
        RatingError: a value outside 1-7, or a rating with nothing rated and no note.
    """
    return Rating(engagement=int(msg.engagement) or None, comfort=int(msg.comfort) or None, note=msg.note,
                  rater=msg.rater, t=t, rated_at=rated_at, source='topic')
