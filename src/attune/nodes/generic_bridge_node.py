"""generic_bridge_node: drive any ROS 2 robot through plain topics (robot:=generic).

Subscribes:  /attune/behavior/command  attune/BehaviorCommand
Publishes:   <speech_topic>   std_msgs/String          SAY / NAME_CALL text
             <gesture_topic>  std_msgs/String          GESTURE animation name
             <led_topic>      std_msgs/ColorRGBA       LED colour
             <gaze_topic>     geometry_msgs/PointStamped  GAZE target (the robot resolves the frame)
             <cmd_vel_topic>  geometry_msgs/Twist      APPROACH: linear.x within +-max_linear_speed, repeated
                              at velocity_rate_hz for at most max_approach_duration_s, then zero; STOP: zero
             /attune/robot/speaking  attune/RobotSpeaking  estimated from the text length (words_per_s)
Hard limits: speeds beyond max_linear_speed are clamped, non-finite speeds become 0, and the velocity
topic always ends with a zero Twist.
"""
from __future__ import annotations

from typing import Any

from geometry_msgs.msg import PointStamped, Twist
from std_msgs.msg import ColorRGBA, Header, String

from attune.behavior.commands import Command
from attune.robots.generic import GenericLimits, VelocityHold, plan
from attune.robots.limits import SpeechTimer
from attune.ros import qos
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.robot_bridge import RobotBridgeNode

NODE_NAME = 'generic_bridge_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('speech_topic', '/robot/speech', 'Where SAY / NAME_CALL text goes (std_msgs/String).'),
    ParamSpec('gesture_topic', '/robot/gesture', "Where GESTURE animation names go (std_msgs/String); '' = none."),
    ParamSpec('led_topic', '/robot/led', "Where LED colours go (std_msgs/ColorRGBA); '' = none."),
    ParamSpec('gaze_topic', '/robot/gaze', "Where gaze targets go (geometry_msgs/PointStamped); '' = none."),
    ParamSpec('cmd_vel_topic', '/cmd_vel', "Where approach/back-off velocities go (geometry_msgs/Twist); '' = none."),
    ParamSpec('max_linear_speed', 0.1, 'Hard limit on |linear.x| in m/s.', min=0.0, max=0.5),
    ParamSpec('max_approach_duration_s', 2.0, 'Longest an APPROACH velocity is held before zero.', min=0.0,
              max=10.0),
    ParamSpec('velocity_rate_hz', 10.0, 'Rate at which a held velocity is republished (robots with a '
              'cmd_vel watchdog).', min=1.0, max=100.0),
    ParamSpec('words_per_s', 2.5, 'Speaking speed at rate 1.0, to report speaking for the estimated time.',
              min=0.1, max=20.0),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class GenericBridgeNode(RobotBridgeNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self._pubs: dict[str, Any] = {}
        self._speech = SpeechTimer()
        self._velocity = VelocityHold()
        self._moving = False
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def configure(self) -> None:
        p = self.params
        self._limits = GenericLimits(p['max_linear_speed'], p['max_approach_duration_s'])
        self._speech = SpeechTimer(p['words_per_s'])
        kinds = {'speech': (String, p['speech_topic']), 'gesture': (String, p['gesture_topic']),
                 'led': (ColorRGBA, p['led_topic']), 'gaze': (PointStamped, p['gaze_topic']),
                 'velocity': (Twist, p['cmd_vel_topic'])}
        self._pubs = {k: self.add_publisher(t, topic, qos.RESULTS, lifecycle=False)
                      for k, (t, topic) in kinds.items() if topic}
        self.add_timer(1.0 / p['velocity_rate_hz'], self._update)
        self.get_logger().info('generic robot: ' + ', '.join(f'{k} on {topic}' for k, (_, topic) in kinds.items()
                                                              if topic)
                               + f'; |speed| <= {p["max_linear_speed"]:g} m/s')

    def deactivate(self) -> None:
        if 'velocity' in self._pubs and self._moving:
            self._pubs['velocity'].publish(Twist())  # the velocity topic always ends with a zero
            self._moving = False
        self._velocity.stop()

    def release(self) -> None:
        self.deactivate()
        self._pubs = {}

    def execute(self, cmd: Command) -> None:
        outputs, problem = plan(cmd, self._limits)
        if problem:
            self.bad_input.report(cmd.action.name, f'{cmd.action.name} not executed: {problem}')
        now = self.now_s()
        for out in outputs:
            if out.channel == 'stop':
                self._velocity.stop()
                self._speech.stop()
                if 'velocity' in self._pubs:
                    self._pubs['velocity'].publish(Twist())
                continue
            pub = self._pubs.get(out.channel)
            if pub is None:
                self.bad_input.report(out.channel, f'{cmd.action.name} not executed: no {out.channel} topic '
                                                    'configured')
                continue
            if out.channel == 'speech':
                pub.publish(String(data=out.value))
                self._speech.start(out.value, cmd.speech_rate, now)
            elif out.channel == 'gesture':
                pub.publish(String(data=out.value))
            elif out.channel == 'led':
                r, g, b, a = out.value
                pub.publish(ColorRGBA(r=r, g=g, b=b, a=a))
            elif out.channel == 'gaze':
                point = PointStamped(header=Header(stamp=self.get_clock().now().to_msg(), frame_id=out.value.frame))
                point.point.x, point.point.y, point.point.z = out.value.x, out.value.y, out.value.z
                pub.publish(point)
            elif out.channel == 'velocity':
                self._velocity.set(out.value, out.duration_s, now)
                self._publish_velocity(now)
        self._update()

    def _publish_velocity(self, now: float) -> None:
        pub = self._pubs.get('velocity')
        if pub is None:
            return
        twist = Twist()
        twist.linear.x = float(self._velocity.current(now))
        pub.publish(twist)
        self._moving = twist.linear.x != 0.0

    def _update(self) -> None:
        now = self.now_s()
        if self._velocity.active(now) or self._moving:
            self._publish_velocity(now)  # held speed, or the final zero
        self.set_speaking(self._speech.speaking(now))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = GenericBridgeNode


def main(args: list[str] | None = None) -> int:
    return run_node(GenericBridgeNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
