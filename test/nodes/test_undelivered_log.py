"""Commands the robot never got reach the behaviour node's session log (issue 14): the NAO bridge,
with no robot at its address, reports each command on /attune/robot/undelivered; the behaviour node
counts it and writes which command and why, without its words (real rclpy and DDS)."""
from __future__ import annotations

import json
import socket

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

from attune.behavior.commands import Action, Command
from attune.behavior.report import session_report
from attune.ros import msg_behavior_command
from attune.ros.robot_bridge import COMMAND_TOPIC, UNDELIVERED_TOPIC
from test.conftest import wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def closed_port() -> int:
    with socket.socket() as s:  # bound and closed again: nothing listens there
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_behavior_session_log_records_commands_the_robot_never_got(spinner, tmp_path) -> None:
    pytest.importorskip('qi')
    from attune.msg import BehaviorCommand
    from attune.nodes.behavior_node import BehaviorNode
    from attune.nodes.nao_bridge_node import NaoBridgeNode

    behavior = spinner.add(BehaviorNode(
        parameter_overrides=[Parameter('policy', value='default'), Parameter('session_log_dir', value=str(tmp_path))],
        cli_args=['--ros-args', '-r', '__node:=behavior_undelivered']))
    spinner.add(NaoBridgeNode(parameter_overrides=[Parameter('url', value=f'tcp://127.0.0.1:{closed_port()}'),
                                                   Parameter('reconnect_interval_s', value=5.0)],
                              cli_args=['--ros-args', '-r', '__node:=nao_unreachable']))
    probe = spinner.add(rclpy.create_node('undelivered_probe'))
    commands = probe.create_publisher(BehaviorCommand, COMMAND_TOPIC, RELIABLE)
    forged = probe.create_publisher(DiagnosticStatus, UNDELIVERED_TOPIC, RELIABLE)
    assert wait_for(lambda: commands.get_subscription_count() >= 1 and forged.get_subscription_count() >= 1)

    for command in (Command(Action.NAME_CALL, target_id='f1', text='Sam', rule='name_call', stamp_ns=123),
                    Command(Action.SAY, target_id='f2', text='hello Sam', rule='greet', stamp_ns=456)):
        commands.publish(msg_behavior_command.to_msg(command))
    forged.publish(DiagnosticStatus(name='not a report', values=[KeyValue(key='stamp_ns', value='x')]))
    log = behavior.session_log.path

    def undelivered() -> list[dict]:
        return [r for r in map(json.loads, log.read_text().splitlines()) if r['kind'] == 'undelivered']

    def ours() -> list[dict]:  # the node's own commands (its policy's idle rule) are not delivered either
        return [r for r in undelivered() if r['command_stamp_ns'] in (123, 456)]

    assert wait_for(lambda: len(ours()) == 2 and behavior.bad_input.counts.get('undelivered') == 1, 20)
    assert [(r['action'], r['rule'], r['person'], r['command_stamp_ns'], r['bridge']) for r in ours()] == [
        ('NAME_CALL', 'name_call', 'f1', 123, 'nao_unreachable'), ('SAY', 'greet', 'f2', 456, 'nao_unreachable')]
    assert all('not connected to NAO' in r['why'] for r in undelivered()), undelivered()
    assert 'Sam' not in log.read_text()  # derived labels only: never the words the robot would have said
    assert behavior.counts['commands_not_delivered'] >= 2
    report = session_report(log).to_dict()
    assert report['commands_not_delivered'] >= 2
    assert report['not_delivered_by_action']['NAME_CALL'] == report['not_delivered_by_action']['SAY'] == 1
