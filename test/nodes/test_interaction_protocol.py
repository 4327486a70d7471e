"""The name-call protocol in the interaction node, through real rclpy and Fast DDS: started by a
NAME_CALL command, driven by Faces (head yaw) and AffectState (the affect after the call), results out
as attune/InteractionEvent and into the therapist's log; the speech onset, STOP, and bad input."""
from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from attune.behavior.protocol import ProtocolStatus
from attune.emotions import EMOTIONS
from attune.face.head_pose import rotation_from_angles
from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import BoundingBox
from attune.jsonl_log import read_log
from attune.nodes.interaction_node import InteractionNode
from attune.ros import msg_faces, msg_interaction_event
from attune.ros.stamps import from_ns
from test.conftest import ROSOUT_QOS, left_in_readers, taken_in_tens, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
S = 1_000_000_000
FPS = 30
STATUS = {s.name.lower(): s for s in ProtocolStatus}


def header(ns: int) -> Header:
    return Header(stamp=from_ns(ns, Time), frame_id='test_camera')


def tracked(track: str, yaw: float | None, center_x: float = 0.5) -> TrackedFace:
    box = BoundingBox(center_x - 0.2, 0.2, center_x + 0.2, 0.8)
    pose = None
    if yaw is not None:
        t = np.array([0.0, 0.0, 0.6])
        pose = HeadPose(yaw=yaw, pitch=0.0, roll=0.0, rotation=rotation_from_angles(yaw, 0.0, 0.0, t), translation=t)
    return TrackedFace(track, FaceObservation(box, 0.9, None), age_frames=10, age_s=1.0, head_pose=pose)


def faces_msg(ns: int, faces: list[TrackedFace]):
    return msg_faces.to_msg(FaceFrame(ns, 640, 480, tuple(faces)), header(ns), landmarks=False, landmarks_3d=False)


class Harness:
    """An interaction node (its topics remapped under /<name>/) plus a probe that publishes Faces,
    AffectState, commands and the speaking state, and collects the protocol events and /rosout errors."""

    def __init__(self, spinner, name: str, **params) -> None:
        import rclpy

        from attune.msg import AffectState, BehaviorCommand, Faces, InteractionEvent

        self.name = f'interaction_{name}'
        remaps = [arg for topic, to in (('faces', 'faces'), ('affect', 'affect'), ('robot/speaking', 'speaking'),
                                        ('interaction/events', 'events'), ('interaction_state', 'state'))
                  for arg in ('-r', f'/attune/{topic}:=/{name}/{to}')]
        overrides = [Parameter(k, value=v) for k, v in {'command_topic': f'/{name}/command', **params}.items()]
        self.node = spinner.add(InteractionNode(parameter_overrides=overrides,
                                                cli_args=['--ros-args', '-r', f'__node:={self.name}', *remaps]))
        self.probe = spinner.add(rclpy.create_node(f'probe_{self.name}'))
        self.events: list = []
        self.errors: list[str] = []
        self.probe.create_subscription(InteractionEvent, f'/{name}/events', self.events.append, RELIABLE)
        rosout = self.probe.create_subscription(Log, '/rosout', self._on_log, ROSOUT_QOS)
        self.faces = self.probe.create_publisher(Faces, f'/{name}/faces', RELIABLE)
        self.affect = self.probe.create_publisher(AffectState, f'/{name}/affect', RELIABLE)
        self.commands = self.probe.create_publisher(BehaviorCommand, f'/{name}/command', RELIABLE)
        self.command_type, self.affect_type = BehaviorCommand, AffectState
        for pub in (self.faces, self.affect, self.commands):
            assert wait_for(lambda p=pub: p.get_subscription_count() >= 1, 30)
        assert wait_for(lambda: rosout.get_publisher_count() >= self.probe.count_publishers('/rosout') >= 2, 30)

    def _on_log(self, log: Log) -> None:
        if log.name == self.name and log.level >= Log.ERROR:
            self.errors.append(log.msg)

    def frames(self, count: int) -> Iterator[int]:
        """taken_in_tens for this node, one Faces per frame. Sent as one burst, frames overran the node's
        Faces queue (30): the gap read as the face leaving (test_interaction_identity), as no face, or as
        a head turn interpolated across it (a latency of 0.55 s for 0.79). The frames' stamps, not the
        sending pace, are the scenario's clock."""
        return taken_in_tens(self.node, count)

    def name_call(self, ns: int, target: str = '', name: str = 'Sam', action: int | None = None) -> None:
        c = self.command_type
        self.commands.publish(c(header=header(ns), action=c.NAME_CALL if action is None else action, target_id=target,
                                text=name))

    def protocol(self) -> list:
        return [msg_interaction_event.protocol_from_msg(m) for m in self.events if m.kind == m.PROTOCOL]

    def finals(self) -> list:
        return [p for p in self.protocol() if p.status not in ('none', 'waiting')]

    def wait_final(self, count: int = 1, timeout: float = 20.0) -> list:
        assert wait_for(lambda: len(self.finals()) >= count, timeout), (self.protocol(), self.errors)
        return self.finals()


