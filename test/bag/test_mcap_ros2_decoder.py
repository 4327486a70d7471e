"""Bags attune writes decode with `mcap-ros2-support`, a decoder independent of rosbags (the one
Foxglove's Python tools use): the bag writer's camera streams, and a live rclpy recording of attune's
own Faces messages through BagRecorder, whose definitions must travel in the bag."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from attune.bag import frames_to_bag
from test.bag.synthetic import random_frames
from test.conftest import wait_for

mcap_reader = pytest.importorskip('mcap.reader')
mcap_ros2_decoder = pytest.importorskip('mcap_ros2.decoder')


def decoded(bag: Path, topic: str) -> list:
    """(schema name, decoded message, log time) of every message on `topic`, in log-time order."""
    (mcap_file,) = bag.glob('*.mcap')
    with mcap_file.open('rb') as stream:
        reader = mcap_reader.make_reader(stream, decoder_factories=[mcap_ros2_decoder.DecoderFactory()])
        return [(schema.name, msg, message.log_time)
                for schema, _channel, message, msg in reader.iter_decoded_messages(topics=[topic])]


def test_bag_writer_images_and_camera_info_decode(tmp_path: Path) -> None:
    frames = random_frames(5, width=32, height=24, seed=3)
    info = frames_to_bag(frames, tmp_path / 'camera', fps=10.0, start_ns=2_000_000_000, frame_id='cam')
    images = decoded(info.path, '/camera/image_raw')
    assert [name for name, _, _ in images] == ['sensor_msgs/msg/Image'] * 5
    for i, (_, image, log_time) in enumerate(images):
        stamp = image.header.stamp.sec * 1_000_000_000 + image.header.stamp.nanosec
        assert stamp == log_time == 2_000_000_000 + i * 100_000_000
        assert image.header.frame_id == 'cam'
        assert (image.width, image.height, image.encoding, image.step) == (32, 24, 'rgb8', 96)
        assert bytes(image.data) == frames[i].tobytes()
    cameras = decoded(info.path, '/camera/camera_info')
    assert len(cameras) == 5
    camera = cameras[0][1]
    assert (camera.width, camera.height) == (32, 24)
    fx = camera.k[0]
    assert fx == pytest.approx(16 / math.tan(math.radians(30)), rel=1e-6)  # 60 deg horizontal fov
    assert (camera.k[2], camera.k[5]) == pytest.approx((16.0, 12.0), abs=0.5)


@pytest.mark.ros
def test_live_recording_of_attune_faces_decodes(tmp_path: Path, spinner) -> None:
    from rclpy.node import Node

    from attune.msg import Face, Faces
    from attune.ros import qos
    from attune.ros.recorder import BagRecorder

    publisher_node = spinner.add(Node('mcap_faces_publisher'))
    recorder_node = spinner.add(Node('mcap_faces_recorder'))
    publisher = publisher_node.create_publisher(Faces, '/mcap_test/faces', qos.RESULTS)
    landmarks = np.arange(478 * 3, dtype=np.float32) / 2000.0
    sent = []
    for i in range(3):
        msg = Faces(image_width=640, image_height=480)
        msg.header.stamp.sec, msg.header.frame_id = 100 + i, 'camera'
        face = Face(id=f'abc{i}', detection_confidence=0.5 + 0.1 * i, age_frames=i + 1, yaw=10.0 * i,
                    pitch=math.nan, roll=-5.0, landmarks=landmarks.tolist(), pose_valid=True)
        face.roi.xmin, face.roi.ymin, face.roi.xmax, face.roi.ymax = 0.1, 0.2, 0.3 + 0.1 * i, 0.4
        face.head_pose.position.z = 0.8
        msg.faces = [face]
        sent.append(msg)
    with BagRecorder(recorder_node, tmp_path / 'live', {'/mcap_test/faces': 'attune/msg/Faces'},
                     reliable=True) as recorder:
        assert wait_for(lambda: publisher.get_subscription_count() > 0, 10)
        for msg in sent:
            publisher.publish(msg)
        assert wait_for(lambda: recorder.message_count == 3, 10), recorder.counts
    messages = decoded(tmp_path / 'live', '/mcap_test/faces')
    assert [name for name, _, _ in messages] == ['attune/msg/Faces'] * 3
    for i, (_, msg, _) in enumerate(messages):
        assert (msg.header.stamp.sec, msg.header.frame_id) == (100 + i, 'camera')
        assert (msg.image_width, msg.image_height) == (640, 480)
        (face,) = msg.faces
        assert face.id == f'abc{i}'
        assert face.age_frames == i + 1
        assert face.detection_confidence == pytest.approx(0.5 + 0.1 * i)
        assert (face.roi.xmin, face.roi.ymin, face.roi.xmax, face.roi.ymax) == \
            pytest.approx((0.1, 0.2, 0.3 + 0.1 * i, 0.4))
        assert face.yaw == pytest.approx(10.0 * i) and math.isnan(face.pitch) and face.roll == -5.0
        assert face.pose_valid and face.head_pose.position.z == pytest.approx(0.8)
        np.testing.assert_array_equal(np.asarray(face.landmarks, dtype=np.float32), landmarks)
        assert len(face.landmarks_3d) == 0
