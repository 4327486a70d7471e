"""nao_bridge_node: drive a NAO (robot:=nao) through NAOqi directly (`qi`) or naoqi_driver2 topics.

backend:=naoqi   attune.robots.naoqi.NaoqiRobot: ALTextToSpeech / ALAnimatedSpeech (rate, volume),
                 ALLeds.fadeRGB, ALMotion.setAngles (speed-limited head gaze), ALAnimationPlayer;
                 reconnects when the robot drops off the network.
backend:=driver2 attune.robots.driver2: /speech (std_msgs/String); head gaze on /joint_angles as
                 naoqi_bridge_msgs/JointAnglesWithSpeed when that package is importable; /cmd_vel.
                 What is unavailable (LEDs, gestures, volume; head gaze without naoqi_bridge_msgs) is
                 said once at start-up.

Subscribes:  /attune/behavior/command  attune/BehaviorCommand
Publishes:   /attune/robot/speaking    attune/RobotSpeaking (naoqi: while a say runs; driver2: estimated)
             /diagnostics              diagnostic_msgs/DiagnosticArray, once per second (connection)
"""
from __future__ import annotations

import math
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist
from std_msgs.msg import Header, String

from attune.behavior.commands import Action, Command
from attune.robots import driver2
from attune.robots.generic import VelocityHold
from attune.robots.limits import HeadLimits, SpeechTimer
from attune.robots.naoqi import NaoOptions, NaoqiRobot, undelivered
from attune.ros import qos
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.robot_bridge import RobotBridgeNode
from attune.ros.shell import Diagnostics

NODE_NAME = 'nao_bridge_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('backend', 'naoqi', 'naoqi: NAOqi directly through qi; driver2: naoqi_driver2 topics.',
              choices=('naoqi', 'driver2')),
    ParamSpec('url', 'tcp://nao.local:9559', 'naoqi: the robot\'s NAOqi address (tcp://IP:9559).'),
    ParamSpec('reconnect_interval_s', 2.0, 'naoqi: seconds before the first reconnection attempt; each failed '
              'attempt doubles the wait (backoff).', min=0.1, max=60.0),
    ParamSpec('max_reconnect_interval_s', 30.0, 'naoqi: the longest wait between connection attempts.',
              min=0.1, max=600.0),
    ParamSpec('connect_timeout_s', 5.0, 'naoqi: how long one connection attempt may take.', min=0.1, max=60.0),
    ParamSpec('animated_speech', True, 'naoqi: speak through ALAnimatedSpeech (gestures while talking); '
              'false: ALTextToSpeech.'),
    ParamSpec('led_group', 'FaceLeds', 'naoqi: the ALLeds group LED commands fade.'),
    ParamSpec('max_volume', 0.8, 'Hard limit on speech volume in [0, 1].', min=0.0, max=1.0),
    ParamSpec('max_head_speed', 0.15, 'Hard limit on head speed, as a fraction of the joints\' maximum.',
              min=0.01, max=0.3),
    ParamSpec('max_head_step_deg', 30.0, 'Largest head turn per GAZE command, each joint (no sudden moves).',
              min=1.0, max=90.0),
    ParamSpec('allow_locomotion', False, 'Execute APPROACH (walking). Off by default.'),
    ParamSpec('max_linear_speed', 0.05, 'Hard limit on walking speed in m/s.', min=0.0, max=0.1),
    ParamSpec('max_approach_duration_s', 2.0, 'Longest an APPROACH walks before stopping.', min=0.0, max=10.0),
    ParamSpec('speech_topic', '/speech', 'driver2: the naoqi_driver2 speech topic (std_msgs/String).'),
    ParamSpec('joint_angles_topic', '/joint_angles', 'driver2: the JointAnglesWithSpeed topic.'),
    ParamSpec('cmd_vel_topic', '/cmd_vel', 'driver2: the velocity topic.'),
    ParamSpec('words_per_s', 2.5, 'driver2: speaking speed at rate 1.0, to report speaking for the '
              'estimated time.', min=0.1, max=20.0),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def joint_angles_class() -> tuple[type | None, str]:
    """naoqi_bridge_msgs/JointAnglesWithSpeed, or None and why it is unavailable."""
    try:
        from naoqi_bridge_msgs.msg import JointAnglesWithSpeed
    except ImportError as exc:
        return None, f'naoqi_bridge_msgs is not importable ({exc})'
    return JointAnglesWithSpeed, ''