def test_a_name_call_measures_the_head_turn_and_the_affect_and_writes_the_log(spinner, tmp_path) -> None:
    h = Harness(spinner, 'call', response_window_s=2.0, affect_window_s=1.0, session_log_dir=str(tmp_path),
                session_name='child07')
    base = time.time_ns()
    call_ns = base + 1 * S
    h.name_call(call_ns, target='f1', name='Sam')  # the command first; frames follow
    happy = [1.0 if e == 'happy' else 0.0 for e in EMOTIONS]
    for i in h.frames(4 * FPS):
        t = i / FPS
        stamp = base + i * S // FPS
        yaw = 40.0 if t <= 1.6 else max(0.0, 40.0 - 80.0 * (t - 1.6))
        if i % 6 == 0:  # the ASD emotion node's estimate (5 per second), before the frame that decides
            h.affect.publish(h.affect_type(header=header(stamp), face_id='f1', source='asd_emotion',
                                           emotions=list(EMOTIONS), probabilities=happy, dominant_emotion='happy',
                                           valence=0.6, arousal=0.2, engagement=math.nan))
        h.faces.publish(faces_msg(stamp, [tracked('f1', yaw)]))
    (result,) = h.wait_final()
    assert (result.status, result.person_id, result.name, result.called_name) == ('responded', 'f1', 'name_call',
                                                                                  'Sam')
    assert result.stamp_ns == call_ns and result.reason == 'head_turn'
    assert result.latency_s == pytest.approx(0.7875, abs=2e-3)  # 0.6 s still, then 15 deg at 80 deg/s
    assert result.emotion == 'happy' and result.valence == pytest.approx(0.6, abs=1e-6)
    waiting = [p for p in h.protocol() if p.status == 'waiting']
    assert waiting and waiting[0].stamp_ns == call_ns
    # the therapist's log
    (log,) = tmp_path.glob('asd_session_*_child07.jsonl')
    assert wait_for(lambda: any(r['type'] == 'name_call' for r in read_log(log)), 30)
    record = next(r for r in read_log(log) if r['type'] == 'name_call')
    assert record['status'] == 'responded' and record['name'] == 'Sam' and record['face_id'] == 'f1'
    assert record['latency_s'] == pytest.approx(0.7875, abs=2e-3) and record['response_emotion'] == 'happy'
    assert read_log(log)[0]['protocol']['turn_threshold_deg'] == 15.0


