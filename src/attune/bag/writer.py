"""Writing camera frames and videos into rosbag2 bags (no rclpy).

Why: the nodes are tested and demonstrated on recordings, and a recording is most useful as a
bag, the format that `ros2 bag play`, Foxglove and our own BagPlayer replay with the original
timing. The bags written here are rosbag2 format version 9 with MCAP storage, carry the full
message definitions, and pair every sensor_msgs/Image with a sensor_msgs/CameraInfo of the same
stamp, so head pose gets intrinsics as it would from a real camera driver.
"""
from __future__ import annotations

import math
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys.store import Typestore

from attune.bag.typestore import attune_typestore
from attune.bag.video import VideoReader
from attune.errors import AttuneError, BagError
from attune.geometry import CameraIntrinsics
from attune.imaging import ImageFields, array_to_fields

#: rosbag2 metadata format version written (the one of Jazzy and Kilted).
BAG_VERSION: Final[Literal[9]] = 9

IMAGE_TYPE = 'sensor_msgs/msg/Image'
CAMERA_INFO_TYPE = 'sensor_msgs/msg/CameraInfo'

_NO_TIME = QosTime(sec=0, nsec=0)  # rmw's "default" (unbounded) deadline, lifespan and lease

#: QoS offered for the topics we write (stored in the bag; `ros2 bag play` publishes with it):
#: reliable and volatile, as a camera driver that wants lossless recording would offer.
OFFERED_QOS = Qos(history=QosHistory.KEEP_LAST, depth=100, reliability=QosReliability.RELIABLE,
                  durability=QosDurability.VOLATILE, deadline=_NO_TIME, lifespan=_NO_TIME,
                  liveliness=QosLiveliness.AUTOMATIC, liveliness_lease_duration=_NO_TIME,
                  avoid_ros_namespace_conventions=False)

_ENCODINGS = ('rgb8', 'bgr8')


@dataclass(frozen=True)
class BagInfo:
    """What frames_to_bag / video_to_bag wrote.

    Attributes:
        path: the bag directory (holds metadata.yaml and one .mcap file).
        image_topic: topic of the sensor_msgs/Image messages.
        camera_info_topic: topic of the CameraInfo messages, or None when none were written.
        frames: number of images written (and of CameraInfo messages, when written).
        fps: the frame rate the stamps were spaced by.
        start_ns: header stamp (= bag timestamp) of the first frame, nanoseconds.
        end_ns: header stamp of the last frame.
        width: width in pixels of the first frame.
        height: height in pixels of the first frame.
    """

    path: Path
    image_topic: str
    camera_info_topic: str | None
    frames: int
    fps: float
    start_ns: int
    end_ns: int
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        """Seconds from the first to the last frame's stamp."""
        return (self.end_ns - self.start_ns) * 1e-9

    @property
    def stamps_ns(self) -> list[int]:
        """The header stamps of all frames, in order (as frames_to_bag spaces them)."""
        return [frame_stamp_ns(self.start_ns, i, self.fps) for i in range(self.frames)]


def frame_stamp_ns(start_ns: int, index: int, fps: float) -> int:
    """The stamp of frame `index` of a stream starting at start_ns at `fps` frames per second.

    Computed from the index (not accumulated), so stamps do not drift over long recordings.
    """
    return start_ns + round(index * 1e9 / fps)


def camera_info_topic_for(image_topic: str) -> str:
    """`<image topic's namespace>/camera_info`, the image_transport convention.

    /camera/image_raw -> /camera/camera_info; /image -> /camera_info.
    """
    namespace = image_topic.rpartition('/')[0]
    return f'{namespace}/camera_info'


