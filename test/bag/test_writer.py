"""Camera bags from frames and videos: round trips, the on-disk format, refusing bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from attune.bag import (
    attune_typestore,
    bag_topics,
    frames_to_bag,
    messages_to_bag,
    read_messages,
    video_to_bag,
)
from attune.bag.video import parse_size
from attune.bag.writer import camera_info_topic_for
from attune.errors import BagError
from attune.geometry import CameraIntrinsics
from attune.imaging import image_to_array
from test.bag.synthetic import FACES_TYPE, FakeFace, faces_message, random_frames
from test.conftest import shared_data

START_NS = 1_700_000_000_123_456_789


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8'])
def test_frames_round_trip_stamps_encoding_and_pixels(tmp_path, encoding) -> None:
    frames = random_frames(6)
    info = frames_to_bag(frames, tmp_path / 'bag', fps=30.0, encoding=encoding, start_ns=START_NS,
                         frame_id='cam_optical')

    assert (info.frames, info.width, info.height) == (6, 64, 48)
    assert info.camera_info_topic == '/camera/camera_info'
    expected = [START_NS + round(i * 1e9 / 30.0) for i in range(6)]
    assert info.stamps_ns == expected
    assert (info.start_ns, info.end_ns) == (expected[0], expected[-1])

    images = [m for m in read_messages(info.path, ['/camera/image_raw'])]
    assert [m.timestamp_ns for m in images] == expected  # bag time = header stamp
    for frame, stamp, message in zip(frames, expected, images, strict=True):
        msg = message.deserialize()
        assert msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec == stamp
        assert msg.header.frame_id == 'cam_optical'
        assert msg.encoding == encoding
        array = image_to_array(msg)
        np.testing.assert_array_equal(array if encoding == 'rgb8' else array[:, :, ::-1], frame)


def test_camera_info_matches_each_image(tmp_path) -> None:
    info = frames_to_bag(random_frames(3, width=80, height=60), tmp_path / 'bag', fps=10, hfov_deg=70.0,
                         start_ns=START_NS, topic='/robot/cam/image')
    assert info.camera_info_topic == '/robot/cam/camera_info'
    by_topic: dict[str, list] = {}
    for m in read_messages(info.path):
        by_topic.setdefault(m.topic, []).append(m)
    assert [m.timestamp_ns for m in by_topic['/robot/cam/image']] == \
        [m.timestamp_ns for m in by_topic['/robot/cam/camera_info']]
    cam = CameraIntrinsics.from_hfov(80, 60, 70.0)
    msg = by_topic['/robot/cam/camera_info'][1].deserialize()
    assert (msg.width, msg.height, msg.distortion_model) == (80, 60, 'plumb_bob')
    np.testing.assert_allclose(msg.k, [cam.fx, 0, cam.cx, 0, cam.fy, cam.cy, 0, 0, 1])
    np.testing.assert_array_equal(msg.d, np.zeros(5))
    assert math.isclose(2 * math.degrees(math.atan(msg.width / 2 / msg.k[0])), 70.0)


def test_without_camera_info(tmp_path) -> None:
    info = frames_to_bag(random_frames(2), tmp_path / 'bag', fps=5, camera_info=False, start_ns=0)
    assert info.camera_info_topic is None
    assert bag_topics(info.path) == {'/camera/image_raw': ('sensor_msgs/msg/Image', 2)}


def test_metadata_is_rosbag2_version_9_with_mcap_storage(tmp_path) -> None:
    info = frames_to_bag(random_frames(4), tmp_path / 'bag', fps=20, start_ns=START_NS)
    meta = yaml.safe_load((info.path / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    assert meta['version'] == 9
    assert meta['storage_identifier'] == 'mcap'
    assert meta['message_count'] == 8
    assert meta['starting_time']['nanoseconds_since_epoch'] == START_NS
    assert meta['duration']['nanoseconds'] == info.end_ns - info.start_ns
    [file] = meta['relative_file_paths']
    assert file.endswith('.mcap')
    assert (info.path / file).is_file()
    topics = {t['topic_metadata']['name']: t for t in meta['topics_with_message_count']}
    image = topics['/camera/image_raw']
    assert image['message_count'] == 4
    assert image['topic_metadata']['type'] == 'sensor_msgs/msg/Image'
    assert image['topic_metadata']['serialization_format'] == 'cdr'
    assert image['topic_metadata']['type_description_hash'] == \
        attune_typestore().hash_rihs01('sensor_msgs/msg/Image')
    assert image['topic_metadata']['offered_qos_profiles'][0]['reliability'] == 'reliable'


def test_official_mcap_reader_decodes_images_and_our_messages(tmp_path) -> None:
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    frames = random_frames(2)
    image_bag = frames_to_bag(frames, tmp_path / 'images', fps=10, start_ns=START_NS)
    faces_bag = tmp_path / 'faces'
    messages_to_bag([('/attune/faces', FACES_TYPE, START_NS,
                      faces_message(START_NS, [FakeFace('f1', 0.75, 12.5), FakeFace('f2', 0.5)]))], faces_bag)

    def decoded(bag):
        [mcap_file] = bag.glob('*.mcap')
        with mcap_file.open('rb') as stream:
            reader = make_reader(stream, decoder_factories=[DecoderFactory()])
            assert reader.get_header().profile == 'ros2'
            return [(schema, channel, message, msg)
                    for schema, channel, message, msg in reader.iter_decoded_messages()]

    images = [x for x in decoded(image_bag.path) if x[1].topic == '/camera/image_raw']
    schema, channel, message, msg = images[0]
    assert (schema.name, schema.encoding) == ('sensor_msgs/msg/Image', 'ros2msg')
    assert channel.message_encoding == 'cdr'
    assert message.log_time == START_NS
    assert (msg.width, msg.height, msg.encoding) == (64, 48, 'rgb8')
    np.testing.assert_array_equal(np.frombuffer(bytes(msg.data), np.uint8).reshape(48, 64, 3), frames[0])

    [(schema, _, _, msg)] = decoded(faces_bag)
    assert schema.name == FACES_TYPE
    assert 'MSG: attune/Face' in schema.data.decode()  # nested definitions are stored too
    assert [f.id for f in msg.faces] == ['f1', 'f2']
    assert msg.faces[0].detection_confidence == pytest.approx(0.75)
    assert msg.faces[0].yaw == pytest.approx(12.5)
    assert msg.faces[0].roi.xmax == pytest.approx(0.75)


def test_refuses_to_overwrite_unless_asked(tmp_path) -> None:
    out = tmp_path / 'bag'
    frames_to_bag(random_frames(2), out, fps=10, start_ns=0)
    with pytest.raises(BagError, match='exists'):
        frames_to_bag(random_frames(3), out, fps=10, start_ns=0)
    assert bag_topics(out)['/camera/image_raw'][1] == 2  # untouched
    frames_to_bag(random_frames(3), out, fps=10, start_ns=0, overwrite=True)
    assert bag_topics(out)['/camera/image_raw'][1] == 3


def test_overwrite_never_deletes_a_directory_that_is_not_a_bag(tmp_path) -> None:
    precious = tmp_path / 'notes'
    precious.mkdir()
    (precious / 'thesis.tex').write_text('do not delete')
    with pytest.raises(BagError, match='not belong to a bag'):
        frames_to_bag(random_frames(1), precious, fps=10, overwrite=True)
    assert (precious / 'thesis.tex').read_text() == 'do not delete'


@pytest.mark.parametrize(('frames', 'match'), [
    ([], 'no frames'),
    ([np.zeros((4, 4), np.uint8)], r'frame 0 .* \(H, W, 3\) uint8'),
    ([np.zeros((4, 4, 3), np.float32)], 'dtype float32'),
])
def test_bad_frames_leave_no_bag(tmp_path, frames, match) -> None:
    with pytest.raises(BagError, match=match):
        frames_to_bag(frames, tmp_path / 'bag', fps=10)
    assert not (tmp_path / 'bag').exists()


@pytest.mark.parametrize(('kwargs', 'match'), [
    ({'fps': 0}, 'fps'), ({'fps': math.nan}, 'fps'), ({'fps': 10, 'encoding': 'mono8'}, 'encoding'),
    ({'fps': 10, 'topic': '/camera/'}, 'topic'), ({'fps': 10, 'hfov_deg': 180}, 'hfov'),
])
def test_bad_arguments(tmp_path, kwargs, match) -> None:
    with pytest.raises(BagError, match=match):
        frames_to_bag(random_frames(1), tmp_path / 'bag', **kwargs)


def test_video_to_bag_keeps_every_frame_at_the_video_rate(tmp_path) -> None:
    video = shared_data('video', 'faces', 'd0.mp4')
    info = video_to_bag(video, tmp_path / 'bag', start_ns=START_NS)
    assert (info.frames, info.fps, info.width, info.height) == (78, 25.0, 512, 512)
    assert bag_topics(info.path) == {'/camera/image_raw': ('sensor_msgs/msg/Image', 78),
                                     '/camera/camera_info': ('sensor_msgs/msg/CameraInfo', 78)}
    stamps = [m.timestamp_ns for m in read_messages(info.path, ['/camera/image_raw'])]
    assert stamps[0] == START_NS
    assert np.diff(stamps).tolist() == pytest.approx([40_000_000] * 77, abs=1)
    assert info.duration_s == pytest.approx(77 / 25)


def test_video_to_bag_fps_max_frames_resize(tmp_path) -> None:
    video = shared_data('video', 'faces', 'd0.mp4')
    info = video_to_bag(video, tmp_path / 'bag', fps=50.0, max_frames=5, resize=(128, 96), start_ns=0,
                        topic='/cam/image', encoding='bgr8')
    assert (info.frames, info.width, info.height) == (5, 128, 96)
    messages = list(read_messages(info.path, ['/cam/image']))
    assert [m.timestamp_ns for m in messages] == [0, 20_000_000, 40_000_000, 60_000_000, 80_000_000]
    msg = messages[0].deserialize()
    assert (msg.width, msg.height, msg.encoding) == (128, 96, 'bgr8')


def test_a_file_that_is_not_a_video_is_a_bag_error(tmp_path) -> None:
    fake = tmp_path / 'clip.mp4'
    fake.write_text('this is not a video\n' * 100)
    with pytest.raises(BagError, match=r'clip\.mp4'):
        video_to_bag(fake, tmp_path / 'bag')
    with pytest.raises(BagError, match='does not exist'):
        video_to_bag(tmp_path / 'missing.mp4', tmp_path / 'bag')
    assert not (tmp_path / 'bag').exists()


def test_helpers() -> None:
    assert camera_info_topic_for('/camera/image_raw') == '/camera/camera_info'
    assert camera_info_topic_for('/image') == '/camera_info'
    assert parse_size('640x480') == (640, 480)
    for bad in ('640', '0x480', 'ax b', '-1x2'):
        with pytest.raises(BagError, match='WIDTHxHEIGHT'):
            parse_size(bad)


def test_cli_from_video(tmp_path, capsys) -> None:
    import argparse

    from attune.cli import bag

    parser = argparse.ArgumentParser(prog='attune')
    bag.add_parser(parser.add_subparsers())
    out = tmp_path / 'bag'
    args = parser.parse_args(['bag', 'from-video', str(shared_data('video', 'faces', 'd0.mp4')), str(out),
                              '--max-frames', '3', '--resize', '64x64', '--fps', '10'])
    assert args.handler(args) == 0
    assert 'wrote' in capsys.readouterr().out
    assert bag_topics(out)['/camera/image_raw'] == ('sensor_msgs/msg/Image', 3)
    args = parser.parse_args(['bag', 'from-video', str(shared_data('video', 'faces', 'd0.mp4')), str(out)])
    with pytest.raises(BagError, match='exists'):
        args.handler(args)
