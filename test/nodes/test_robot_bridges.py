"""The robot bridges through real rclpy and Fast DDS: the generic bridge keeps its hard limits and
stamps its speaking state, the simulated robot reports speaking and idle, and the NAO bridge's
naoqi_driver2 backend says what it cannot do. (The NAO bridge on a virtual NAO is exercised in
test_behavior_nodes.py's scenarios.)"""
from __future__ import annotations

import pytest
import rclpy
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PointStamped, Twist
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import ColorRGBA, String

from attune.behavior.commands import Action, Command, GazeTarget
from attune.nodes.generic_bridge_node import GenericBridgeNode
from attune.nodes.nao_bridge_node import NaoBridgeNode
from attune.nodes.sim_robot_node import SimRobotNode
from attune.ros import msg_behavior_command, qos
from attune.ros.stamps import from_ns, to_ns
from test.conftest import ROSOUT_QOS, ros_cli, ros_params, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
#: The robot's speaking state, read as the interaction node reads it (depth 10: a short speech's two edges).
LATCHED = qos.LATCHED_CHANGES




def test_generic_bridge_publishes_within_hard_limits(spinner) -> None:
    from attune.msg import BehaviorCommand, RobotSpeaking

    spinner.add(GenericBridgeNode(parameter_overrides=ros_params(max_linear_speed=0.1, max_approach_duration_s=0.5,
                                                             words_per_s=10.0), cli_args=ros_cli('generic_test')))
    node = spinner.add(rclpy.create_node('probe_generic'))
    got: dict[str, list] = {'speech': [], 'led': [], 'gaze': [], 'twist': [], 'speaking': []}
    node.create_subscription(String, '/robot/speech', got['speech'].append, RELIABLE)
    node.create_subscription(ColorRGBA, '/robot/led', got['led'].append, RELIABLE)
    node.create_subscription(PointStamped, '/robot/gaze', got['gaze'].append, RELIABLE)
    node.create_subscription(Twist, '/cmd_vel', got['twist'].append, RELIABLE)
    node.create_subscription(RobotSpeaking, '/attune/robot/speaking', got['speaking'].append, LATCHED)
    pub = node.create_publisher(BehaviorCommand, '/attune/behavior/command', RELIABLE)
    assert wait_for(lambda: pub.get_subscription_count() >= 1, 30)

    def speaking() -> list[bool]:
        return [m.speaking for m in got['speaking']]

    assert wait_for(lambda: speaking() == [False], 30)  # latched initial state
    stamp = node.get_clock().now().nanoseconds
    for cmd in (Command(Action.SAY, text='hello there', stamp_ns=stamp),
                Command(Action.LED, led_color=(0.2, 0.4, 0.8), stamp_ns=stamp),
                Command(Action.GAZE, gaze=GazeTarget(0.1, 0.0, 0.8, 'camera_optical_frame'), stamp_ns=stamp),
                Command(Action.APPROACH, velocity=0.9, duration_s=5.0, stamp_ns=stamp)):
        pub.publish(msg_behavior_command.to_msg(cmd))
    # The approach moves for at most 0.5 s, then stops: wait for a moving twist followed by the stop (how
    # many 10 Hz ticks fit in between depends on the machine's load; the checks below bound them from above).
    def approached_and_stopped() -> bool:
        speeds = [t.linear.x for t in got['twist']]
        return any(v > 0 for v in speeds) and speeds[-1] == 0.0
    assert wait_for(lambda: got['speech'] and got['led'] and got['gaze'] and approached_and_stopped(), 30), got
    assert got['speech'][0].data == 'hello there'
    assert (got['led'][0].r, got['led'][0].b, got['led'][0].a) == (pytest.approx(0.2), pytest.approx(0.8), 1.0)
    assert got['gaze'][0].header.frame_id == 'camera_optical_frame' and got['gaze'][0].point.z == pytest.approx(0.8)
    speeds = [t.linear.x for t in got['twist']]
    assert max(speeds) == pytest.approx(0.1) and all(abs(s) <= 0.1 + 1e-9 for s in speeds)
    # at most 0.5 s of 10 Hz (the bridge stops on the clock; a loaded machine runs fewer of its ticks)
    assert 1 <= speeds.count(pytest.approx(0.1)) <= 8
    assert wait_for(lambda: speaking()[-2:] == [True, False], 30)
    # the rising edge is stamped when the bridge started the speech, after the command was sent
    assert stamp <= to_ns(got['speaking'][-2].header.stamp) <= to_ns(got['speaking'][-1].header.stamp)


