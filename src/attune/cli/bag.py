"""`attune bag ...`: make bags. `attune bag from-video VIDEO OUT` turns a video into a camera bag;
`attune bag from-aedat4 IN.aedat4 OUT` turns an event-camera recording into a bag of EventPackets.

Sub-commands are nested (`attune bag <what>`), so converters for other sources (event cameras:
`from-aedat4`) join as siblings of from-video.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from attune.errors import BagError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser('bag', help='make bags (from a video, ...)', description=__doc__)
    parser.set_defaults(handler=lambda ns: _usage(parser))
    commands = parser.add_subparsers(dest='bag_command', metavar='BAG_COMMAND')

    p = commands.add_parser(
        'from-video', help='a video file -> a rosbag2 (MCAP) bag of sensor_msgs/Image + CameraInfo',
        description='Convert a video (anything OpenCV decodes) into a rosbag2 bag, format version 9 with '
                    'MCAP storage: one sensor_msgs/Image per frame and a matching CameraInfo, stamped '
                    'from the current time at the video\'s frame rate.')
    p.add_argument('video', type=Path, help='the video file')
    p.add_argument('out', type=Path, help='the bag directory to create')
    p.add_argument('--fps', type=float, default=None, help='frame rate of the stamps (default: the video\'s)')
    p.add_argument('--topic', default='/camera/image_raw',
                   help='image topic (default: %(default)s); CameraInfo goes beside it')
    p.add_argument('--max-frames', type=int, default=None, metavar='N', help='stop after N frames')
    p.add_argument('--resize', default=None, metavar='WxH', help='resize frames, e.g. 640x480')
    p.add_argument('--encoding', choices=('rgb8', 'bgr8'), default='rgb8',
                   help='image encoding (default: %(default)s)')
    p.add_argument('--hfov', type=float, default=60.0, metavar='DEG',
                   help='horizontal field of view for CameraInfo (default: %(default)s)')
    p.add_argument('--no-camera-info', action='store_true', help='do not write CameraInfo messages')
    p.add_argument('--overwrite', action='store_true', help='replace OUT if it is an existing bag')
    p.set_defaults(handler=from_video)

    p = commands.add_parser(
        'from-aedat4', help='an AEDAT4 event recording -> a rosbag2 (MCAP) bag of attune/EventPacket',
        description='Convert the polarity events of an AEDAT4 file (iniVation DV) into whole-sensor '
                    'attune/EventPacket messages, one per --packet-ms of recording time, stamped with the end '
                    'of their time window on the recording\'s clock (or shifted to --start-ns).')
    p.add_argument('recording', type=Path, help='the .aedat4 file')
    p.add_argument('out', type=Path, help='the bag directory to create')
    p.add_argument('--topic', default='/attune/events/sensor', help='EventPacket topic (default: %(default)s)')
    p.add_argument('--packet-ms', type=float, default=10.0, help='time per packet (default: %(default)s)')
    p.add_argument('--frame-id', default='event_camera', help='header.frame_id (default: %(default)s)')
    p.add_argument('--start-ns', type=int, default=None,
                   help='shift times so the first event is at this ROS time (default: keep the recording\'s)')
    p.add_argument('--overwrite', action='store_true', help='replace OUT if it is an existing bag')
    p.set_defaults(handler=from_aedat4)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def from_video(ns: argparse.Namespace) -> int:
    from attune.bag.video import parse_size
    from attune.bag.writer import video_to_bag

    resize = parse_size(ns.resize) if ns.resize else None
    if ns.max_frames is not None and ns.max_frames <= 0:
        raise BagError(f'--max-frames must be positive, got {ns.max_frames}')
    info = video_to_bag(ns.video, ns.out, fps=ns.fps, topic=ns.topic, max_frames=ns.max_frames,
                        resize=resize, encoding=ns.encoding, hfov_deg=ns.hfov,
                        camera_info=not ns.no_camera_info, overwrite=ns.overwrite)
    topics = info.image_topic + (f' + {info.camera_info_topic}' if info.camera_info_topic else '')
    print(f'wrote {info.path}: {info.frames} frames {info.width}x{info.height} at {info.fps:g} fps '
          f'({info.duration_s:.2f} s) on {topics}')
    return 0


def from_aedat4(ns: argparse.Namespace) -> int:
    from attune.bag.events import aedat4_to_bag

    if not ns.packet_ms > 0:
        raise BagError(f'--packet-ms must be positive, got {ns.packet_ms}')
    info = aedat4_to_bag(ns.recording, ns.out, topic=ns.topic, packet_ns=int(ns.packet_ms * 1e6),
                         frame_id=ns.frame_id, start_ns=ns.start_ns, overwrite=ns.overwrite)
    print(f'wrote {info.path}: {info.events} events in {info.packets} packets ({info.width}x{info.height}, '
          f'{info.duration_s:.3f} s) on {info.topic}')
    return 0
