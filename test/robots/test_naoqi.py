"""The NAOqi back end against a virtual NAO: a real libqi service directory with NAOqi-named services
that record calls, in its own process like a robot. Speech with rate and volume, LEDs, speed-limited
gaze, gestures, stop, refused locomotion, missing services, and a reconnect after the virtual robot
restarts."""
from __future__ import annotations

import math

import pytest

from attune.behavior.commands import Action, Command, GazeTarget
from attune.robots.limits import HeadLimits
from attune.robots.naoqi import NaoOptions, NaoqiRobot, speech_text
from test.conftest import wait_for
from test.robots.virtual_nao_process import VirtualNaoProcess

pytest.importorskip('qi')


@pytest.fixture
def nao(tmp_path):
    with VirtualNaoProcess(tmp_path, seconds_per_word=0.1) as robot:
        yield robot


def connect(url: str, **options) -> NaoqiRobot:
    robot = NaoqiRobot(NaoOptions(url=url, reconnect_interval_s=0.2, **options), log=lambda _: None).start()
    assert robot.wait_connected(10), f'no connection to {url}'
    return robot


def test_commands_become_naoqi_calls(nao) -> None:
    robot = connect(nao.url, max_volume=0.6, head=HeadLimits(max_speed=0.1, max_step_rad=math.radians(20)))
    try:
        assert robot.execute(Command(Action.SAY, text='Hello Sam', speech_rate=0.8, volume=0.9)) == ''
        assert wait_for(lambda: nao.calls_to('ALAnimatedSpeech', 'say'), 5)
        assert nao.calls_to('ALTextToSpeech', 'setVolume') == [('ALTextToSpeech', 'setVolume', (0.6,))]  # capped
        assert nao.calls_to('ALAnimatedSpeech', 'say')[0][2] == ('\\rspd=80\\Hello Sam',)
        assert wait_for(lambda: robot.speaking, 2)  # say blocks 0.2 s on the virtual robot
        assert wait_for(lambda: not robot.speaking, 5)

        robot.execute(Command(Action.LED, led_color=(0.25, 0.45, 0.8), duration_s=1.5))
        robot.execute(Command(Action.GESTURE, animation='animations/Stand/Gestures/Hey_1'))
        assert wait_for(lambda: nao.calls_to('ALLeds') and nao.calls_to('ALAnimationPlayer'), 5)
        (led,) = nao.calls_to('ALLeds')
        assert led[2][0] == 'FaceLeds' and led[2][1:] == pytest.approx((0.25, 0.45, 0.8, 1.5))
        assert nao.calls_to('ALAnimationPlayer') == [('ALAnimationPlayer', 'run', ('animations/Stand/Gestures/Hey_1',))]

        # a face far to the right in the camera: the head turns right, at most 20 deg, at the capped speed
        assert robot.execute(Command(Action.GAZE, gaze=GazeTarget(1.0, 0.0, 1.0, 'camera_optical'))) == ''
        (_, _, (names, angles, speed)), = nao.calls_to('ALMotion', 'setAngles')
        assert list(names) == ['HeadYaw', 'HeadPitch'] and speed == pytest.approx(0.1)
        assert angles[0] == pytest.approx(-math.radians(20)) and angles[1] == pytest.approx(0.0)
        # straight ahead in a body frame: back to 0 (within the step limit from -20 deg)
        robot.execute(Command(Action.GAZE, gaze=GazeTarget(1.0, 0.0, 0.0, 'base_link')))
        assert nao.calls_to('ALMotion', 'setAngles')[-1][2][1] == pytest.approx([0.0, 0.0], abs=1e-6)

        assert 'no position' in robot.execute(Command(Action.GAZE, target_id='f1'))
        assert 'locomotion is disabled' in robot.execute(Command(Action.APPROACH, velocity=0.05))
        assert not nao.calls_to('ALMotion', 'move')
        robot.execute(Command(Action.STOP))
        assert [c[:2] for c in nao.calls[-2:]] == [('ALTextToSpeech', 'stopAll'), ('ALMotion', 'stopMove')]
    finally:
        robot.close()


def test_approach_is_clamped_and_stopped(nao) -> None:
    robot = connect(nao.url, allow_locomotion=True, max_linear_speed=0.05, max_approach_duration_s=0.3)
    try:
        assert robot.execute(Command(Action.APPROACH, velocity=0.5, duration_s=5.0)) == ''
        assert nao.calls_to('ALMotion', 'move') == [('ALMotion', 'move', (0.05, 0.0, 0.0))]
        assert wait_for(lambda: nao.calls_to('ALMotion', 'stopMove'), 3)  # after at most 0.3 s
    finally:
        robot.close()


def test_missing_services_are_named_and_their_actions_refused(tmp_path) -> None:
    with VirtualNaoProcess(tmp_path, services=('ALTextToSpeech', 'ALMotion')) as nao:
        robot = connect(nao.url)
        try:
            assert set(robot.missing) == {'ALAnimatedSpeech', 'ALLeds', 'ALAnimationPlayer'}
            assert 'ALLeds is not available' in robot.execute(Command(Action.LED))
            assert robot.execute(Command(Action.SAY, text='hi')) == ''  # falls back to ALTextToSpeech
            assert wait_for(lambda: nao.calls_to('ALTextToSpeech', 'say'), 5)
        finally:
            robot.close()


def test_reconnects_after_the_robot_restarts(tmp_path) -> None:
    first = VirtualNaoProcess(tmp_path).start()
    url = first.url
    robot = connect(url)
    try:
        assert robot.execute(Command(Action.SAY, text='one')) == ''
        assert wait_for(lambda: first.calls_to('ALAnimatedSpeech', 'say'), 5)
        first.stop()  # the robot reboots: the session drops
        assert wait_for(lambda: not robot.connected, 5)
        assert 'not connected' in robot.execute(Command(Action.SAY, text='lost'))
        with VirtualNaoProcess(tmp_path, url) as second:  # back at the same address
            assert robot.wait_connected(10)
            assert robot.connections == 2
            assert robot.execute(Command(Action.SAY, text='two')) == ''
            assert wait_for(lambda: second.calls_to('ALAnimatedSpeech', 'say'), 5)
            assert second.calls_to('ALAnimatedSpeech', 'say')[0][2] == (speech_text('two', 1.0),)
        assert [c[2] for c in first.calls_to('ALAnimatedSpeech', 'say')] == [(speech_text('one', 1.0),)]
    finally:
        robot.close()
        first.stop()


def test_unreachable_robot_is_retried_without_blocking() -> None:
    robot = NaoqiRobot(NaoOptions(url='tcp://127.0.0.1:1', reconnect_interval_s=0.1, connect_timeout_s=0.5),
                       log=lambda _: None).start()
    try:
        assert not robot.wait_connected(0.5)
        assert 'not connected' in robot.execute(Command(Action.SAY, text='hello'))
    finally:
        robot.close()
