"""Bag tools without rclpy: write camera bags from frames or videos, read bags, report on them.

Bags are rosbag2 format version 9 with MCAP storage, written and read with the pure-Python
`rosbags` library, and carry the definitions of attune's own messages. Replaying and recording
over ROS live in attune.ros.player and attune.ros.recorder.
"""
from attune.bag.reader import BagMessage, bag_topics, read_messages
from attune.bag.report import BagReport, FacesStats, FaceTrackStats, TopicStats, bag_report, format_report
from attune.bag.typestore import attune_types, attune_typestore
from attune.bag.video import VideoReader
from attune.bag.writer import BagInfo, frames_to_bag, messages_to_bag, video_to_bag

__all__ = [
    'BagInfo', 'BagMessage', 'BagReport', 'FaceTrackStats', 'FacesStats', 'TopicStats', 'VideoReader',
    'attune_types', 'attune_typestore', 'bag_report', 'bag_topics', 'format_report', 'frames_to_bag',
    'messages_to_bag', 'read_messages', 'video_to_bag',
]
