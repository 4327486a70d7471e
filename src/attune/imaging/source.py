"""Which camera a frame comes from: one stream per image topic, so a tracker is fed only its camera.

Anyone on the network can publish on a camera topic. A frame whose size or frame_id differ from the
stream's is another source (a second camera, a test pattern, a hostile 1x1 image): fed to a tracker
it would count as a frame without faces and reset the tracks of the real camera. SourceGate keeps
the stream's identity and turns such frames away; a source that sends `switch_after` frames in a row
while the stream sends none becomes the stream (a camera restarted at another resolution).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class SourceVerdict(Enum):
    SAME = 'same'  # a frame of the stream
    ADOPTED = 'adopted'  # the first frame, or a new source that replaced the stream
    OTHER = 'other'  # another source's frame: not for this stream's tracker


@dataclass(frozen=True)
class SourceKey:
    """What tells cameras apart: image size and header frame_id."""

    width: int
    height: int
    frame_id: str

    def __str__(self) -> str:
        return f'{self.width}x{self.height} frame_id {self.frame_id!r}'


@dataclass
class SourceGate:
    """Admits the frames of one stream (see the module docstring)."""

    switch_after: int = 30
    stream: SourceKey | None = None
    _candidate: SourceKey | None = field(default=None, repr=False)
    _run: int = field(default=0, repr=False)

    def admit(self, key: SourceKey) -> SourceVerdict:
        if self.stream is None or key == self.stream:
            adopted = self.stream is None
            self.stream, self._candidate, self._run = key, None, 0
            return SourceVerdict.ADOPTED if adopted else SourceVerdict.SAME
        if key == self._candidate:
            self._run += 1
        else:
            self._candidate, self._run = key, 1
        if self._run >= self.switch_after:
            self.stream, self._candidate, self._run = key, None, 0
            return SourceVerdict.ADOPTED
        return SourceVerdict.OTHER

    def reset(self) -> None:
        self.stream, self._candidate, self._run = None, None, 0
