"""The robot bridges' shell (sim_robot_node, generic_bridge_node, nao_bridge_node): attune/BehaviorCommand
in, the robot's speaking and connection state out, and a report of every command that did not reach it.

Commands arrive on COMMAND_TOPIC; one that cannot be read is dropped and reported (once per kind
and period), a readable one goes to the bridge's execute(command). The speaking state
(attune/RobotSpeaking) is latched (transient local) on SPEAKING_TOPIC, so a node that starts later
still learns it: false once the bridge is configured, then every change the bridge reports with
set_speaking(), stamped when the bridge saw it (the name-call protocol's stimulus time, which must
not depend on how late the message is delivered). The same holds for
CONNECTED_TOPIC (set_connected(); bridges without a connection to lose are always connected), which
the interaction node reads to end a running name call when the robot is gone. A command the robot
never got (report_undelivered()) is counted (commands_not_delivered in /diagnostics), logged, and
published on UNDELIVERED_TOPIC as a diagnostic_msgs/DiagnosticStatus: WARN, message = why, values =
action, rule, target_id, stamp_ns and text of the command. undelivered_from_msg() reads one back (the
behaviour node records them in its session log).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from std_msgs.msg import Bool, Header

from attune.behavior.commands import Command
from attune.behavior.session_log import UndeliveredCommand
from attune.ros import msg_behavior_command, qos
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics, NodeShell

if TYPE_CHECKING:
    from rclpy.publisher import Publisher

    from attune.msg import BehaviorCommand, RobotSpeaking

COMMAND_TOPIC = '/attune/behavior/command'
SPEAKING_TOPIC = '/attune/robot/speaking'
CONNECTED_TOPIC = '/attune/robot/connected'
UNDELIVERED_TOPIC = '/attune/robot/undelivered'
#: How an undelivered report's name ends ('<bridge node>: command not delivered').
_UNDELIVERED_NAME = ': command not delivered'


def undelivered_from_msg(msg: DiagnosticStatus) -> UndeliveredCommand:
    """A bridge's report of an undelivered command; ValueError when it is not one."""
    values = {kv.key: kv.value for kv in msg.values}
    if not values.get('action') or not msg.name.endswith(_UNDELIVERED_NAME):
        raise ValueError(f'not an undelivered-command report (name {msg.name[:80]!r}, no action or bridge)')
    try:
        stamp_ns = int(values.get('stamp_ns', '0'))
    except ValueError:
        raise ValueError(f"undelivered command's stamp_ns is not an integer: {values['stamp_ns'][:40]!r}") from None
    return UndeliveredCommand(action=values['action'], rule=values.get('rule', ''),
                              person_id=values.get('target_id', ''), command_stamp_ns=stamp_ns, why=msg.message,
                              bridge=msg.name.removesuffix(_UNDELIVERED_NAME))


class RobotBridgeNode(NodeShell):
    """A node that carries out BehaviorCommands on a robot. Subclasses implement execute(command)
    and call set_speaking() when the robot starts or stops speaking."""

    BAD_INPUT_LEVEL: ClassVar[str] = 'warning'
    #: Bridges without commands are fine (idle ''): the status says whether commands are carried out.
    DIAGNOSTICS: ClassVar[Diagnostics | None] = Diagnostics('robot bridge', working='carrying out commands', idle='')
    INPUT_IS_WORK: ClassVar[bool] = True

    def __init__(self, name: str, parameters: tuple[ParamSpec, ...], **kwargs: Any) -> None:
        self._speaking_pub: Publisher[RobotSpeaking] | None = None
        self._connected_pub: Publisher[Bool] | None = None
        self._undelivered_pub: Publisher[DiagnosticStatus] | None = None
        self._speaking = False
        self._connected = True
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
        """Publish the speaking state when it changed, stamped now: call it as soon as the robot
        starts or stops speaking (right after a say is sent, and from a timer for the end)."""
        if speaking != self._speaking and self._speaking_pub is not None:
            self._speaking = speaking
            self._publish_speaking()

    def _publish_speaking(self) -> None:
        if self._speaking_pub is not None:
            header = Header(stamp=self.get_clock().now().to_msg())
            self._speaking_pub.publish(self._msgs.RobotSpeaking(header=header, speaking=self._speaking))

    def connected_at_start(self) -> bool:
        """Whether the robot counts as reachable once configured (False for bridges that must connect
        first; they call set_connected when they do)."""
        return True

    def set_connected(self, connected: bool) -> None:
        """Publish whether the robot is reachable when it changed."""
        if connected != self._connected and self._connected_pub is not None:
            self._connected = connected
            self._connected_pub.publish(Bool(data=connected))
            if connected:  # two calls: rclpy fixes a logging call site's severity
                self.get_logger().info('robot connected')
            else:
                self.get_logger().warning('robot connection lost: commands are not delivered')

    def report_undelivered(self, command: Command, why: str) -> None:
        """A command that did not reach the robot: counted, logged (rate-limited) and published."""
        self.count('commands_not_delivered')
        self.bad_input.report('not_delivered', f'{command.action.name} [{command.rule}] not delivered: {why}')
        if self._undelivered_pub is not None:
            values = {'action': command.action.name, 'rule': command.rule, 'target_id': command.target_id,
                      'stamp_ns': command.stamp_ns, 'text': command.text}
            self._undelivered_pub.publish(DiagnosticStatus(
                level=DiagnosticStatus.WARN, name=f'{self.get_name()}{_UNDELIVERED_NAME}', message=why,
                hardware_id='robot', values=[KeyValue(key=k, value=str(v)) for k, v in values.items()]))

    def _on_command(self, msg: BehaviorCommand) -> None:
        if not self.ready():
            return
        try:
            command = msg_behavior_command.from_msg(msg)
        except ValueError as exc:
            self.bad_input.report('command', f'dropped command: {exc}')
            return
        self.execute(command)

    def _configure_all(self) -> None:
        super()._configure_all()
        self._speaking = False
        self._speaking_pub = self.add_publisher(self._msgs.RobotSpeaking, SPEAKING_TOPIC, qos.LATCHED, lifecycle=False)
        self._publish_speaking()
        self._connected = self.connected_at_start()
        self._connected_pub = self.add_publisher(Bool, CONNECTED_TOPIC, qos.LATCHED, lifecycle=False)
        self._connected_pub.publish(Bool(data=self._connected))
        self._undelivered_pub = self.add_publisher(DiagnosticStatus, UNDELIVERED_TOPIC, qos.RESULTS, lifecycle=False)

    def _release_all(self) -> None:
        super()._release_all()
        self._speaking_pub = self._connected_pub = self._undelivered_pub = None
