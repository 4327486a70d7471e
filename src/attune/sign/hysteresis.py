"""Turning per-frame gloss probabilities into one event per held sign, and a stream of frames into
signing segments for continuous decoding (no rclpy).

SignHysteresis (isolated): the probabilities are smoothed (exponential moving average); a gloss
*starts* when it has been the best one with smoothed probability >= on_threshold for min_frames
consecutive frames, and *ends* after release_frames consecutive frames below off_threshold
(< on_threshold: the two thresholds are the hysteresis), or after more than max_gap_frames frames
without any probabilities (no hand). A held sign therefore gives one event however long it is held,
and a sign flickering around one threshold does not start and stop repeatedly.

ActivitySegmenter (continuous): a segment starts at the first frame with the signing hand and ends
after end_gap_frames frames without it, or when it reaches max_frames (then the next one starts);
segments shorter than min_frames are dropped (a hand passing through the image).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError
from attune.sign.events import SignEvent


@dataclass(frozen=True)
class HysteresisOptions:
    """on_threshold / off_threshold: smoothed probability to start / keep a sign; min_frames: frames
    above on_threshold before a sign counts; release_frames: frames below off_threshold that end it;
    max_gap_frames: frames without a hand a held sign survives; smoothing: weight of the past in the
    moving average (0 = none); top_k: alternatives reported; report: 'end' (one event when the sign
    ends, with its full duration) or 'onset' (one event as soon as it starts)."""

    on_threshold: float = 0.7
    off_threshold: float = 0.4
    min_frames: int = 4
    release_frames: int = 4
    max_gap_frames: int = 6
    smoothing: float = 0.5
    top_k: int = 3
    report: Literal['end', 'onset'] = 'end'

    def __post_init__(self) -> None:
        if not 0.0 <= self.off_threshold <= self.on_threshold <= 1.0:
            raise ConfigError(f'need 0 <= off_threshold <= on_threshold <= 1, got {self.off_threshold}, '
                              f'{self.on_threshold}')
        if self.min_frames < 1 or self.release_frames < 1 or self.max_gap_frames < 0 or self.top_k < 1:
            raise ConfigError('min_frames, release_frames and top_k must be >= 1, max_gap_frames >= 0')
        if not 0.0 <= self.smoothing < 1.0:
            raise ConfigError(f'smoothing must be in [0, 1), got {self.smoothing}')
        if self.report not in ('end', 'onset'):
            raise ConfigError(f"report must be 'end' or 'onset', got {self.report!r}")


class SignHysteresis:
    """See the module docstring. update() once per frame; flush() when the stream ends."""

    def __init__(self, glosses: Sequence[str], options: HysteresisOptions | None = None, *,
                 source: str = '') -> None:
        self.glosses = tuple(glosses)
        self.options = options or HysteresisOptions()
        self.source = source
        self.reset()

    def reset(self) -> None:
        self._smoothed: npt.NDArray[Any] | None = None
        self._candidate = -1
        self._candidate_frames = 0
        self._candidate_start = 0
        self._held = -1
        self._held_start = self._held_last = 0
        self._held_sum: npt.NDArray[Any] | None = None
        self._held_frames = 0
        self._release = 0
        self._gap = 0
        self._hands: set[str] = set()

    @property
    def held(self) -> str | None:
        """The gloss being held now, if any."""
        return self.glosses[self._held] if self._held >= 0 else None

    def update(self, stamp_ns: int, probabilities: npt.NDArray[Any] | None, handedness: str = '', *,
               observed: bool = True) -> SignEvent | None:
        """Feed one frame's probabilities (None: no decision this frame, e.g. no hand); returns the
        event of a sign that ended (or, with report='onset', started) at this frame. observed=False:
        the probabilities come from a bridged frame (the hand was not seen): they keep a sign held
        but do not move its end stamp."""
        o = self.options
        if probabilities is None:
            self._gap += 1
            if self._gap > o.max_gap_frames:
                self._smoothed = None
                self._candidate, self._candidate_frames = -1, 0
                if self._held >= 0:
                    return self._end(stamp_ns)
            return None
        p = np.asarray(probabilities, dtype=np.float64)
        if p.shape != (len(self.glosses),) or not np.isfinite(p).all():
            raise ValueError(f'expected {len(self.glosses)} finite probabilities, got shape {p.shape}')
        self._gap = 0
        self._smoothed = p if self._smoothed is None else o.smoothing * self._smoothed + (1 - o.smoothing) * p
        s = self._smoothed
        event = None
        if self._held >= 0:
            if s[self._held] >= o.off_threshold:
                self._release = 0
                self._accumulate(stamp_ns, s, handedness, observed)
                return None
            self._release += 1
            if self._release < o.release_frames:
                return None
            event = self._end(stamp_ns)
        best = int(s.argmax())
        if s[best] >= o.on_threshold:
            if best != self._candidate:
                self._candidate, self._candidate_frames, self._candidate_start = best, 0, stamp_ns
            self._candidate_frames += 1
            if self._candidate_frames >= o.min_frames:
                self._start(best, s, handedness)
                if o.report == 'onset':
                    event = self._event(stamp_ns, self._held_mean())
        else:
            self._candidate, self._candidate_frames = -1, 0
        return event

    def flush(self, stamp_ns: int) -> SignEvent | None:
        """End the held sign (stream over); its event, if report='end'."""
        event = self._end(stamp_ns) if self._held >= 0 else None
        self.reset()
        return event

    def _start(self, index: int, s: npt.NDArray[Any], handedness: str) -> None:
        self._held = index
        self._held_start = self._candidate_start
        self._held_sum = np.zeros_like(s)
        self._held_frames = 0
        self._release = 0
        self._hands = set()
        self._candidate, self._candidate_frames = -1, 0
        self._accumulate(self._candidate_start, s, handedness)

    def _accumulate(self, stamp_ns: int, s: npt.NDArray[Any], handedness: str, observed: bool = True) -> None:
        self._held_sum = self._held_sum + s
        self._held_frames += 1
        if self._held_frames == 1:
            self._held_last = stamp_ns
        elif observed:
            self._held_last = max(self._held_last, stamp_ns)
        if handedness:
            self._hands.add(handedness)

    def _end(self, stamp_ns: int) -> SignEvent | None:
        event = self._event(stamp_ns, self._held_mean()) if self.options.report == 'end' else None
        self._held, self._held_sum, self._held_frames, self._release = -1, None, 0, 0
        return event

    def _held_mean(self) -> npt.NDArray[Any]:
        """The mean probabilities over the held sign's frames."""
        if self._held_sum is None:  # set by _start, cleared by _end: only called while a sign is held
            raise RuntimeError('no sign is held')
        return self._held_sum / max(1, self._held_frames)

    def _event(self, stamp_ns: int, mean: npt.NDArray[Any]) -> SignEvent:
        order = np.argsort(-mean)[: self.options.top_k]
        if order[0] != self._held:
            order = np.r_[self._held, [k for k in order if k != self._held]][: self.options.top_k]
        hands = self._hands
        handedness = 'both' if 'both' in hands or len(hands) > 1 else next(iter(hands), '')
        return SignEvent(mode='isolated', gloss=self.glosses[self._held], confidence=float(mean[self._held]),
                         top=tuple((self.glosses[k], float(mean[k])) for k in order),
                         start_ns=self._held_start, end_ns=self._held_last, stamp_ns=stamp_ns,
                         handedness=handedness, source=self.source)


