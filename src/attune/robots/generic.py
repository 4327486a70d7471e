"""Any ROS 2 robot through plain topics: what each command becomes, within hard limits.

    SAY, NAME_CALL  speech: std_msgs/String (the text)
    GESTURE         gesture: std_msgs/String (the animation name)
    LED             led: std_msgs/ColorRGBA (r, g, b, a=1)
    GAZE            gaze: geometry_msgs/PointStamped (the target as given; the robot resolves frames)
    APPROACH        velocity: geometry_msgs/Twist, linear.x = velocity clamped to max_linear_speed,
                    republished at the node's rate for duration_s (at most max_duration_s), then zero
    STOP            velocity zero now, speech estimate ends
    PAUSE, RESUME   nothing on the robot
The node (attune.nodes.generic_bridge_node) publishes the Outputs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from attune.behavior.commands import Action, Command
from attune.robots.limits import SpeechTimer, clamp, clamp_speed


@dataclass(frozen=True)
class GenericLimits:
    max_linear_speed: float = 0.1
    max_duration_s: float = 2.0


@dataclass(frozen=True)
class Output:
    """One thing to publish: channel (speech, gesture, led, gaze, velocity, stop) and its value."""

    channel: str
    value: Any = None
    duration_s: float = 0.0


def plan(cmd: Command, limits: GenericLimits) -> tuple[list[Output], str]:
    """What to publish for a command, and why not ('' when something is published)."""
    a = cmd.action
    if a in (Action.SAY, Action.NAME_CALL):
        return [Output('speech', cmd.text)], ''
    if a == Action.GESTURE:
        return [Output('gesture', cmd.animation)], ''
    if a == Action.LED:
        r, g, b = (clamp(c, 0.0, 1.0) for c in cmd.led_color)
        return [Output('led', (r, g, b, 1.0))], ''
    if a == Action.GAZE:
        if cmd.gaze is None or not cmd.gaze.is_finite():
            return [], f'no position known for {cmd.target_id or "the gaze target"}'
        return [Output('gaze', cmd.gaze)], ''
    if a == Action.APPROACH:
        v = clamp_speed(cmd.velocity, limits.max_linear_speed)
        duration = clamp(cmd.duration_s if cmd.duration_s > 0 else 1.0, 0.0, limits.max_duration_s)
        return [Output('velocity', v, duration)], ''
    if a == Action.STOP:
        return [Output('stop')], ''
    return [], ''


@dataclass
class VelocityHold:
    """The twist to publish now: `speed` until `until`, then zero (a watchdog for the velocity topic)."""

    speed: float = 0.0
    until: float = -math.inf

    def set(self, speed: float, duration_s: float, now: float) -> None:
        self.speed, self.until = speed, now + duration_s

    def stop(self) -> None:
        self.speed, self.until = 0.0, -math.inf

    def current(self, now: float) -> float:
        return self.speed if now < self.until else 0.0

    def active(self, now: float) -> bool:
        return now < self.until


__all__ = ['GenericLimits', 'Output', 'SpeechTimer', 'VelocityHold', 'plan']
