"""The robot dies and comes back (issue 14). The virtual NAO (a real libqi service directory, in its own
process) is killed mid-session and restarted at the same address:

* the NAO bridge publishes connected=false at once and reconnects (with backoff) when the robot is back;
* commands issued meanwhile are not delivered and say so: counted in /diagnostics
  (commands_not_delivered) and published, one by one, on /attune/robot/undelivered;
* a name call that was running ends ABORTED with the reason robot_disconnected, recorded in the
  interaction node's session log; one asked for while the robot is gone ends the same way.
"""
from __future__ import annotations

import json
import threading

import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool

from attune.behavior.commands import Action, Command
from attune.ros import msg_behavior_command
from test.conftest import ros_cli, ros_params, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
ABORTED = 5  # attune/InteractionEvent PROTOCOL_ABORTED
WAITING = 1




def test_robot_killed_and_restarted(spinner, tmp_path) -> None:
    pytest.importorskip('qi')
    import rclpy

    from attune.msg import BehaviorCommand, Face, Faces, InteractionEvent
    from attune.nodes.interaction_node import InteractionNode
    from attune.nodes.nao_bridge_node import NaoBridgeNode
    from test.robots.virtual_nao_process import VirtualNaoProcess

    nao = VirtualNaoProcess(tmp_path, seconds_per_word=0.05).start()
    url = nao.url
    back = publisher = None
    stop = threading.Event()
    try:
        bridge = spinner.add(NaoBridgeNode(parameter_overrides=ros_params(
            url=url, reconnect_interval_s=0.1, max_reconnect_interval_s=0.4), cli_args=ros_cli('nao_restart')))
        assert bridge.robot.wait_connected(10)
        interaction = spinner.add(InteractionNode(parameter_overrides=ros_params(
            response_window_s=30.0, session_log_dir=str(tmp_path)), cli_args=ros_cli('interaction_restart')))
        probe = spinner.add(rclpy.create_node('probe_robot_restart'))
        events, undelivered, connected = [], [], []
        probe.create_subscription(InteractionEvent, '/attune/interaction/events', events.append, RELIABLE)
        probe.create_subscription(DiagnosticStatus, '/attune/robot/undelivered', undelivered.append, RELIABLE)
        probe.create_subscription(Bool, '/attune/robot/connected', lambda m: connected.append(m.data), LATCHED)
        commands = probe.create_publisher(BehaviorCommand, '/attune/behavior/command', RELIABLE)
        faces = probe.create_publisher(Faces, '/attune/faces', RELIABLE)
        assert wait_for(lambda: commands.get_subscription_count() >= 2 and faces.get_subscription_count() >= 1, 30)

        def child() -> None:  # in view, looking away from the robot: a name call stays running
            while not stop.is_set():
                msg = Faces(image_width=640, image_height=480)
                msg.header.stamp = probe.get_clock().now().to_msg()
                face = Face(id='f1', detection_confidence=0.9, yaw=60.0, pose_valid=True)
                face.roi.xmin, face.roi.ymin, face.roi.xmax, face.roi.ymax = 0.4, 0.3, 0.6, 0.6
                msg.faces.append(face)
                faces.publish(msg)
                stop.wait(1 / 15)

        publisher = threading.Thread(target=child, daemon=True)
        publisher.start()

        def send(action: Action, text: str) -> None:
            stamp = probe.get_clock().now().nanoseconds
            commands.publish(msg_behavior_command.to_msg(Command(action, target_id='f1', text=text, rule='restart_test',
                                                                 stamp_ns=stamp)))

        def protocol(status: int, since: int = 0) -> list:
            return [e for e in events[since:] if e.kind == InteractionEvent.PROTOCOL and e.protocol_status == status]

        send(Action.NAME_CALL, 'Sam')
        assert wait_for(lambda: protocol(WAITING), 30), [(e.protocol_status, e.protocol_reason) for e in events]
        assert wait_for(lambda: nao.calls_to('ALAnimatedSpeech', 'say'), 30)

        nao.popen.kill()  # the robot dies
        nao.popen.wait()
        assert wait_for(lambda: protocol(ABORTED), 30), [(e.protocol_status, e.protocol_reason) for e in events]
        assert [e.protocol_reason for e in protocol(ABORTED)] == ['robot_disconnected']
        assert wait_for(lambda: connected and connected[-1] is False, 30), connected

        seen = len(events)
        send(Action.SAY, 'are you there')
        send(Action.NAME_CALL, 'Sam')
        assert wait_for(lambda: len(undelivered) >= 2, 30), undelivered
        reports = [{kv.key: kv.value for kv in u.values} for u in undelivered]
        assert [r['action'] for r in reports] == ['SAY', 'NAME_CALL'] and reports[0]['text'] == 'are you there'
        assert all(u.level == DiagnosticStatus.WARN and 'not connected' in u.message for u in undelivered)
        assert bridge.counts['commands_not_delivered'] == 2
        values = {kv.key: kv.value for kv in bridge.diagnostics().status[0].values}
        assert values['commands_not_delivered'] == '2'
        assert wait_for(lambda: protocol(ABORTED, seen), 30)  # the call asked for while the robot is gone
        assert protocol(ABORTED, seen)[0].protocol_reason == 'robot_disconnected'

        # Backoff: the wait between attempts doubles from 0.1 s up to its cap, 0.4 s.
        assert wait_for(lambda: bridge.robot.failed_attempts >= 3, 30)
        assert bridge.robot.retry_interval_s == pytest.approx(0.4)
        values = {kv.key: kv.value for kv in bridge.diagnostics().status[0].values}
        assert int(values['failed_connection_attempts']) >= 3 and values['next_retry_s'] == '0.4'

        back = VirtualNaoProcess(tmp_path, url, seconds_per_word=0.05).start()  # the robot is back
        assert bridge.robot.wait_connected(15)
        assert bridge.robot.connections == 2
        assert wait_for(lambda: connected[-1] is True, 30), connected
        send(Action.SAY, 'hello again')
        assert wait_for(lambda: back.calls_to('ALAnimatedSpeech', 'say'), 30)
        assert 'hello again' in back.calls_to('ALAnimatedSpeech', 'say')[0][2][0]
        assert not any('are you there' in c[2][0] for c in back.calls_to('ALAnimatedSpeech', 'say'))  # not replayed

        log_path = interaction._log.path
        interaction.release()
        records = [json.loads(line) for line in log_path.read_text().splitlines()]
        aborted = [r for r in records if r.get('type') == 'name_call' and r.get('reason') == 'robot_disconnected']
        assert len(aborted) == 2, records
    finally:
        stop.set()
        if publisher is not None:
            publisher.join(timeout=5)
        nao.stop()
        if back is not None:
            back.stop()
