"""sim_robot_node: a simulated robot (robot:=sim) for tests and demos.

Executes every attune/BehaviorCommand in imagination (attune.robots.sim.SimulatedRobot), says what it
did, and reports speaking/idle like a real robot's bridge, so perception can be gated while it speaks.

Subscribes:  /attune/behavior/command  attune/BehaviorCommand
Publishes:   /attune/robot/speaking    attune/RobotSpeaking, on every change (transient local: late joiners get it)
             /attune/robot/activity    std_msgs/String, one line per executed command
"""
from __future__ import annotations

from typing import Any

from std_msgs.msg import String

from attune.behavior.commands import Command
from attune.errors import AttuneError
from attune.robots.limits import SpeechTimer
from attune.robots.sim import SimulatedRobot
from attune.ros import qos
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.robot_bridge import RobotBridgeNode

NODE_NAME = 'sim_robot_node'
ACTIVITY_TOPIC = '/attune/robot/activity'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('words_per_s', 2.5, 'Speaking speed at speech rate 1.0 (how long the robot reports speaking).',
              min=0.1, max=20.0),
    ParamSpec('max_linear_speed', 0.1, 'APPROACH speeds are clamped to this (m/s).', min=0.0, max=1.0),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class SimRobotNode(RobotBridgeNode):
    """See the module docstring."""

    BAD_INPUT_LEVEL = 'error'

    def __init__(self, **kwargs: Any) -> None:
        self.robot: SimulatedRobot | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    def configure(self) -> None:
        self.robot = SimulatedRobot(speech=SpeechTimer(self.params['words_per_s']),
                                    max_linear_speed=self.params['max_linear_speed'])
        self._activity_pub = self.add_publisher(String, ACTIVITY_TOPIC, qos.RESULTS, lifecycle=False)
        self.add_timer(0.05, self._update_speaking)

    def ready(self) -> bool:
        return self.robot is not None

    def execute(self, cmd: Command) -> None:
        if self.robot is None:  # commands reach execute() only when ready(), i.e. configured
            raise AttuneError('a command reached the simulated robot before it was configured')
        line = self.robot.execute(cmd, self.now_s())
        self.get_logger().info(line)
        self._activity_pub.publish(String(data=line))
        self._update_speaking()

    def _update_speaking(self) -> None:
        if self.robot is not None:
            self.set_speaking(self.robot.speaking(self.now_s()))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = SimRobotNode


def main(args: list[str] | None = None) -> int:
    return run_node(SimRobotNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
