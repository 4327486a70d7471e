"""Reading video files frame by frame as RGB arrays, and video-size arguments (no rclpy).

Why apart from the bag writer: decoding a video is its own job; the writer, the tests and the
benches all read videos, and only some of them write bags.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy.typing as npt

from attune.errors import BagError


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480).

    Raises:
        BagError: not two positive integers separated by 'x'.
    """
    width, sep, height = text.lower().partition('x')
    try:
        size = (int(width), int(height))
    except ValueError:
        size = (0, 0)
    if not sep or size[0] <= 0 or size[1] <= 0:
        raise BagError(f'size must be WIDTHxHEIGHT in pixels (e.g. 640x480), got {text!r}')
    return size


class VideoReader:
    """The frames of a video file (anything OpenCV decodes) as RGB uint8 arrays, read lazily.

    The file is opened and its first frame decoded in the constructor, so a missing, unreadable
    or empty video fails before anything is written. Iterate once; close() (or `with`) releases
    the decoder.

    Attributes:
        path: the video file.
        fps: the frame rate the container states, 0.0 when it states none.
    """

    def __init__(self, video: Path, *, max_frames: int | None = None,
                 resize: tuple[int, int] | None = None) -> None:
        """Open `video`; frames are resized to resize=(width, height) when given.

        Raises:
            BagError: the file does not exist, OpenCV cannot open it, or it has no frames.
        """
        self.path = Path(video)
        if max_frames is not None and max_frames <= 0:
            raise BagError(f'max_frames must be positive, got {max_frames}')
        if resize is not None and (len(resize) != 2 or min(resize) <= 0):
            raise BagError(f'resize must be (width, height) in pixels, got {resize!r}')
        if not self.path.is_file():
            raise BagError(f'video {self.path} does not exist')
        self._max_frames = max_frames
        self._resize = (int(resize[0]), int(resize[1])) if resize is not None else None
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            self.close()
            raise BagError(f'cannot open video {self.path} (not a video file, or a codec OpenCV lacks)')
        ok, first = self._capture.read()
        self._first: npt.NDArray[Any] | None = first if ok else None
        if self._first is None:
            self.close()
            raise BagError(f'video {self.path} has no frames that OpenCV can decode')
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if math.isfinite(fps) and fps > 0 else 0.0

    def __iter__(self) -> Iterator[npt.NDArray[Any]]:
        bgr, count = self._first, 0
        self._first = None  # one pass only
        while bgr is not None and (self._max_frames is None or count < self._max_frames):
            if self._resize is not None and (bgr.shape[1], bgr.shape[0]) != self._resize:
                bgr = cv2.resize(bgr, self._resize, interpolation=cv2.INTER_AREA)
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            count += 1
            ok, bgr = self._capture.read()
            if not ok:
                break

    def close(self) -> None:
        """Release the decoder (idempotent)."""
        self._capture.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