@dataclass(frozen=True)
class SegmenterOptions:
    """end_gap_frames: frames without the signing hand that end a segment; min_frames: shorter
    segments are dropped; max_frames: a segment this long is cut (and decoded)."""

    end_gap_frames: int = 8
    min_frames: int = 8
    max_frames: int = 300

    def __post_init__(self) -> None:
        if self.end_gap_frames < 1 or self.min_frames < 1 or self.max_frames < self.min_frames:
            raise ConfigError('need end_gap_frames >= 1, min_frames >= 1 and max_frames >= min_frames')


@dataclass(frozen=True)
class ActivitySegment:
    features: npt.NDArray[Any]  # (T, F)
    stamps_ns: npt.NDArray[Any]  # (T,)
    hands: frozenset[str]


class ActivitySegmenter:
    """See the module docstring."""

    def __init__(self, options: SegmenterOptions | None = None) -> None:
        self.options = options or SegmenterOptions()
        self.reset()

    def reset(self) -> None:
        self._rows: list[npt.NDArray[Any]] = []
        self._stamps: list[int] = []
        self._hands: set[str] = set()
        self._gap = 0
        self._last_present = 0

    @property
    def active(self) -> bool:
        return bool(self._rows)

    def update(self, stamp_ns: int, features: npt.NDArray[Any], present: bool, handedness: str = '', *,
               observed: bool = True) -> ActivitySegment | None:
        """Feed one frame (features of the frame, whether the signing hand is there); returns a
        finished segment. observed=False: a bridged frame (present, but the hand was not seen): it
        does not extend the segment's end."""
        if not self._rows and not present:
            return None
        self._rows.append(np.asarray(features, dtype=np.float32))
        self._stamps.append(stamp_ns)
        if present:
            self._gap = 0
            if observed:
                self._last_present = len(self._rows)
            if handedness:
                self._hands.add(handedness)
        else:
            self._gap += 1
            if self._gap >= self.options.end_gap_frames:
                return self._finish()
        if len(self._rows) >= self.options.max_frames:
            return self._finish()
        return None

    def flush(self) -> ActivitySegment | None:
        return self._finish() if self._rows else None

    def _finish(self) -> ActivitySegment | None:
        end = self._last_present
        segment = None
        if end >= self.options.min_frames:
            segment = ActivitySegment(np.stack(self._rows[:end]), np.array(self._stamps[:end], np.int64),
                                      frozenset(self._hands))
        self.reset()
        return segment