def test_protocols_end_without_a_face_or_when_it_leaves_and_bad_commands_are_reported(spinner) -> None:
    h = Harness(spinner, 'bad', response_window_s=1.0, affect_window_s=0.5, presence_s=0.3, lost_timeout_s=0.3)
    base = time.time_ns()
    # 1. a call with no face present (frames keep coming, empty)
    h.name_call(base + 3 * S // 2)
    for i in h.frames(30):
        h.faces.publish(faces_msg(base + (30 + i) * S // 30, []))
    (no_face,) = h.wait_final()
    assert no_face.status == 'no_face' and no_face.person_id == ''
    # 2. a face that leaves mid-protocol and does not come back
    start = base + 3 * S
    h.name_call(start + S // 2, target='f2')
    for i in h.frames(90):
        faces = [tracked('f2', 30.0)] if i < 25 else []
        h.faces.publish(faces_msg(start + i * S // 30, faces))
    _, aborted = h.wait_final(2)
    assert aborted.status == 'aborted' and aborted.person_id == 'f2'
    # 3. other commands are ignored; a NAME_CALL without a stamp is reported and uses the receive time
    h.name_call(start, action=h.command_type.SAY)
    h.name_call(0, target='f3')
    assert wait_for(lambda: any('without a header stamp' in e for e in h.errors), 30), h.errors
    # 4. a command with an unknown action is reported, and the node lives on
    h.commands.publish(h.command_type(header=header(start), action=200))
    assert wait_for(lambda: any('unknown BehaviorCommand action' in e for e in h.errors), 30), (
        h.errors, h.node.bad_input.counts, h.node.received, left_in_readers(h.node), left_in_readers(h.probe))


def speaking_msg(value: bool, ns: int):
    from attune.msg import RobotSpeaking

    return RobotSpeaking(header=Header(stamp=from_ns(ns, Time)), speaking=value)


def test_the_stimulus_is_the_robots_speech_onset_and_stop_aborts(spinner) -> None:
    """docs/behavior.md: the stimulus is the stamp of the rising edge of /attune/robot/speaking within 2 s
    after the NAME_CALL (else the command's stamp); a STOP command aborts the running call."""
    from attune.msg import RobotSpeaking

    h = Harness(spinner, 'onset')
    speaking = h.probe.create_publisher(RobotSpeaking, '/onset/speaking', LATCHED)
    assert wait_for(lambda: speaking.get_subscription_count() >= 1, 30)
    speaking.publish(speaking_msg(False, h.node.get_clock().now().nanoseconds))
    time.sleep(0.2)
    command_ns = h.node.get_clock().now().nanoseconds
    h.name_call(command_ns, target='f1')
    time.sleep(0.5)
    assert not h.protocol()  # waiting for the robot to speak
    edge = h.node.get_clock().now().nanoseconds
    speaking.publish(speaking_msg(True, edge))
    assert wait_for(lambda: h.protocol(), 30)
    (waiting,) = h.protocol()
    assert waiting.status == 'waiting' and waiting.person_id == 'f1'
    assert waiting.stamp_ns == edge  # the onset's stamp, not the command's
    h.commands.publish(h.command_type(header=header(command_ns), action=h.command_type.STOP))
    (stopped,) = h.wait_final()
    assert stopped.status == 'aborted' and stopped.reason == 'stopped' and stopped.stamp_ns == waiting.stamp_ns
    # without a speech onset within speaking_wait_s (2 s), the command's stamp is the stimulus
    speaking.publish(speaking_msg(False, h.node.get_clock().now().nanoseconds))
    second_ns = h.node.get_clock().now().nanoseconds
    h.name_call(second_ns, target='f1')
    assert wait_for(lambda: len(h.protocol()) >= 3, 30)
    assert h.protocol()[2].stamp_ns == second_ns
    # an onset without a stamp is reported and timed by its receive time
    h.name_call(h.node.get_clock().now().nanoseconds, target='f1')
    speaking.publish(speaking_msg(True, 0))
    assert wait_for(lambda: h.node.bad_input.counts.get('speaking_stamp') == 1, 30), h.node.bad_input.counts


def test_a_speech_onset_handled_after_the_childs_turn_still_times_the_call(spinner) -> None:
    """The onset's stamp, not its arrival, is the stimulus: here the speaking signal arrives after every
    frame of the turn (a loaded robot PC), and the turn is still measured against the frames before the
    onset (before the stamps were used, the turned frames fell into the baseline: a 30 deg turn, or none)."""
    from attune.msg import RobotSpeaking

    h = Harness(spinner, 'late', response_window_s=1.5)
    speaking = h.probe.create_publisher(RobotSpeaking, '/late/speaking', LATCHED)
    assert wait_for(lambda: speaking.get_subscription_count() >= 1, 30)
    # The scenario's stamps lie a minute ahead of the node clock, so that the call's 2 s wait for its onset
    # (node clock) cannot run out while the frames are sent, however slow the machine.
    base = h.node.get_clock().now().nanoseconds + 60 * S
    speaking.publish(speaking_msg(False, base))
    h.name_call(base + S, target='f1')
    onset_ns = base + 6 * S // 5
    for i in h.frames(3 * FPS):
        stamp = base + i * S // FPS
        h.faces.publish(faces_msg(stamp, [tracked('f1', 60.0 if stamp < onset_ns + 4 * S // 5 else 0.0)]))
    assert not h.protocol()  # still waiting for the robot to speak
    speaking.publish(speaking_msg(True, onset_ns))
    (result,) = h.wait_final()
    assert (result.status, result.reason, result.stamp_ns) == ('responded', 'head_turn', onset_ns)
    assert result.latency_s == pytest.approx(0.8, abs=1.5 / FPS) and result.head_turn_deg == pytest.approx(60.0)


def test_the_executable_reports_a_bad_protocol_parameter_and_exits_1() -> None:
    result = subprocess.run([sys.executable, '-m', 'attune.nodes.interaction_node', '--ros-args', '-p',
                             'turn_threshold_deg:=500.0'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and 'turn_threshold_deg' in result.stderr
