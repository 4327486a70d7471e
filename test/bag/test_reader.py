"""Reading bags: topic listing, filtering, raw bytes, and types the bag does not (or only) define."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from attune.bag import attune_typestore, bag_topics, frames_to_bag, messages_to_bag, read_messages
from attune.errors import BagError
from test.bag.synthetic import FACES_TYPE, FakeFace, faces_message, random_frames


def test_topics_and_filter(tmp_path) -> None:
    info = frames_to_bag(random_frames(3), tmp_path / 'bag', fps=10, start_ns=0)
    assert bag_topics(info.path) == {'/camera/image_raw': ('sensor_msgs/msg/Image', 3),
                                     '/camera/camera_info': ('sensor_msgs/msg/CameraInfo', 3)}
    only = list(read_messages(info.path, ['/camera/camera_info']))
    assert [(m.topic, m.msgtype) for m in only] == [('/camera/camera_info', 'sensor_msgs/msg/CameraInfo')] * 3
    assert all(m.data[:4] == b'\x00\x01\x00\x00' for m in only)  # CDR little-endian encapsulation
    window = list(read_messages(info.path, start_ns=100_000_000, stop_ns=200_000_000))
    assert [m.timestamp_ns for m in window] == [100_000_000, 100_000_000]


def test_missing_bag_and_topic_are_bag_errors(tmp_path) -> None:
    with pytest.raises(BagError, match='does not exist'):
        bag_topics(tmp_path / 'nope')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(BagError, match='cannot read bag'):
        bag_topics(tmp_path / 'empty')
    info = frames_to_bag(random_frames(1), tmp_path / 'bag', fps=10, start_ns=0)
    with pytest.raises(BagError, match=r'/attune/faces not in bag .*it has: /camera/camera_info'):
        read_messages(info.path, ['/attune/faces'])


def test_our_types_decode_when_the_bag_lacks_their_definitions(tmp_path) -> None:
    """Like a bag from a storage that keeps no definitions: attune's msg/ files stand in."""
    store = attune_typestore()
    path = tmp_path / 'bag'
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection('/attune/faces', FACES_TYPE, msgdef='', rihs01='RIHS01_unknown')
        writer.write(conn, 5, store.serialize_cdr(faces_message(5, [FakeFace('f7', 0.5)]), FACES_TYPE))
    [message] = read_messages(path)
    assert [f.id for f in message.deserialize().faces] == ['f7']


def test_types_only_the_bag_defines_decode_from_the_bag(tmp_path) -> None:
    other = get_typestore(Stores.ROS2_KILTED)
    definition = 'string name\nint32[] values\nstd_msgs/Header header'
    other.register(get_types_from_msg(definition, 'other_pkg/msg/Thing'))
    thing = other.types['other_pkg/msg/Thing']
    header = other.types['std_msgs/msg/Header'](
        stamp=other.types['builtin_interfaces/msg/Time'](sec=1, nanosec=2), frame_id='x')
    messages_to_bag([('/thing', 'other_pkg/msg/Thing', 9,
                      thing(name='hello', values=np.array([1, 2, 3], np.int32), header=header))],
                    tmp_path / 'bag', typestore=other)
    [message] = read_messages(tmp_path / 'bag')
    decoded = message.deserialize()
    assert decoded.name == 'hello'
    assert decoded.values.tolist() == [1, 2, 3]
    assert decoded.header.frame_id == 'x'


def test_unknown_type_without_definition_fails_only_when_decoded(tmp_path) -> None:
    path = tmp_path / 'bag'
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection('/mystery', 'nobody/msg/Knows', msgdef='', rihs01='RIHS01_x')
        writer.write(conn, 1, b'\x00\x01\x00\x00abcd')
    [message] = read_messages(path)
    assert message.data == b'\x00\x01\x00\x00abcd'
    with pytest.raises(BagError, match='nobody/msg/Knows on /mystery'):
        message.deserialize()


def test_typestore_knows_every_msg_file() -> None:
    from attune.resources import msg_dir

    names = {f'attune/msg/{p.stem}' for p in msg_dir().glob('*.msg')}
    assert names
    assert names <= set(attune_typestore().fielddefs)
    # the hash rosidl computed when building the messages equals ours, so ROS 2 tools accept our bags
    built = Path(sys.prefix) / 'share' / 'attune' / 'msg' / 'Faces.json'
    if built.is_file():
        hashes = {h['type_name']: h['hash_string'] for h in json.loads(built.read_text())['type_hashes']}
        assert hashes[FACES_TYPE] == attune_typestore().hash_rihs01(FACES_TYPE)
