"""What the behaviour policy asks a robot to do: `Command`, the ROS-free twin of attune/BehaviorCommand.

The enum values equal the message constants (BehaviorCommand.SAY == Action.SAY), so conversion is a
field copy (attune.ros.msg_behavior_command). Bridges (attune.robots) execute Commands.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Action(IntEnum):
    """BehaviorCommand.action."""

    SAY = 0
    GESTURE = 1
    LED = 2
    GAZE = 3
    PAUSE = 4
    RESUME = 5
    STOP = 6
    NAME_CALL = 7
    APPROACH = 8

    @property
    def key(self) -> str:
        """The lower-case name used in policy files ('say', 'name_call', ...)."""
        return self.name.lower()


class Priority(IntEnum):
    """BehaviorCommand.priority."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    SAFETY = 3


@dataclass(frozen=True)
class GazeTarget:
    """A point to look at, in `frame` (camera optical frame: x right, y down, z forward; body frames
    such as base_link/torso: x forward, y left, z up)."""

    x: float
    y: float
    z: float
    frame: str = ''

    def is_finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.x, self.y, self.z))


@dataclass(frozen=True)
class Command:
    """One command to a robot, with the rule that issued it and the reason in words.

    Attributes:
        action: what to do.
        priority: the issuing rule's priority.
        target_id: the person (face track id) concerned, '' for none.
        text: SAY / NAME_CALL: what to say.
        speech_rate: relative to the robot's normal rate (1.0 normal, 0.5 half speed).
        volume: in [0, 1].
        animation: GESTURE: robot-specific animation name.
        led_color: LED: (r, g, b) in [0, 1].
        gaze: GAZE: the point to look at (None: the face `target_id`, resolved by the issuer).
        velocity: APPROACH: signed speed toward the person, m/s (bridges clamp it).
        duration_s: PAUSE / LED / GESTURE / APPROACH: seconds (0 = robot default).
        rule: the policy rule that issued the command.
        reason: why, in words.
        stamp_ns: when it was issued (node clock).
    """

    action: Action
    priority: Priority = Priority.NORMAL
    target_id: str = ''
    text: str = ''
    speech_rate: float = 1.0
    volume: float = 0.5
    animation: str = ''
    led_color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gaze: GazeTarget | None = None
    velocity: float = 0.0
    duration_s: float = 0.0
    rule: str = ''
    reason: str = ''
    stamp_ns: int = 0

    def describe(self) -> str:
        """A short human-readable form, e.g. "SAY 'Hello' (rate 0.8, volume 0.4)"."""
        a = self.action
        if a in (Action.SAY, Action.NAME_CALL):
            return f'{a.name} {self.text!r} (rate {self.speech_rate:g}, volume {self.volume:g})'
        if a == Action.GESTURE:
            return f'GESTURE {self.animation}'
        if a == Action.LED:
            r, g, b = self.led_color
            return f'LED ({r:.2f}, {g:.2f}, {b:.2f}) over {self.duration_s:g} s'
        if a == Action.GAZE:
            if self.gaze is None:
                return f'GAZE at {self.target_id or "?"}'
            return f'GAZE ({self.gaze.x:.2f}, {self.gaze.y:.2f}, {self.gaze.z:.2f}) in {self.gaze.frame or "?"}'
        if a == Action.PAUSE:
            return f'PAUSE {self.duration_s:g} s'
        if a == Action.APPROACH:
            return f'APPROACH {self.velocity:+.2f} m/s for {self.duration_s:g} s'
        return a.name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (session log)."""
        out: dict[str, Any] = {'action': self.action.name, 'priority': self.priority.name, 'target_id': self.target_id,
                     'rule': self.rule, 'reason': self.reason}
        a = self.action
        if a in (Action.SAY, Action.NAME_CALL):
            out.update(text=self.text, speech_rate=self.speech_rate, volume=self.volume)
        elif a == Action.GESTURE:
            out.update(animation=self.animation, duration_s=self.duration_s)
        elif a == Action.LED:
            out.update(led_color=list(self.led_color), duration_s=self.duration_s)
        elif a == Action.GAZE and self.gaze is not None:
            out.update(gaze=[self.gaze.x, self.gaze.y, self.gaze.z], frame=self.gaze.frame)
        elif a == Action.PAUSE:
            out.update(duration_s=self.duration_s)
        elif a == Action.APPROACH:
            out.update(velocity=self.velocity, duration_s=self.duration_s)
        return out
