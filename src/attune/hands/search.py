"""How often MediaPipe Hands looks for hands while none is in view (no rclpy).

With no hand tracked, MediaPipe Hands runs its palm detector on every frame, the whole cost of the
hands stage (about 10-15 ms of a 640x480 frame) for nothing on most frames of a face-to-face
interaction. HandSearch lets the detector look only `rate_hz` times per second (by image stamps) while
no hand is tracked; once a hand is found, every frame is analysed again, so signing and tracking run at
the camera's rate. A hand that comes into view is picked up at most 1 / rate_hz seconds later.
"""
from __future__ import annotations


class HandSearch:
    """Decides per frame whether the hand analyzer runs. rate_hz 0: on every frame."""

    def __init__(self, rate_hz: float) -> None:
        if rate_hz < 0:
            raise ValueError(f'rate_hz must be >= 0, got {rate_hz}')
        self.rate_hz = rate_hz
        self._last_search_ns: int | None = None
        self._tracking = False

    def due(self, stamp_ns: int) -> bool:
        """Whether the frame taken at stamp_ns is analysed: always while a hand is tracked, else when
        1 / rate_hz seconds passed since the last search (or the stamps went back: a new stream)."""
        if self._tracking or self.rate_hz == 0 or self._last_search_ns is None:
            return True
        elapsed_ns = stamp_ns - self._last_search_ns
        return elapsed_ns < 0 or elapsed_ns >= round(1e9 / self.rate_hz) - _STAMP_JITTER_NS

    def analysed(self, stamp_ns: int, hands_found: int) -> None:
        """Record the result of the analysed frame taken at stamp_ns."""
        self._tracking = hands_found > 0
        self._last_search_ns = stamp_ns


#: Camera stamps jitter by a few milliseconds: a frame this much early still counts as due, so a 30 fps
#: camera searched at 10 Hz is searched every third frame, not every fourth.
_STAMP_JITTER_NS = 5_000_000
