"""NAO through naoqi_driver2 topics (for sites that run the driver): what each command becomes.

    SAY, NAME_CALL  /speech std_msgs/String: the text with NAOqi's speed tag (naoqi_driver2 passes
                    it to ALTextToSpeech.say; volume is not settable through the driver)
    GAZE            /joint_angles naoqi_bridge_msgs/JointAnglesWithSpeed (when that package is
                    importable): camera-frame targets as relative HeadYaw/HeadPitch changes, body-frame
                    targets as absolute angles, speed = HeadLimits.max_speed
    APPROACH        /cmd_vel geometry_msgs/Twist, if allow_locomotion (clamped, then zero)
    STOP            zero /cmd_vel
    LED, GESTURE    unavailable through naoqi_driver2 (use backend:=naoqi)
"""
from __future__ import annotations

from dataclasses import dataclass

from attune.behavior.commands import Action, Command
from attune.robots.limits import HeadLimits, clamp, clamp_speed, gaze_angles, is_body_frame, relative_head_move
from attune.robots.naoqi import speech_text

UNAVAILABLE = {Action.LED: 'LED colours are not available through naoqi_driver2 (use backend:=naoqi)',
               Action.GESTURE: 'gestures are not available through naoqi_driver2 (use backend:=naoqi)'}


@dataclass(frozen=True)
class HeadMove:
    """JointAnglesWithSpeed fields."""

    joint_names: tuple[str, ...]
    joint_angles: tuple[float, ...]
    speed: float
    relative: bool


@dataclass(frozen=True)
class Driver2Plan:
    speech: str | None = None
    head: HeadMove | None = None
    velocity: float | None = None
    duration_s: float = 0.0
    stop: bool = False
    problem: str = ''


def plan(cmd: Command, head: HeadLimits, *, allow_locomotion: bool = False, max_linear_speed: float = 0.05,
         max_duration_s: float = 2.0) -> Driver2Plan:
    a = cmd.action
    if a in (Action.SAY, Action.NAME_CALL):
        return Driver2Plan(speech=speech_text(cmd.text, cmd.speech_rate))
    if a in UNAVAILABLE:
        return Driver2Plan(problem=UNAVAILABLE[a])
    if a == Action.GAZE:
        if cmd.gaze is None:
            return Driver2Plan(problem=f'no position known for {cmd.target_id or "the gaze target"}')
        try:
            if is_body_frame(cmd.gaze.frame):
                yaw, pitch = gaze_angles(cmd.gaze, 0.0, 0.0)
                angles = (clamp(yaw, *head.yaw), clamp(pitch, *head.pitch))
                relative = False
            else:
                angles = relative_head_move(cmd.gaze, head)
                relative = True
        except ValueError as exc:
            return Driver2Plan(problem=str(exc))
        return Driver2Plan(head=HeadMove(('HeadYaw', 'HeadPitch'), angles, head.max_speed, relative))
    if a == Action.APPROACH:
        if not allow_locomotion:
            return Driver2Plan(problem='locomotion is disabled (allow_locomotion is false)')
        return Driver2Plan(velocity=clamp_speed(cmd.velocity, max_linear_speed),
                           duration_s=clamp(cmd.duration_s if cmd.duration_s > 0 else 1.0, 0.0, max_duration_s))
    if a == Action.STOP:
        return Driver2Plan(stop=True)
    return Driver2Plan()
