"""The robot bridges' shell (sim_robot_node, generic_bridge_node, nao_bridge_node): attune/BehaviorCommand
in, the robot's speaking state out.

Commands arrive on COMMAND_TOPIC; one that cannot be read is dropped and reported (once per kind
and period), a readable one goes to the bridge's execute(command). The speaking state is latched
(transient local) on SPEAKING_TOPIC, so a node that starts later still learns it: false once the
bridge is configured, then every change the bridge reports with set_speaking().
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from std_msgs.msg import Bool

from attune.behavior.commands import Command
from attune.ros import qos
from attune.ros.behavior_msgs import command_from_msg
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics, NodeShell

if TYPE_CHECKING:
    from attune.msg import BehaviorCommand

COMMAND_TOPIC = '/attune/behavior/command'
SPEAKING_TOPIC = '/attune/robot/speaking'


class RobotBridgeNode(NodeShell):
    """A node that carries out BehaviorCommands on a robot. Subclasses implement execute(command)
    and call set_speaking() when the robot starts or stops speaking."""

    BAD_INPUT_LEVEL: ClassVar[str] = 'warning'
    #: Bridges without commands are fine (idle ''): the status says whether commands are carried out.
    DIAGNOSTICS: ClassVar[Diagnostics | None] = Diagnostics('robot bridge', working='carrying out commands', idle='')
    INPUT_IS_WORK: ClassVar[bool] = True

    def __init__(self, name: str, parameters: tuple[ParamSpec, ...], **kwargs: Any) -> None:
        self._speaking_pub: Any = None
        self._speaking = False
        super().__init__(name, parameters, **kwargs)

    def activate(self) -> None:
        self.add_subscription(self._msgs.BehaviorCommand, COMMAND_TOPIC, self._on_command, qos.RESULTS)

    def ready(self) -> bool:
        """Whether the bridge can take commands now."""
        return True

    def execute(self, command: Command) -> None:
        """Carry out one command (report what cannot be done through self.bad_input)."""
        raise NotImplementedError

    def set_speaking(self, speaking: bool) -> None:
        """Publish the speaking state when it changed."""
        if speaking != self._speaking and self._speaking_pub is not None:
            self._speaking = speaking
            self._speaking_pub.publish(Bool(data=speaking))

    def _on_command(self, msg: BehaviorCommand) -> None:
        if not self.ready():
            return
        try:
            command = command_from_msg(msg)
        except ValueError as exc:
            self.bad_input.report('command', f'dropped command: {exc}')
            return
        self.execute(command)

    def _configure_all(self) -> None:
        super()._configure_all()
        self._speaking = False
        self._speaking_pub = self.add_publisher(Bool, SPEAKING_TOPIC, qos.LATCHED, lifecycle=False)
        self._speaking_pub.publish(Bool(data=False))

    def _release_all(self) -> None:
        super()._release_all()
        self._speaking_pub = None