def prepare_output(out: Path, *, overwrite: bool) -> Path:
    """Make sure `out` can be created as a new bag directory; with overwrite, remove an old bag.

    Only a directory that looks like a bag (metadata.yaml or .mcap/.db3 files, nothing else, no
    sub-directories) or an empty one is removed, so a mistyped path cannot delete unrelated data.

    Raises:
        BagError: `out` exists and overwrite is false, or it exists and is not a bag.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        if not out.parent.is_dir():
            raise BagError(f'cannot write bag {out}: directory {out.parent} does not exist')
        return out
    if not overwrite:
        raise BagError(f'bag output {out} exists already; choose another path or overwrite it '
                       '(overwrite=True, --overwrite)')
    if out.is_symlink() or not out.is_dir():
        raise BagError(f'cannot overwrite {out}: it is not a bag directory')
    entries = list(out.iterdir())
    bag_files = {'metadata.yaml'}
    if any(e.is_dir() or not (e.name in bag_files or e.suffix in ('.mcap', '.db3', '.zstd', '.tmp'))
           for e in entries):
        raise BagError(f'cannot overwrite {out}: it holds files that do not belong to a bag')
    shutil.rmtree(out)
    return out


def _validate_stream(fps: float, topic: str, encoding: str, hfov_deg: float) -> str:
    if not (math.isfinite(fps) and fps > 0):
        raise BagError(f'fps must be a positive number, got {fps!r}')
    if encoding not in _ENCODINGS:
        raise BagError(f'encoding must be one of {", ".join(_ENCODINGS)}, got {encoding!r}')
    if not 0.0 < hfov_deg < 180.0:
        raise BagError(f'hfov_deg must be in (0, 180), got {hfov_deg!r}')
    topic = topic.strip()
    if not topic or topic.endswith('/') or ' ' in topic:
        raise BagError(f'{topic!r} is not a valid topic name')
    return topic if topic.startswith('/') else f'/{topic}'  # relative names resolve in '/'


def _camera_info(store: Typestore, header: Any, width: int, height: int, hfov_deg: float) -> Any:
    """A CameraInfo: ideal pinhole camera with the given horizontal field of view, no distortion."""
    cam = CameraIntrinsics.from_hfov(width, height, hfov_deg)
    types = store.types
    return types[CAMERA_INFO_TYPE](
        header=header, height=height, width=width, distortion_model='plumb_bob',
        d=np.zeros(5, dtype=np.float64),
        k=np.array([cam.fx, 0.0, cam.cx, 0.0, cam.fy, cam.cy, 0.0, 0.0, 1.0]),
        r=np.eye(3).ravel(),
        p=np.array([cam.fx, 0.0, cam.cx, 0.0, 0.0, cam.fy, cam.cy, 0.0, 0.0, 0.0, 1.0, 0.0]),
        binning_x=0, binning_y=0,
        roi=types['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0,
                                                      do_rectify=False))


def frames_to_bag(frames: Iterable[npt.NDArray[Any]], out: Path, *, fps: float,
                  topic: str = '/camera/image_raw', frame_id: str = 'camera', encoding: str = 'rgb8',
                  start_ns: int | None = None, camera_info: bool = True, hfov_deg: float = 60.0,
                  overwrite: bool = False) -> BagInfo:
    """Write RGB frames as a camera stream into a new rosbag2 (version 9, MCAP) bag.

    Frame i gets the header stamp start_ns + i / fps, and the bag timestamp equals the header
    stamp, so a player reproduces the camera's timing and stamps match what a node publishes
    back. Frames are consumed one at a time (a long video never sits in memory).

    Args:
        frames: (H, W, 3) uint8 RGB arrays.
        out: the bag directory to create.
        fps: frame rate the stamps are spaced by.
        topic: image topic; CameraInfo goes to `camera_info` in the same namespace.
        frame_id: header.frame_id of every message.
        encoding: 'rgb8' (frames stored as given) or 'bgr8' (channels swapped, as most cameras).
        start_ns: stamp of the first frame in nanoseconds; default: the current wall time.
        camera_info: also write a sensor_msgs/CameraInfo per frame (same stamp).
        hfov_deg: horizontal field of view of that CameraInfo's ideal pinhole camera.
        overwrite: replace an existing bag at `out` (see prepare_output).

    Returns:
        What was written.

    Raises:
        BagError: bad arguments, no frames, a frame that is not (H, W, 3) uint8, `out` exists,
            or the bag cannot be written. No partial bag is left behind.
    """
    topic = _validate_stream(fps, topic, encoding, hfov_deg)
    start_ns = time.time_ns() if start_ns is None else int(start_ns)
    if start_ns < 0:
        raise BagError(f'start_ns must not be negative, got {start_ns}')
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise BagError(f'no frames to write into {out}')
    out = prepare_output(Path(out), overwrite=overwrite)
    info_topic = camera_info_topic_for(topic) if camera_info else None
    store = attune_typestore()
    types = store.types
    count = 0
    stamp = start_ns
    try:
        with Writer(out, version=BAG_VERSION, storage_plugin=StoragePlugin.MCAP) as writer:
            image_conn = writer.add_connection(topic, IMAGE_TYPE, typestore=store,
                                               offered_qos_profiles=[OFFERED_QOS])
            info_conn = (writer.add_connection(info_topic, CAMERA_INFO_TYPE, typestore=store,
                                               offered_qos_profiles=[OFFERED_QOS])
                         if info_topic else None)
            for index, rgb in enumerate(_chain(first, iterator)):
                stamp = frame_stamp_ns(start_ns, index, fps)
                sec, nanosec = divmod(stamp, 1_000_000_000)
                header = types['std_msgs/msg/Header'](
                    stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec),
                    frame_id=frame_id)
                fields = _image_fields(rgb, encoding, index, out)
                image = types[IMAGE_TYPE](
                    header=header, height=fields.height, width=fields.width, encoding=fields.encoding,
                    is_bigendian=fields.is_bigendian, step=fields.step,
                    data=np.frombuffer(fields.data, dtype=np.uint8))
                writer.write(image_conn, stamp, store.serialize_cdr(image, IMAGE_TYPE))
                if info_conn is not None:
                    msg = _camera_info(store, header, fields.width, fields.height, hfov_deg)
                    writer.write(info_conn, stamp, store.serialize_cdr(msg, CAMERA_INFO_TYPE))
                count += 1
    except WriterError as exc:
        _remove_partial(out)
        raise BagError(f'cannot write bag {out}: {exc}') from None
    except BaseException:
        _remove_partial(out)
        raise
    return BagInfo(path=out, image_topic=topic, camera_info_topic=info_topic, frames=count, fps=float(fps),
                   start_ns=start_ns, end_ns=stamp, width=int(first.shape[1]), height=int(first.shape[0]))


def messages_to_bag(messages: Iterable[tuple[str, str, int, Any]], out: Path, *,
                    typestore: Typestore | None = None, overwrite: bool = False) -> dict[str, int]:
    """Write rosbags message objects into a new bag (version 9, MCAP); return {topic: count}.

    For bags of any type, e.g. synthetic attune/msg/Faces for tests and examples; each topic's
    connection is added at its first message, with the full definition from the typestore.

    Args:
        messages: (topic, msgtype, bag timestamp in ns, message object of that typestore).
        out: the bag directory to create.
        typestore: where the types come from (default: attune_typestore()).
        overwrite: replace an existing bag at `out`.

    Raises:
        BagError: `out` exists, a type is unknown, or a message does not serialize as its type.
    """
    store = typestore or attune_typestore()
    out = prepare_output(Path(out), overwrite=overwrite)
    counts: dict[str, int] = {}
    connections: dict[tuple[str, str], Any] = {}
    try:
        with Writer(out, version=BAG_VERSION, storage_plugin=StoragePlugin.MCAP) as writer:
            for topic, msgtype, timestamp, message in messages:
                key = (topic, msgtype)
                if key not in connections:
                    if msgtype not in store.fielddefs:
                        raise BagError(f'cannot write {topic} into {out}: type {msgtype} is unknown')
                    connections[key] = writer.add_connection(topic, msgtype, typestore=store)
                try:
                    data = store.serialize_cdr(message, msgtype)
                except Exception as exc:  # noqa: BLE001 - rosbags' generated encoders raise many types
                    raise BagError(f'message on {topic} for {out} does not serialize as {msgtype}: '
                                   f'{type(exc).__name__}: {exc}') from None
                writer.write(connections[key], int(timestamp), data)
                counts[topic] = counts.get(topic, 0) + 1
    except WriterError as exc:
        _remove_partial(out)
        raise BagError(f'cannot write bag {out}: {exc}') from None
    except BaseException:
        _remove_partial(out)
        raise
    return counts


def _chain(first: npt.NDArray[Any], rest: Iterator[npt.NDArray[Any]]) -> Iterator[npt.NDArray[Any]]:
    yield first
    yield from rest


def _image_fields(rgb: npt.NDArray[Any], encoding: str, index: int, out: Path) -> ImageFields:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        shape = getattr(rgb, 'shape', None)
        dtype = getattr(rgb, 'dtype', type(rgb).__name__)
        raise BagError(f'frame {index} for {out} is not an (H, W, 3) uint8 RGB image '
                       f'(shape {shape}, dtype {dtype})')
    array = rgb if encoding == 'rgb8' else rgb[:, :, ::-1]
    try:
        return array_to_fields(array, encoding)
    except AttuneError as exc:
        raise BagError(f'frame {index} for {out}: {exc}') from None


def _remove_partial(out: Path) -> None:
    """Delete what an interrupted write left (the Writer created the directory)."""
    shutil.rmtree(out, ignore_errors=True)


def video_to_bag(video: Path, out: Path, *, fps: float | None = None, topic: str = '/camera/image_raw',
                 max_frames: int | None = None, resize: tuple[int, int] | None = None,
                 frame_id: str = 'camera', encoding: str = 'rgb8', start_ns: int | None = None,
                 camera_info: bool = True, hfov_deg: float = 60.0, overwrite: bool = False) -> BagInfo:
    """Convert a video file (anything OpenCV decodes) into a camera bag, see frames_to_bag.

    Every decoded frame becomes one image; `fps` only sets the stamp spacing (a different value
    plays the video faster or slower, it does not drop or repeat frames).

    Args:
        video: the video file.
        out: the bag directory to create.
        fps: frame rate of the stamps; default: the video's own.
        topic: image topic.
        max_frames: stop after this many frames.
        resize: (width, height) to resize every frame to.
        frame_id, encoding, start_ns, camera_info, hfov_deg, overwrite: as in frames_to_bag.

    Raises:
        BagError: the video cannot be opened, has no frames, or states no frame rate and none is
            given; and everything frames_to_bag raises.
    """
    if fps is not None:
        _validate_stream(fps, topic, encoding, hfov_deg)
    if not overwrite:
        prepare_output(Path(out), overwrite=False)  # fail before decoding anything
    with VideoReader(video, max_frames=max_frames, resize=resize) as reader:
        if fps is None:
            if not reader.fps:
                raise BagError(f'video {video} does not state its frame rate; give fps')
            fps = reader.fps
        return frames_to_bag(reader, out, fps=fps, topic=topic, frame_id=frame_id, encoding=encoding,
                             start_ns=start_ns, camera_info=camera_info, hfov_deg=hfov_deg,
                             overwrite=overwrite)
