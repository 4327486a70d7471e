"""Hard safety limits and the geometry bridges share (no rclpy, no qi).

Gaze targets (attune.behavior.GazeTarget) come in two kinds of frame:
* a camera optical frame (x right, y down, z forward), e.g. the Faces header's frame: the head turns
  by the angle to the point, relative to where it looks now;
* a body frame (BODY_FRAMES: x forward, y left, z up), taken as centred at the head: absolute angles.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from attune.behavior.commands import GazeTarget

BODY_FRAMES = ('base_link', 'base_footprint', 'torso', 'body', 'Torso')


def is_body_frame(frame: str) -> bool:
    return frame in BODY_FRAMES


def clamp(value: float, lo: float, hi: float) -> float:
    """value limited to [lo, hi]; NaN and infinities become the bound nearest 0 (a safe stop)."""
    if not math.isfinite(value):
        return min(max(0.0, lo), hi)
    return min(hi, max(lo, value))


def clamp_speed(value: float, limit: float) -> float:
    """A signed speed within [-limit, limit]; NaN -> 0."""
    return clamp(value, -abs(limit), abs(limit))


@dataclass(frozen=True)
class HeadLimits:
    """NAO head joint limits (rad) and the bridge's hard motion limits.

    max_speed: fraction of the joints' maximum speed (ALMotion fractionMaxSpeed), hard cap.
    max_step_rad: the largest change of either joint per GAZE command (no sudden head moves).
    """

    yaw: tuple[float, float] = (-2.0857, 2.0857)
    pitch: tuple[float, float] = (-0.6720, 0.5149)
    max_speed: float = 0.15
    max_step_rad: float = math.radians(30.0)


def gaze_angles(target: GazeTarget, current_yaw: float, current_pitch: float) -> tuple[float, float]:
    """Desired (HeadYaw, HeadPitch) in rad for a target, before limits (NAO conventions: yaw > 0 turns
    left, pitch > 0 looks down)."""
    if is_body_frame(target.frame):
        yaw = math.atan2(target.y, target.x)
        pitch = math.atan2(-target.z, math.hypot(target.x, target.y))
        return yaw, pitch
    # camera optical frame: relative to the current head direction
    if target.z <= 0:
        raise ValueError(f'gaze point ({target.x:.2f}, {target.y:.2f}, {target.z:.2f}) is behind the camera')
    return current_yaw - math.atan2(target.x, target.z), current_pitch + math.atan2(target.y, target.z)


def limited_head_move(target: GazeTarget, current: tuple[float, float], limits: HeadLimits
                      ) -> tuple[float, float]:
    """(yaw, pitch) to command: the gaze angles, at most max_step_rad away from `current` per joint,
    within the joint limits.

    Raises:
        ValueError: the target is not finite, or behind the camera.
    """
    if not target.is_finite():
        raise ValueError('gaze point is not finite')
    yaw, pitch = gaze_angles(target, *current)
    step = limits.max_step_rad
    yaw = clamp(yaw, current[0] - step, current[0] + step)
    pitch = clamp(pitch, current[1] - step, current[1] + step)
    return clamp(yaw, *limits.yaw), clamp(pitch, *limits.pitch)


def relative_head_move(target: GazeTarget, limits: HeadLimits) -> tuple[float, float]:
    """(d_yaw, d_pitch) for a camera-frame target when the current angles are unknown (relative
    joint commands): the angle to the point, each limited to max_step_rad."""
    if not target.is_finite():
        raise ValueError('gaze point is not finite')
    d_yaw, d_pitch = gaze_angles(target, 0.0, 0.0)
    step = limits.max_step_rad
    return clamp(d_yaw, -step, step), clamp(d_pitch, -step, step)


@dataclass
class SpeechTimer:
    """Estimates when speech ends for robots that do not report it: words / (words_per_s * rate),
    plus a fixed margin. speaking(now) is true until then."""

    words_per_s: float = 2.5
    margin_s: float = 0.3
    until: float = -math.inf

    def start(self, text: str, rate: float, now: float) -> float:
        words = max(1, len(text.split()))
        rate = rate if math.isfinite(rate) and rate > 0 else 1.0
        duration = words / (self.words_per_s * rate) + self.margin_s
        self.until = max(self.until, now) + duration  # a robot queues utterances
        return duration

    def stop(self) -> None:
        self.until = -math.inf

    def speaking(self, now: float) -> bool:
        return now < self.until
