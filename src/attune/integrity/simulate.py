"""Streams made from real recordings: camera-like (genuine) and attacks, each labelled by kind.

Genuine: the recording's frames published the way a camera driver would: a nominal rate with
capture jitter and rare drops, a driver latency, fresh Poisson-Gaussian sensor noise every frame,
camera_info, a driver's node name. Attacks (ATTACK_KINDS):
- bag_replay: a recording replayed by a player, with its original stamps or re-stamped on
  publish; the bag was recorded from a camera (noise baked in, but frozen) or from a video;
- looped_video: a short clip of the video played in a loop by a timer;
- virtual_camera: re-encoded (JPEG) video frames on perfectly regular stamps, read by a real
  camera driver from a loopback device (so the publisher's name looks right);
- static_image: one picture, over and over;
- spliced: a genuine camera that switches to a replayed video 25 frames before the end.
ADAPTIVE (reported apart, not in the headline): a replay that knows the features: fresh noise,
driver-like jitter and latency, spoofed driver name and camera_info.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.integrity.content import frame_content
from attune.integrity.evidence import CameraInfoSeen, FrameObservation, StreamEvidence

ATTACK_KINDS = ('bag_replay', 'looped_video', 'virtual_camera', 'static_image', 'spliced')
ADAPTIVE = 'adaptive_replay'
STREAM_FRAMES = 90
SPLICE_AT = 65
MAX_START = 300
SIDE = 256           # streams are the central SIDE x SIDE of the recording (the face), for speed
DRIVERS = ('usb_cam', 'v4l2_camera', 'naoqi_driver', 'realsense2_camera', 'cv_camera', 'gscam')
PLAYERS = ('rosbag2_player', 'attune_player', 'video_publisher', 'image_publisher')
UNKNOWN = ('head_cam', 'front_sensor', 'eyes', 'stream_node')


@dataclass
class Stream:
    """A labelled stream: frames with their header stamps and receive times, and graph facts."""

    kind: str                     # 'genuine' or an attack kind
    recording: str
    frames: list[npt.NDArray[Any]]
    stamps_ns: npt.NDArray[Any]
    receive_ns: npt.NDArray[Any]
    frame_ids: list[str]
    publishers: tuple[str, ...]
    camera_info: CameraInfoSeen | None

    @property
    def live(self) -> bool:
        return self.kind == 'genuine'


@functools.lru_cache(maxsize=1)
def _decoded(path: str, limit: int) -> tuple[npt.NDArray[Any], ...]:
    cap = cv2.VideoCapture(path)
    frames: list[npt.NDArray[Any]] = []
    while len(frames) < limit:
        ok, bgr = cap.read()
        if not ok:
            break
        h, w = bgr.shape[:2]
        top, left = (h - SIDE) // 2 // 8 * 8, (w - SIDE) // 2 // 8 * 8   # keep the codec's 8x8 grid
        frames.append(cv2.cvtColor(bgr[top:top + SIDE, left:left + SIDE], cv2.COLOR_BGR2RGB))
    cap.release()
    return tuple(frames)


def read_frames(path: str, start: int, count: int) -> list[npt.NDArray[Any]]:
    """`count` rgb frames (central SIDE x SIDE) from `start`, played back and forth when the recording
    is shorter (the latest recording's first MAX_START + STREAM_FRAMES frames stay decoded)."""
    frames = list(_decoded(path, MAX_START + STREAM_FRAMES))
    if not frames:
        raise ValueError(f'{path}: no frames')
    cycle = frames + frames[-2:0:-1] if len(frames) > 2 else frames
    return [cycle[(start + i) % len(cycle)] for i in range(count)]


def sensor_noise(rgb: npt.NDArray[Any], rng: np.random.Generator, shot: float, read: float) -> npt.NDArray[Any]:
    """Poisson-Gaussian noise (variance shot*I + read^2), fresh for this frame, quantized to uint8."""
    x = rgb.astype(np.float32)
    sigma = np.sqrt(shot * x + read * read)
    noisy = np.rint(x + sigma * rng.standard_normal(x.shape, dtype=np.float32))
    out: npt.NDArray[np.uint8] = np.clip(noisy, 0, 255).astype(np.uint8)
    return out


def jpeg(rgb: npt.NDArray[Any], quality: int) -> npt.NDArray[Any]:
    _, buf = cv2.imencode('.jpg', rgb, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def _driver_timing(rng: np.random.Generator, n: int, period_ms: float) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Capture stamps (jitter, rare drops) and receive times (latency) of a camera driver, ms."""
    steps = np.ones(n)
    steps[1:] += (rng.random(n - 1) < 0.01)
    stamps = np.cumsum(steps) * period_ms + rng.normal(0, rng.uniform(0.1, 2.0), n)
    if rng.random() < 0.2:   # a driver that stamps on publish: tiny latency
        latency = rng.uniform(0.05, 1.0) + np.abs(rng.normal(0, rng.uniform(0.02, 0.3), n))
    else:
        latency = rng.uniform(2.0, 40.0) + np.abs(rng.normal(0, rng.uniform(0.2, 3.0), n))
    return stamps, stamps + latency


def _timer_timing(rng: np.random.Generator, n: int, period_ms: float, *,
                  exact: bool) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """A software timer's publish times; stamps are either the exact schedule or the publish time."""
    schedule = np.arange(1, n + 1) * period_ms
    publish = schedule + np.abs(rng.normal(0, rng.uniform(0.02, 0.8), n))
    stamps = schedule if exact else publish - rng.uniform(0.01, 0.2)
    return stamps, publish + rng.uniform(0.05, 0.5)


def _ns(ms: npt.NDArray[Any], epoch_s: float) -> npt.NDArray[Any]:
    return (epoch_s * 1e9 + ms * 1e6).astype(np.int64)


def make_stream(kind: str, path: str, rng: np.random.Generator, n: int = STREAM_FRAMES) -> Stream:
    """One stream of `kind` from the recording at `path` (random segment and settings)."""
    recording = path.rsplit('/', 1)[-1]
    period = 1000.0 / float(rng.choice([15.0, 25.0, 30.0]))
    source = read_frames(path, int(rng.integers(0, MAX_START)), n)
    h, w = source[0].shape[:2]
    frame_id = str(rng.choice(['camera_optical_frame', 'CameraTop_optical_frame', 'head_camera']))
    info: CameraInfoSeen | None = CameraInfoSeen(frame_id, w, h)
    shot, read = rng.uniform(0.02, 0.25), rng.uniform(0.8, 3.0)
    now = 1.8e9 + rng.uniform(0, 1e6)
    driver = str(rng.choice(DRIVERS))
    frames = source
    frame_ids = [frame_id] * n
    if kind == 'genuine':
        frames = [sensor_noise(f, rng, shot, read) for f in source]
        stamps, receive = _driver_timing(rng, n, period)
        publishers: tuple[str, ...] = (driver if rng.random() < 0.85 else str(rng.choice(UNKNOWN)),)
        info = info if rng.random() < 0.9 else None
    elif kind in ('bag_replay', ADAPTIVE):
        if kind == ADAPTIVE or rng.random() < 0.5:   # recorded from a camera: frozen noise
            frames = [sensor_noise(f, rng, shot, read) for f in source]
        rec_stamps, _ = _driver_timing(rng, n, period)
        if kind == ADAPTIVE:
            stamps, receive = _driver_timing(rng, n, period)
            publishers = (driver,)
        else:
            publish_stamps, receive = _timer_timing(rng, n, period, exact=False)
            restamp = rng.random() < 0.5
            stamps = publish_stamps if restamp else rec_stamps - rng.uniform(60e3, 3e8)
            publishers = (str(rng.choice(PLAYERS[:2])) if rng.random() < 0.7 else driver,)
    elif kind == 'looped_video':
        clip = int(rng.integers(int(1500 / period), int(3000 / period)))
        frames = [source[i % clip] for i in range(n)]
        stamps, receive = _timer_timing(rng, n, period, exact=rng.random() < 0.5)
        publishers = (str(rng.choice(PLAYERS[2:] + UNKNOWN)) if rng.random() < 0.7 else driver,)
        info = info if rng.random() < 0.5 else None
    elif kind == 'virtual_camera':
        quality = int(rng.integers(60, 96))
        frames = [jpeg(f, quality) for f in source]
        stamps, receive = _timer_timing(rng, n, period, exact=True)
        publishers = (driver,)
    elif kind == 'static_image':
        still = jpeg(source[0], int(rng.integers(60, 96))) if rng.random() < 0.5 else source[0]
        frames = [still] * n
        stamps, receive = _timer_timing(rng, n, period, exact=rng.random() < 0.5)
        publishers = (driver if rng.random() < 0.5 else str(rng.choice(PLAYERS[2:])),)
    elif kind == 'spliced':
        frames = [sensor_noise(f, rng, shot, read) for f in source[:SPLICE_AT]] + source[SPLICE_AT:]
        stamps, receive = _driver_timing(rng, n, period)
        fake_period = period if rng.random() < 0.5 else 1000.0 / 30.0
        fake_stamps, fake_receive = _timer_timing(rng, n - SPLICE_AT, fake_period, exact=rng.random() < 0.5)
        offset = stamps[SPLICE_AT - 1]
        stamps = np.concatenate([stamps[:SPLICE_AT], offset + fake_stamps])
        receive = np.concatenate([receive[:SPLICE_AT], offset + fake_receive])
        publishers = (driver,) if rng.random() < 0.5 else (driver, str(rng.choice(UNKNOWN)))
    else:
        raise ValueError(f'unknown stream kind {kind!r}')
    return Stream(kind, recording, frames, _ns(stamps, now), _ns(receive, now), frame_ids, publishers, info)


def observations(stream: Stream) -> Iterator[FrameObservation]:
    for rgb, stamp, receive, frame_id in zip(stream.frames, stream.stamps_ns, stream.receive_ns, stream.frame_ids):
        yield FrameObservation(int(stamp), int(receive), frame_id, rgb.shape[1], rgb.shape[0], frame_content(rgb))


def stream_features(stream: Stream) -> dict[str, float]:
    """The guard's features at the end of the stream."""
    evidence = StreamEvidence(publishers=stream.publishers, camera_info=stream.camera_info)
    for obs in observations(stream):
        evidence.add(obs)
    return evidence.features()