class NaoBridgeNode(RobotBridgeNode):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('NAO', working='connected', idle='')  # the status itself: diagnostics() below

    def __init__(self, **kwargs: Any) -> None:
        self.robot: NaoqiRobot | None = None
        self._driver_pubs: dict[str, Any] = {}
        self._joint_angles_type: type | None = None  # driver2: naoqi_bridge_msgs/JointAnglesWithSpeed if importable
        self._speech = SpeechTimer()
        self._velocity = VelocityHold()
        self._moving = False
        self.executed = 0
        self.refused = 0
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def head_limits(self) -> HeadLimits:
        return HeadLimits(max_speed=self.params['max_head_speed'],
                          max_step_rad=math.radians(self.params['max_head_step_deg']))

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        p = self.params
        log = self.get_logger()
        if p['backend'] == 'naoqi':
            options = NaoOptions(url=p['url'], reconnect_interval_s=p['reconnect_interval_s'],
                                 max_reconnect_interval_s=p['max_reconnect_interval_s'],
                                 connect_timeout_s=p['connect_timeout_s'], animated_speech=p['animated_speech'],
                                 led_group=p['led_group'], max_volume=p['max_volume'], head=self.head_limits(),
                                 allow_locomotion=p['allow_locomotion'], max_linear_speed=p['max_linear_speed'],
                                 max_approach_duration_s=p['max_approach_duration_s'])
            self.robot = NaoqiRobot(options, log=log.info).start()  # AttuneError without qi
            log.info(f'NAOqi back end: connecting to {p["url"]}')
        else:
            self._speech = SpeechTimer(p['words_per_s'])
            self._joint_angles_type, why = joint_angles_class()
            # Any: three message types (String, Twist, JointAnglesWithSpeed).
            topics: dict[str, tuple[type[Any], str]] = {'speech': (String, p['speech_topic']),
                                                       'velocity': (Twist, p['cmd_vel_topic'])}
            if self._joint_angles_type is not None:
                topics['head'] = (self._joint_angles_type, p['joint_angles_topic'])
            self._driver_pubs = {kind: self.add_publisher(msg_type, topic, qos.RESULTS, lifecycle=False)
                                 for kind, (msg_type, topic) in topics.items()}
            unavailable = ['LED colours', 'gestures', 'speech volume']
            if why:
                unavailable.append(f'head gaze ({why})')
            log.warning(f'naoqi_driver2 back end: speech on {p["speech_topic"]}'
                        + ('' if why else f', head gaze on {p["joint_angles_topic"]}')
                        + f'; UNAVAILABLE: {", ".join(unavailable)} (backend:=naoqi has them)')
        self.add_timer(0.05, self._update)

    def release(self) -> None:
        if self.robot is not None:
            self.robot.close()
            self.robot = None
        self._driver_pubs = {}

    def connected_at_start(self) -> bool:
        return self.robot is None or self.robot.connected  # driver2 has no connection to lose

    # --- commands --------------------------------------------------------------------------------
    def execute(self, cmd: Command) -> None:
        problem = self._execute_naoqi(self.robot, cmd) if self.robot is not None else self._execute_driver2(cmd)
        if problem and self.robot is not None and undelivered(problem):
            self.refused += 1
            self.report_undelivered(cmd, problem)
        elif problem:
            self.refused += 1
            self.bad_input.report(cmd.action.name, f'{cmd.action.name} [{cmd.rule}] not executed: {problem}')
        else:
            self.executed += 1
            if self.robot is not None and cmd.action in (Action.SAY, Action.NAME_CALL):
                self.set_speaking(True)  # sent now: an utterance over before the poll still has its onset
        self._update()

    def _execute_naoqi(self, robot: NaoqiRobot, cmd: Command) -> str:
        try:
            return robot.execute(cmd)
        except Exception as exc:  # noqa: BLE001 - a NAOqi failure must not take the node down
            return f'{type(exc).__name__}: {exc}'

    def _execute_driver2(self, cmd: Command) -> str:
        p = self.params
        out = driver2.plan(cmd, self.head_limits(), allow_locomotion=p['allow_locomotion'],
                           max_linear_speed=p['max_linear_speed'], max_duration_s=p['max_approach_duration_s'])
        now = self.now_s()
        if out.speech is not None:
            self._driver_pubs['speech'].publish(String(data=out.speech))
            self._speech.start(cmd.text, cmd.speech_rate, now)
        if out.head is not None:
            if 'head' not in self._driver_pubs or self._joint_angles_type is None:
                return 'head gaze is unavailable: naoqi_bridge_msgs is not importable'
            m = self._joint_angles_type()
            m.header = Header(stamp=self.get_clock().now().to_msg())
            m.joint_names = list(out.head.joint_names)
            m.joint_angles = [float(a) for a in out.head.joint_angles]
            m.speed = float(out.head.speed)
            m.relative = 1 if out.head.relative else 0
            self._driver_pubs['head'].publish(m)
        if out.velocity is not None:
            self._velocity.set(out.velocity, out.duration_s, now)
        if out.stop:
            self._velocity.stop()
            self._speech.stop()
            self._driver_pubs['velocity'].publish(Twist())
        return out.problem

    # --- state -----------------------------------------------------------------------------------
    def _update(self) -> None:
        now = self.now_s()
        if self.robot is None and 'velocity' in self._driver_pubs and (self._velocity.active(now) or self._moving):
            twist = Twist()
            twist.linear.x = float(self._velocity.current(now))
            self._driver_pubs['velocity'].publish(twist)
            self._moving = twist.linear.x != 0.0
        self.set_speaking(self.robot.speaking if self.robot is not None else self._speech.speaking(now))
        if self.robot is not None:
            self.set_connected(self.robot.connected)

    def diagnostics(self) -> DiagnosticArray:
        status = DiagnosticStatus(name=f'{self.get_name()}: NAO ({self.params["backend"]})', hardware_id='nao')
        values = [KeyValue(key='commands_executed', value=str(self.executed)),
                  KeyValue(key='commands_not_executed', value=str(self.refused)),
                  KeyValue(key='commands_not_delivered', value=str(self.counts.get('commands_not_delivered', 0)))]
        if self.robot is not None:
            values += [KeyValue(key='url', value=self.params['url']),
                       KeyValue(key='connections', value=str(self.robot.connections)),
                       KeyValue(key='failed_connection_attempts', value=str(self.robot.failed_attempts)),
                       KeyValue(key='next_retry_s', value=f'{self.robot.retry_interval_s:g}'),
                       KeyValue(key='missing_services', value=', '.join(self.robot.missing))]
            if self.robot.connected:
                status.level = DiagnosticStatus.WARN if self.robot.missing else DiagnosticStatus.OK
                status.message = 'connected' + (' (some services missing)' if self.robot.missing else '')
            else:
                status.level, status.message = DiagnosticStatus.ERROR, 'not connected; retrying'
        else:
            status.level, status.message = DiagnosticStatus.OK, 'publishing naoqi_driver2 topics'
        status.values = values
        return DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=[status])


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = NaoBridgeNode


def main(args: list[str] | None = None) -> int:
    return run_node(NaoBridgeNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
