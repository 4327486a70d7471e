"""The name-call protocol end to end on a real replayed clip: frames 245-330 of d3.mp4 (a woman turns her
head back to the camera, frontal by ~frame 292; see test/behavior/protocol/test_name_call_real_clip.py
for the annotation) as a bag -> BagPlayer -> the real face node -> the ASD emotion node (affect) and
the interaction node (the name-call protocol), with a NAME_CALL command stamped at frame 276. The
result must agree with the latency computed from the Faces the face node published, and with the
annotation by eye."""
from __future__ import annotations

import threading
import time

import pytest
from builtin_interfaces.msg import Time
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from attune.bag import frames_to_bag
from attune.bag.video import VideoReader
from attune.bag.writer import frame_stamp_ns
from attune.nodes.asd_emotion_node import AsdEmotionNode
from attune.nodes.face_node import FaceNode
from attune.nodes.interaction_node import InteractionNode
from attune.ros import msg_interaction_event
from attune.ros.stamps import from_ns, to_ns
from test.behavior.protocol.reference import reference_latency
from test.conftest import shared_data, wait_for

pytestmark = [pytest.mark.ros, pytest.mark.slow]

FIRST, LAST, CALL, FPS = 245, 330, 276, 30.0
RELIABLE = QoSProfile(depth=500, reliability=ReliabilityPolicy.RELIABLE)


def clip_frames():
    with VideoReader(shared_data('video', 'faces', 'd3.mp4'), max_frames=LAST + 1) as reader:
        for index, rgb in enumerate(reader):
            if index >= FIRST:
                yield rgb


def matched(node, topic: str) -> int:
    """How many subscriptions the node's publisher on `topic` has matched."""
    return next(p for p in node.publishers if p.topic_name == topic).get_subscription_count()


def test_a_name_call_on_a_replayed_clip_through_the_real_face_node(spinner, tmp_path) -> None:
    import rclpy

    from attune.msg import BehaviorCommand, Faces, InteractionEvent
    from attune.ros.player import BagPlayer

    start_ns = time.time_ns()
    bag = frames_to_bag(clip_frames(), tmp_path / 'clip', fps=FPS, topic='/replay_asd/image_raw', start_ns=start_ns)
    assert bag.frames == LAST - FIRST + 1
    call_ns = frame_stamp_ns(start_ns, CALL - FIRST, FPS)

    face = spinner.add(FaceNode(parameter_overrides=[
        Parameter('image_topic', value='/replay_asd/image_raw'), Parameter('deterministic_ids', value=True),
        Parameter('reliable_input', value=True), Parameter('input_queue_depth', value=100)],
        cli_args=['--ros-args', '-r', '__node:=face_node_replay_asd']))
    asd = spinner.add(AsdEmotionNode(parameter_overrides=[
        Parameter('image_topic', value='/replay_asd/image_raw'), Parameter('reliable_input', value=True),
        Parameter('input_queue_depth', value=100), Parameter('sync_queue_size', value=200),
        Parameter('calibration_s', value=0.0)],
        cli_args=['--ros-args', '-r', '__node:=asd_emotion_replay']))
    spinner.add(InteractionNode(parameter_overrides=[
        Parameter('command_topic', value='/replay_asd/command'), Parameter('baseline_s', value=0.5),
        Parameter('response_window_s', value=1.5), Parameter('affect_window_s', value=0.5),
        # The command comes before the first frame, which a cold face node (MediaPipe's first graph run)
        # takes seconds to deliver on a loaded machine: with the default 2 s without frames, the call
        # ended no_face (no_frames) before its frames came. This scenario is not about stalled cameras.
        Parameter('frame_timeout_s', value=30.0)],
        cli_args=['--ros-args', '-r', '__node:=interaction_replay_asd']))
    probe = spinner.add(rclpy.create_node('probe_replay_asd'))
    faces: list = []
    events: list = []
    probe.create_subscription(Faces, '/attune/faces', faces.append, RELIABLE)
    probe.create_subscription(InteractionEvent, '/attune/interaction/events', events.append, RELIABLE)
    commands = probe.create_publisher(BehaviorCommand, '/replay_asd/command', RELIABLE)
    assert wait_for(lambda: commands.get_subscription_count() >= 1, 30)
    # The nodes' own links matched before the first frame, so no Faces or affect is lost to discovery (a
    # precaution: the no_face results seen in CI came from the frame time-out above).
    assert wait_for(lambda: matched(face, '/attune/faces') >= 3 and matched(asd, '/attune/affect') >= 1, 30)
    # the command first (it can arrive before or after the frames it refers to)
    commands.publish(BehaviorCommand(header=Header(stamp=from_ns(call_ns, Time)), action=BehaviorCommand.NAME_CALL,
                                     text='Anna'))
    with BagPlayer(probe, bag.path, rate=0.5, wait_for_subscribers=2, topics=['/replay_asd/image_raw']) as player:
        thread = threading.Thread(target=player.play, daemon=True)
        thread.start()

        def results() -> list:
            return [p for p in map(msg_interaction_event.protocol_from_msg, (m for m in events if m.kind == m.PROTOCOL))
                    if p.status not in ('none', 'waiting')]

        assert wait_for(lambda: results(), 120), (events, len(faces))
        thread.join(timeout=60)
    (result,) = results()
    assert result.status == 'responded' and result.person_id == 'f1'
    assert result.stamp_ns == call_ns
    yaws = {to_ns(m.header.stamp): m.faces[0].yaw for m in faces if m.faces and m.faces[0].pose_valid}
    expected = reference_latency(yaws, call_ns, 0.5, 15.0, 2)
    assert result.latency_s == pytest.approx(expected, abs=1e-3)
    assert (286 - CALL) / FPS <= result.latency_s <= (296 - CALL) / FPS  # the annotation by eye
    # the face was classified during the call: the affect after it is known
    assert result.emotion and -1 <= result.valence <= 1
