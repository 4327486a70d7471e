"""attune/BehaviorCommand <-> attune.behavior.commands.Command (the behaviour node's output, the robot
bridges' input)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PointStamped
from std_msgs.msg import ColorRGBA, Header

from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns

if TYPE_CHECKING:
    from attune.msg import BehaviorCommand


def _f(x: Any) -> float:
    return float(x)


def to_msg(cmd: Command) -> BehaviorCommand:
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


def from_msg(msg: BehaviorCommand) -> Command:
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
