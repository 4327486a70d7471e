"""Input that stops, beyond the camera (issue 14): every node whose /diagnostics has an idle message
declares `stale_input_s`, and a node fed by another topic (the interaction node, fed Faces) goes WARN
after it and back to OK when its input returns, without a restart. test_camera_stop.py does the same
for a camera-fed node."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy

import attune.nodes
from attune.ros.diagnostics import IDLE_AFTER_S
from test.conftest import wait_for

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
NAME = 'interaction_input_stop'


def node_modules() -> list:
    return [importlib.import_module(f'attune.nodes.{m.name}') for m in pkgutil.iter_modules(attune.nodes.__path__)
            if m.name.endswith('_node')]


def test_every_node_whose_input_can_stop_has_a_stale_period() -> None:
    checked = []
    for module in node_modules():
        diagnostics = module.NODE_CLASS.DIAGNOSTICS
        if diagnostics is None or not diagnostics.idle:  # robot bridges: no commands is not a fault
            continue
        stale = [p for p in module.PARAMETERS if p.name == 'stale_input_s']
        assert len(stale) == 1, f'{module.__name__} reports idle input but has no stale_input_s parameter'
        assert stale[0].default == IDLE_AFTER_S and stale[0].dynamic, module.__name__
        checked.append(module.NODE_NAME)
    assert {'interaction_node', 'behavior_node', 'sign_node', 'spiking_fer_node', 'face_node'} <= set(checked)


@pytest.mark.ros
def test_interaction_input_stop_is_reported_and_recovered_without_restart(spinner) -> None:
    import rclpy

    from attune.msg import Face, Faces
    from attune.nodes.interaction_node import InteractionNode

    node = spinner.add(InteractionNode(parameter_overrides=[Parameter('stale_input_s', value=1.0)],
                                       cli_args=['--ros-args', '-r', f'__node:={NAME}']))
    probe = spinner.add(rclpy.create_node('probe_input_stop'))
    statuses: list[DiagnosticStatus] = []
    probe.create_subscription(DiagnosticArray, '/diagnostics',
                              lambda m: statuses.extend(s for s in m.status if s.name.startswith(NAME)), RELIABLE)
    faces = probe.create_publisher(Faces, '/attune/faces', RELIABLE)
    assert wait_for(lambda: faces.get_subscription_count() >= 1, 30)

    def send(n: int) -> None:
        for _ in range(n):
            msg = Faces(image_width=640, image_height=480)
            msg.header.stamp = probe.get_clock().now().to_msg()
            face = Face(id='f1', detection_confidence=0.9, pose_valid=True)
            face.roi.xmin, face.roi.ymin, face.roi.xmax, face.roi.ymax = 0.4, 0.3, 0.6, 0.6
            msg.faces.append(face)
            faces.publish(msg)

    def level_after(count: int, level: bytes) -> DiagnosticStatus | None:
        return next((s for s in statuses[count:] if s.level == level), None)

    received = node.received
    send(3)
    assert wait_for(lambda: node.received >= received + 3 and level_after(len(statuses) - 1, DiagnosticStatus.OK), 30)
    running = len(statuses)
    assert wait_for(lambda: level_after(running, DiagnosticStatus.WARN), 30)  # the input stops
    assert level_after(running, DiagnosticStatus.WARN).message == 'no input in the last 1 s'
    stopped = len(statuses)
    send(3)  # the input is back: the same node, not restarted
    assert wait_for(lambda: level_after(stopped, DiagnosticStatus.OK), 30)
    assert node.bad_input.total == 0
