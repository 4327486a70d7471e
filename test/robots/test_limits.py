"""Hard limits and planning of the topic back ends (generic, naoqi_driver2) and the simulated robot."""
from __future__ import annotations

import math

import pytest

from attune.behavior.commands import Action, Command, GazeTarget
from attune.robots import driver2, generic
from attune.robots.limits import HeadLimits, SpeechTimer, clamp_speed, limited_head_move
from attune.robots.sim import SimulatedRobot


def test_speed_clamps_and_non_finite_speeds_stop() -> None:
    assert clamp_speed(0.5, 0.1) == 0.1 and clamp_speed(-0.5, 0.1) == -0.1 and clamp_speed(0.05, 0.1) == 0.05
    assert clamp_speed(math.nan, 0.1) == 0.0 and clamp_speed(math.inf, 0.1) == 0.0


def test_head_moves_are_limited_per_command_and_to_the_joints() -> None:
    limits = HeadLimits(max_step_rad=math.radians(10))
    yaw, pitch = limited_head_move(GazeTarget(0.0, 1.0, 1.0, 'cam'), (0.0, 0.0), limits)  # 45 deg down
    assert (yaw, pitch) == (0.0, pytest.approx(math.radians(10)))
    yaw, pitch = limited_head_move(GazeTarget(0.0, 0.0, -1.0, 'torso'), (0.0, 0.5), limits)  # straight down
    assert pitch == pytest.approx(limits.pitch[1])  # within the joint limit
    with pytest.raises(ValueError, match='behind the camera'):
        limited_head_move(GazeTarget(0.0, 0.0, -1.0, 'cam'), (0.0, 0.0), limits)
    with pytest.raises(ValueError, match='not finite'):
        limited_head_move(GazeTarget(math.nan, 0.0, 1.0, 'cam'), (0.0, 0.0), limits)


def test_generic_plan() -> None:
    limits = generic.GenericLimits(max_linear_speed=0.1, max_duration_s=2.0)
    (out,), _ = generic.plan(Command(Action.APPROACH, velocity=-0.7, duration_s=9.0), limits)
    assert (out.channel, out.value, out.duration_s) == ('velocity', -0.1, 2.0)
    (out,), _ = generic.plan(Command(Action.LED, led_color=(2.0, 0.5, -1.0)), limits)
    assert out.value == (1.0, 0.5, 0.0, 1.0)
    outputs, problem = generic.plan(Command(Action.GAZE, target_id='f1'), limits)
    assert outputs == [] and 'f1' in problem
    hold = generic.VelocityHold()
    hold.set(0.1, 1.0, now=5.0)
    assert hold.current(5.5) == 0.1 and hold.current(6.0) == 0.0


def test_driver2_plan() -> None:
    head = HeadLimits(max_speed=0.1, max_step_rad=math.radians(20))
    p = driver2.plan(Command(Action.SAY, text='hi', speech_rate=0.8), head)
    assert p.speech == '\\rspd=80\\hi'
    p = driver2.plan(Command(Action.GAZE, gaze=GazeTarget(1.0, 0.0, 1.0, 'cam')), head)
    assert p.head.relative and p.head.joint_angles == (pytest.approx(-math.radians(20)), 0.0)
    assert p.head.speed == 0.1
    p = driver2.plan(Command(Action.GAZE, gaze=GazeTarget(1.0, 1.0, 0.0, 'base_link')), head)
    assert not p.head.relative and p.head.joint_angles[0] == pytest.approx(math.pi / 4)
    assert 'not available through naoqi_driver2' in driver2.plan(Command(Action.LED), head).problem
    assert 'locomotion is disabled' in driver2.plan(Command(Action.APPROACH, velocity=0.1), head).problem
    p = driver2.plan(Command(Action.APPROACH, velocity=0.3), head, allow_locomotion=True, max_linear_speed=0.05)
    assert p.velocity == 0.05


def test_speech_timer_and_sim_robot() -> None:
    timer = SpeechTimer(words_per_s=2.0, margin_s=0.0)
    assert timer.start('one two three four', 1.0, now=0.0) == 2.0
    assert timer.start('five six', 0.5, now=1.0) == 2.0  # queued behind the first utterance
    assert timer.speaking(3.9) and not timer.speaking(4.0)
    sim = SimulatedRobot(speech=SpeechTimer(words_per_s=2.0, margin_s=0.0))
    line = sim.execute(Command(Action.SAY, text='hello there', rule='greet'), 10.0)
    assert line.startswith("SAY: says 'hello there'") and line.endswith('[greet]')
    assert sim.speaking(10.5) and not sim.speaking(11.0)
    sim.execute(Command(Action.SAY, text='a b c d'), 20.0)
    sim.execute(Command(Action.STOP), 20.1)
    assert not sim.speaking(20.2)
    assert 'moves at +0.10 m/s' in sim.execute(Command(Action.APPROACH, velocity=0.9), 30.0)
