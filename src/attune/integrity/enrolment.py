"""Is the stream an enrolment reads from a live camera? The stream guard's core over those frames (no rclpy).

`attune people enroll --camera/--bag` feeds the frames it reads (with their capture stamps and the
time they were received) through the same evidence window and shipped model as stream_guard_node,
judging every CHECK_EVERY frames once the window is ready. The stream is trusted only when every
judgement is live: a stream that turns into a replay part-way (spliced) is caught where it turns.
An untrusted stream is refused unless the operator overrides it, and the override is written into
the enrolment's consent note.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy.typing as npt

from attune.errors import AttuneError
from attune.integrity.content import frame_content
from attune.integrity.evidence import MIN_FRAMES, CameraInfoSeen, FrameObservation, StreamEvidence
from attune.integrity.model import StreamGuardModel

#: Frames between judgements once the window is ready.
CHECK_EVERY = 15


class UntrustedStreamError(AttuneError):
    """The enrolment's stream does not look like a live camera (and no override was given)."""


@dataclass(frozen=True)
class StreamCheck:
    """The verdict over an enrolment's frames: the lowest live-camera score of any judgement."""

    score: float            # NaN: too few frames to judge
    live: bool
    frames: int
    judgements: int
    reasons: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return self.judgements > 0

    def describe(self) -> str:
        if not self.ready:
            return f'not judged: only {self.frames} frames (the stream guard needs {MIN_FRAMES})'
        why = f": {'; '.join(self.reasons)}" if self.reasons else ''
        return f"{'live camera' if self.live else 'not a live camera'} (score {self.score:.2f}){why}"


class EnrolmentStreamGuard:
    """The stream guard's evidence and model over one enrolment source (see the module docstring).

    Args:
        publishers: who produced the frames, as the stream guard names publishers (e.g. the camera
            device as 'v4l2_camera/<device name>'); () when unknown.
        camera_info: the camera's calibration header (frame_id, size), when the source has one.
        model: the stream guard model (default: the shipped one); threshold: its threshold if None.
    """

    def __init__(self, publishers: tuple[str, ...] = (), camera_info: CameraInfoSeen | None = None,
                 model: StreamGuardModel | None = None, threshold: float | None = None) -> None:
        self.model = model or StreamGuardModel.load()
        self.threshold = self.model.threshold if threshold is None else threshold
        self.evidence = StreamEvidence(publishers=publishers, camera_info=camera_info)
        self.frames = 0
        self._worst: tuple[float, tuple[str, ...]] | None = None
        self._judgements = 0

    def add(self, rgb: npt.NDArray[Any], stamp_ns: int, receive_ns: int, frame_id: str = '') -> None:
        """One frame as it arrived: its capture stamp and the time it was received."""
        self.evidence.add(FrameObservation(int(stamp_ns), int(receive_ns), frame_id, rgb.shape[1], rgb.shape[0],
                                           frame_content(rgb)))
        self.frames += 1
        if self.evidence.ready and (self.frames - MIN_FRAMES) % CHECK_EVERY == 0:
            self._judge()

    def _judge(self) -> None:
        verdict = self.model.verdict(self.evidence.features())
        self._judgements += 1
        if self._worst is None or verdict.score < self._worst[0]:
            self._worst = (verdict.score, verdict.reasons)

    def check(self) -> StreamCheck:
        """The verdict so far (the last window is judged too)."""
        if self.evidence.ready and (self.frames - MIN_FRAMES) % CHECK_EVERY != 0:
            self._judge()
        if self._worst is None:
            return StreamCheck(math.nan, False, self.frames, 0, ())
        score, reasons = self._worst
        return StreamCheck(score, score >= self.threshold, self.frames, self._judgements, reasons)


def require_live(check: StreamCheck, source: str, allow_untrusted: bool) -> str:
    """The line the consent note records about the stream; raises UntrustedStreamError for a stream
    that is not a live camera (or could not be judged) unless allow_untrusted."""
    if check.live:
        return f'[stream guard] {source}: {check.describe()}'
    if not allow_untrusted:
        raise UntrustedStreamError(
            f'refusing to enrol from {source}: {check.describe()}. Enrol from a live camera, or pass '
            '--allow-untrusted to override (the override is recorded in the consent note).')
    return f'[stream guard] {source}: {check.describe()}; enrolled anyway: overridden with --allow-untrusted'


#: Words in a video device's name that mark a virtual camera (a loopback device fed by software).
VIRTUAL_DEVICES = ('virtual', 'loopback', 'dummy', 'obs', 'manycam', 'xsplit', 'snap_camera', 'droidcam', 'fake')


def camera_publisher(index: int, sysfs: Path = Path('/sys/class/video4linux')) -> str:
    """The stream guard's publisher name of a camera device: 'virtual_camera/<device name>' (a player)
    when the V4L2 device's name says it is a virtual camera, else 'v4l2_camera' (a camera driver)."""
    try:
        name = (sysfs / f'video{index}' / 'name').read_text(encoding='utf-8').strip()
    except OSError:
        name = ''
    name = re.sub(r'[^A-Za-z0-9]+', '_', name).strip('_').lower()
    if any(re.search(rf'(^|_){word}', name) for word in VIRTUAL_DEVICES):
        return f'virtual_camera/{name}'
    return 'v4l2_camera'
