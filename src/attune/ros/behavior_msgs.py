"""attune's behaviour messages <-> the ROS-free types of attune.behavior (plain functions, no spinning).

Faces/Expression/AffectState/Sign -> fusion observations; PersonState <-> InteractionState;
Command <-> BehaviorCommand. (InteractionEvent: attune.ros.interaction_event_msgs.)
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PointStamped
from std_msgs.msg import ColorRGBA, Header

from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.behavior.fusion import Contribution, Identity, PersonState
from attune.behavior.ratings import Rating
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns

if TYPE_CHECKING:
    from attune.msg import (
        BehaviorCommand,
        InteractionState,
        SessionRating,
    )


def _f(x: Any) -> float:
    return float(x)


def state_to_msg(state: PersonState, frame_id: str = '') -> InteractionState:
    msgs = attune_msgs()
    out: InteractionState = msgs.InteractionState(
        header=Header(stamp=from_ns(state.stamp_ns, Time), frame_id=frame_id), person_id=state.person_id,
        present=state.present, attention=state.attention, engagement=state.engagement, valence=state.valence,
        arousal=state.arousal, distress=state.distress, robot_speaking=state.robot_speaking, summary=state.summary)
    out.contributions = [msgs.ModalityContribution(modality=c.modality, source=c.source, quantity=c.quantity,
                                                   value=c.value, weight=c.weight, age_s=c.age_s, detail=c.detail)
                         for c in state.contributions]
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


def state_from_msg(msg: InteractionState) -> PersonState:
    """An InteractionState as a PersonState (the round trip of state_to_msg, less the trends)."""
    contributions = tuple(Contribution(c.modality, c.source, c.quantity, _f(c.value), _f(c.weight), _f(c.age_s),
                                       c.detail)
                          for c in msg.contributions)
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


def command_to_msg(cmd: Command) -> BehaviorCommand:
    msgs = attune_msgs()
    out: BehaviorCommand = msgs.BehaviorCommand(
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


def command_from_msg(msg: BehaviorCommand) -> Command:
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


def rating_from_msg(msg: SessionRating, t: float | None = None, rated_at: str = '') -> Rating:
    """An attune/SessionRating as a Rating (NOT_RATED = 0 -> None); `t` = seconds into the session.

    Raises:
        RatingError: a value outside 1-7, or a rating with nothing rated and no note.
    """
    return Rating(engagement=int(msg.engagement) or None, comfort=int(msg.comfort) or None, note=msg.note,
                  rater=msg.rater, t=t, rated_at=rated_at, source='topic')