def test_sim_robot_reports_speaking_and_idle(spinner) -> None:
    from attune.msg import BehaviorCommand, RobotSpeaking

    spinner.add(SimRobotNode(parameter_overrides=ros_params(words_per_s=20.0), cli_args=ros_cli('sim_test')))
    node = spinner.add(rclpy.create_node('probe_sim'))
    speaking: list[bool] = []
    activity: list[str] = []
    node.create_subscription(RobotSpeaking, '/attune/robot/speaking', lambda m: speaking.append(m.speaking), LATCHED)
    reader = node.create_subscription(String, '/attune/robot/activity', lambda m: activity.append(m.data), RELIABLE)
    pub = node.create_publisher(BehaviorCommand, '/attune/behavior/command', RELIABLE)
    assert wait_for(lambda: pub.get_subscription_count() >= 1, 30)
    # The probe hears the robot before it speaks: its activity reader has matched, and the latched initial
    # "not speaking" came. Else a short speech can be over before the match, and a latched reader that
    # matches late gets only its end (it did in CI: [False]).
    assert wait_for(lambda: reader.get_publisher_count() >= 1 and speaking[-1:] == [False], 30), speaking
    msg = msg_behavior_command.to_msg(Command(Action.SAY, text='one two three four', rule='greet', reason='hello'))
    msg.header.stamp = from_ns(1, Time)
    pub.publish(msg)
    assert wait_for(lambda: speaking[-2:] == [True, False], 30), speaking
    assert activity == ["SAY: says 'one two three four' at rate 1, volume 0.5 (0.5 s) [greet]"]


def test_nao_bridge_driver2_backend_says_what_is_unavailable(spinner) -> None:
    from rcl_interfaces.msg import Log

    from attune.msg import BehaviorCommand

    node = spinner.add(rclpy.create_node('probe_driver2'))
    logs: list[str] = []
    rosout = node.create_subscription(Log, '/rosout', lambda m: logs.append(m.msg) if m.name == 'nao_driver2'
                                      else None, ROSOUT_QOS)
    speech: list[str] = []
    node.create_subscription(String, '/speech', lambda m: speech.append(m.data), RELIABLE)
    before = rosout.get_publisher_count()
    bridge = spinner.add(NaoBridgeNode(parameter_overrides=ros_params(backend='driver2', words_per_s=20.0,
                                                                  autostart=False), cli_args=ros_cli('nao_driver2')))
    assert wait_for(lambda: rosout.get_publisher_count() > before, 30)  # its start-up warning will arrive
    bridge.trigger_configure()
    bridge.trigger_activate()
    pub = node.create_publisher(BehaviorCommand, '/attune/behavior/command', RELIABLE)
    assert wait_for(lambda: pub.get_subscription_count() >= 1 and node.count_subscribers('/speech') >= 1, 30)
    assert wait_for(lambda: any('UNAVAILABLE: LED colours, gestures, speech volume' in m for m in logs), 30), logs
    if bridge._joint_angles_type is None:  # naoqi_bridge_msgs is not on PyPI
        assert any('head gaze (naoqi_bridge_msgs is not importable' in m for m in logs)
    pub.publish(msg_behavior_command.to_msg(Command(Action.SAY, text='hello', speech_rate=0.8)))
    pub.publish(msg_behavior_command.to_msg(Command(Action.LED, led_color=(0.0, 1.0, 0.0))))
    assert wait_for(lambda: speech == ['\\rspd=80\\hello'], 30)
    assert wait_for(lambda: any('LED [] not executed: LED colours are not available' in m for m in logs), 30), logs
