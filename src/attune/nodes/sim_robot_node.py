"""sim_robot_node: a simulated robot (robot:=sim) for tests and demos.

Executes every attune/BehaviorCommand in imagination (attune.robots.sim.SimulatedRobot), says what it
did, and reports speaking/idle like a real robot's bridge, so perception can be gated while it speaks.

Subscribes:  /attune/behavior/command  attune/BehaviorCommand
Publishes:   /attune/robot/speaking    std_msgs/Bool, on every change (transient local: late joiners get it)
             /attune/robot/activity    std_msgs/String, one line per executed command
"""
from __future__ import annotations

from typing import Any

from std_msgs.msg import Bool, String

from attune.robots.limits import SpeechTimer
from attune.robots.sim import SimulatedRobot
from attune.ros import qos
from attune.ros.behavior_msgs import command_from_msg
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.throttle import ThrottledReporter

NODE_NAME = 'sim_robot_node'
SPEAKING_TOPIC = '/attune/robot/speaking'
ACTIVITY_TOPIC = '/attune/robot/activity'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('words_per_s', 2.5, 'Speaking speed at speech rate 1.0 (how long the robot reports speaking).',
              min=0.1, max=20.0),
    ParamSpec('max_linear_speed', 0.1, 'APPROACH speeds are clamped to this (m/s).', min=0.0, max=1.0),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class SimRobotNode(AutostartLifecycleNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self.robot: SimulatedRobot | None = None
        self._speaking_pub = self._activity_pub = self._timer = self._sub = None
        self._speaking = False
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def configure(self) -> None:
        self._bad_input = ThrottledReporter(self.get_logger().error)
        self.robot = SimulatedRobot(speech=SpeechTimer(self.params['words_per_s']),
                                    max_linear_speed=self.params['max_linear_speed'])
        self._speaking_pub = self.create_publisher(Bool, SPEAKING_TOPIC, qos.LATCHED)
        self._activity_pub = self.create_publisher(String, ACTIVITY_TOPIC, qos.RESULTS)
        self._speaking_pub.publish(Bool(data=False))
        self._timer = self.create_timer(0.05, self._update_speaking)

    def activate(self) -> None:
        self._sub = self.create_subscription(attune_msgs().BehaviorCommand, '/attune/behavior/command',
                                             self._on_command, qos.RESULTS)

    def deactivate(self) -> None:
        if self._sub is not None:
            self.destroy_subscription(self._sub)
            self._sub = None

    def release(self) -> None:
        self.deactivate()
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None
        for pub in (self._speaking_pub, self._activity_pub):
            if pub is not None:
                self.destroy_publisher(pub)
        self._speaking_pub = self._activity_pub = None

    def _on_command(self, msg: Any) -> None:
        if self.robot is None:
            return
        try:
            cmd = command_from_msg(msg)
        except ValueError as exc:
            self._bad_input.report('command', f'dropped command: {exc}')
            return
        line = self.robot.execute(cmd, self.now_s())
        self.get_logger().info(line)
        self._activity_pub.publish(String(data=line))
        self._update_speaking()

    def _update_speaking(self) -> None:
        if self.robot is None or self._speaking_pub is None:
            return
        speaking = self.robot.speaking(self.now_s())
        if speaking != self._speaking:
            self._speaking = speaking
            self._speaking_pub.publish(Bool(data=speaking))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = SimRobotNode


def main(args: list[str] | None = None) -> int:
    return run_node(SimRobotNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
