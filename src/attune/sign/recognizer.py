"""The sign recognizer: a stream of HandFrames in, SignEvents (and the signer's affect) out (no rclpy).

Per frame:
  1. bad hands are dropped (non-finite landmarks, wrong size; reported back, never raised);
  2. HandStream picks the signing hand (fixed, or in 'auto' the hand that was signing, kept across
     gaps of up to max_gap_frames, else the higher one), bridges such short gaps by repeating the
     last features without velocity, and computes the frame's features (attune.sign.features);
  3. isolated mode: the isolated model classifies the last `window` frames (shorter runs are
     padded in front; fewer than min_window_frames: no decision) and SignHysteresis turns the
     probabilities into one event per held sign;
  4. continuous mode: ActivitySegmenter collects signing segments; a finished segment is decoded
     (CTC, greedy or beam) into one event with the gloss sequence;
  5. the signing wrist feeds SignerEmotion.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError, LandmarkError
from attune.hands.normalize import canonical_mirror, check_landmarks, isotropic, palm_size
from attune.hands.types import WRIST, HandFrame, HandObservation
from attune.sign.ctc import beam_decode, greedy_decode
from attune.sign.emotion import SignerEmotion, SignerEmotionOptions
from attune.sign.events import SignEvent
from attune.sign.features import GROUPS, VELOCITY_GROUPS, point_features
from attune.sign.hysteresis import (
    ActivitySegment,
    ActivitySegmenter,
    HysteresisOptions,
    SegmenterOptions,
    SignHysteresis,
)
from attune.sign.model import SignModel

DominantHand = Literal['auto', 'right', 'left']
_VELOCITY_COLUMNS = [c for g in VELOCITY_GROUPS for c in range(*GROUPS[g])]


@dataclass(frozen=True)
class StreamOptions:
    """dominant_hand: the signing hand ('auto': see the module docstring); mirrored_input: the
    images were mirrored; mirror_left_hands: mirror a left signing hand to a right one (sign
    languages mirror whole signs for left-handed signers; False for direction-based gestures);
    max_gap_frames: frames a missing signing hand is bridged over."""

    dominant_hand: DominantHand = 'auto'
    mirrored_input: bool = False
    mirror_left_hands: bool = True
    max_gap_frames: int = 3

    def __post_init__(self) -> None:
        if self.dominant_hand not in ('auto', 'right', 'left'):
            raise ConfigError(f"dominant_hand must be auto, right or left, got {self.dominant_hand!r}")
        if not 0 <= self.max_gap_frames <= 100:
            raise ConfigError(f'max_gap_frames must be in [0, 100], got {self.max_gap_frames}')


@dataclass(frozen=True)
class StreamFrame:
    """One frame's features. present: the signing hand is seen or bridged; bridged: it was not
    seen (the previous features repeated); handedness: 'left'/'right', 'both' with the other hand."""

    stamp_ns: int
    features: npt.NDArray[Any]
    present: bool
    bridged: bool
    handedness: str
    wrist: npt.NDArray[Any] | None = None  # isotropic image units
    palm: float | None = None


class HandStream:
    """Per-frame features of a stream of HandFrames (see the module docstring, step 2)."""

    def __init__(self, options: StreamOptions | None = None) -> None:
        self.options = options or StreamOptions()
        self.reset()

    def reset(self) -> None:
        self._side: str | None = None
        self._missing = 0
        self._last: StreamFrame | None = None
        self._previous: tuple[npt.NDArray[Any], npt.NDArray[Any] | None, int] | None = None  # points, other, stamp

    def step(self, frame: HandFrame) -> StreamFrame:
        o = self.options
        aspect = frame.width / frame.height if frame.width > 0 and frame.height > 0 else 1.0
        hand = self._choose(frame.hands)
        if hand is None:
            self._missing += 1
            if self._last is not None and self._last.present and self._missing <= o.max_gap_frames:
                features = self._last.features.copy()
                features[_VELOCITY_COLUMNS] = 0.0
                return StreamFrame(frame.stamp_ns, features, True, True, self._last.handedness)
            self._side = None if o.dominant_hand == 'auto' else self._side
            self._last = StreamFrame(frame.stamp_ns, np.zeros_like(self._zero()), False, False, '')
            self._previous = None
            return self._last
        self._missing = 0
        self._side = hand.handedness
        other = next((h for h in frame.hands if h is not hand and h.handedness != hand.handedness), None)
        mirror = canonical_mirror(hand.handedness, o.mirrored_input, o.mirror_left_hands)
        points = hand.landmarks[:, :2].astype(np.float64)
        other_points = other.landmarks[:, :2].astype(np.float64) if other is not None else None
        nan = np.full((21, 2), np.nan)
        if self._previous is not None:
            prev_points, prev_other, prev_stamp = self._previous
            both = np.stack([prev_points, points])
            others = np.stack([prev_other if prev_other is not None else nan,
                               other_points if other_points is not None else nan])
            stamps = np.array([prev_stamp, frame.stamp_ns], dtype=np.float64) * 1e-9
        else:
            both = np.stack([nan, points])
            others = np.stack([nan, other_points if other_points is not None else nan])
            stamps = None
        features = point_features(both, aspect=aspect, mirror=mirror, stamps_s=stamps,
                                  other=others if other_points is not None else None)[1]
        self._previous = (points, other_points, frame.stamp_ns)
        iso = isotropic(points[None], aspect)[0]
        handedness = 'both' if other is not None else hand.handedness
        self._last = StreamFrame(frame.stamp_ns, features, True, False, handedness, wrist=iso[WRIST],
                                 palm=float(palm_size(iso)))
        return self._last

    def _zero(self) -> npt.NDArray[Any]:
        from attune.sign.features import FEATURE_DIM

        return np.zeros(FEATURE_DIM, dtype=np.float32)

    def _choose(self, hands: tuple[HandObservation, ...]) -> HandObservation | None:
        if not hands:
            return None
        wanted = self.options.dominant_hand
        if wanted != 'auto':
            found = [h for h in hands if h.handedness == wanted]
            return max(found, key=lambda h: h.score) if found else None
        if self._side is not None:
            same = [h for h in hands if h.handedness == self._side]
            if same:
                return max(same, key=lambda h: h.score)
            if self._missing < self.options.max_gap_frames:
                return None  # the signing hand is briefly lost: bridge, do not switch hands
        return min(hands, key=lambda h: float(h.landmarks[WRIST, 1]))  # the higher hand


def valid_hands(frame: HandFrame) -> tuple[HandFrame, list[str]]:
    """The frame without hands whose landmarks are unusable, and why each was dropped."""
    kept, problems = [], []
    for hand in frame.hands:
        try:
            check_landmarks(hand.landmarks)
            if hand.handedness not in ('left', 'right'):
                raise LandmarkError(f'handedness must be left or right, got {hand.handedness!r}')
        except LandmarkError as exc:
            problems.append(f'{hand.handedness or "unknown"} hand dropped: {exc}')
            continue
        kept.append(hand)
    if len(kept) == len(frame.hands):
        return frame, problems
    return HandFrame(frame.stamp_ns, frame.width, frame.height, tuple(kept)), problems


@dataclass(frozen=True)
class RecognizerOptions:
    """mode: 'isolated', 'continuous' or 'both'; min_window_frames: the fewest frames of a signing
    run the isolated model classifies (shorter runs are padded to the window); decoder: 'greedy' or
    'beam' CTC decoding with beam_width; top_k: alternatives reported."""

    mode: Literal['isolated', 'continuous', 'both'] = 'isolated'
    stream: StreamOptions = field(default_factory=StreamOptions)
    hysteresis: HysteresisOptions = field(default_factory=HysteresisOptions)
    segmenter: SegmenterOptions = field(default_factory=SegmenterOptions)
    emotion: SignerEmotionOptions = field(default_factory=SignerEmotionOptions)
    min_window_frames: int = 4
    decoder: Literal['greedy', 'beam'] = 'beam'
    beam_width: int = 8
    top_k: int = 3

    def __post_init__(self) -> None:
        if self.mode not in ('isolated', 'continuous', 'both'):
            raise ConfigError(f"mode must be isolated, continuous or both, got {self.mode!r}")
        if self.decoder not in ('greedy', 'beam'):
            raise ConfigError(f"decoder must be greedy or beam, got {self.decoder!r}")
        if self.min_window_frames < 1 or self.beam_width < 1 or self.top_k < 1:
            raise ConfigError('min_window_frames, beam_width and top_k must be >= 1')


@dataclass(frozen=True)
class FrameResult:
    events: tuple[SignEvent, ...]
    problems: tuple[str, ...]
    frame: StreamFrame


class SignRecognizer:
    """See the module docstring. Not thread-safe; one per hand stream.

    Raises:
        ConfigError: a model of the wrong task for its role, or a segment limit the continuous
            model cannot take.
    """

    def __init__(self, options: RecognizerOptions | None = None, *, isolated: SignModel | None = None,
                 continuous: SignModel | None = None) -> None:
        self.options = o = options or RecognizerOptions()
        if o.mode in ('isolated', 'both') and (isolated is None or isolated.info.task != 'isolated'):
            raise ConfigError(f'mode {o.mode} needs an isolated sign model')
        if o.mode in ('continuous', 'both'):
            if continuous is None or continuous.info.task != 'continuous':
                raise ConfigError(f'mode {o.mode} needs a continuous (CTC) sign model')
            if o.segmenter.max_frames > continuous.info.window:
                raise ConfigError(f'max_segment_frames {o.segmenter.max_frames} exceeds what the continuous model '
                                  f'takes ({continuous.info.window})')
        self.isolated = isolated if o.mode in ('isolated', 'both') else None
        self.continuous = continuous if o.mode in ('continuous', 'both') else None
        self.stream = HandStream(o.stream)
        self.hysteresis = (SignHysteresis(self.isolated.glosses, o.hysteresis, source=self.isolated.info.name)
                           if self.isolated else None)
        self.segmenter = ActivitySegmenter(o.segmenter)
        self.emotion = SignerEmotion(o.emotion)
        window = self.isolated.info.window if self.isolated else 1
        self._window: deque[npt.NDArray[Any]] = deque(maxlen=window)
        self._last_stamp = 0

    def update(self, frame: HandFrame) -> FrameResult:
        frame, problems = valid_hands(frame)
        current = self.stream.step(frame)
        self._last_stamp = frame.stamp_ns
        events: list[SignEvent] = []
        self.emotion.add_hand(frame.stamp_ns, current.wrist, current.palm)
        if self.isolated is not None and self.hysteresis is not None:  # both set or neither (mode)
            event = self._isolated(current, self.isolated, self.hysteresis)
            if event is not None:
                events.append(event)
        if self.continuous is not None:
            segment = self.segmenter.update(frame.stamp_ns, current.features, current.present, current.handedness,
                                            observed=not current.bridged)
            if segment is not None:
                event = self.decode(segment, frame.stamp_ns)
                if event is not None:
                    events.append(event)
        return FrameResult(tuple(events), tuple(problems), current)

    def flush(self) -> list[SignEvent]:
        """End the stream: report a held sign and decode an open segment."""
        events = []
        if self.hysteresis is not None:
            event = self.hysteresis.flush(self._last_stamp)
            if event is not None:
                events.append(event)
        if self.continuous is not None:
            segment = self.segmenter.flush()
            if segment is not None:
                event = self.decode(segment, self._last_stamp)
                if event is not None:
                    events.append(event)
        self._window.clear()
        self.stream.reset()
        return events

    def _isolated(self, current: StreamFrame, model: SignModel, hysteresis: SignHysteresis) -> SignEvent | None:
        from attune.sign.features import pad_window

        if not current.present:
            self._window.clear()
            return hysteresis.update(current.stamp_ns, None)
        self._window.append(current.features)
        if len(self._window) < self.options.min_window_frames:
            return None  # too short to classify yet: no decision, not a gap
        window = pad_window(np.stack(self._window), model.info.window).features
        probabilities = model.probabilities(window)
        return hysteresis.update(current.stamp_ns, probabilities, current.handedness,
                                      observed=not current.bridged)

    def decode(self, segment: ActivitySegment, stamp_ns: int) -> SignEvent | None:
        """One continuous event for a segment, or None when nothing was decoded."""
        o = self.options
        model = self.continuous
        if model is None:
            raise ConfigError(f'mode {o.mode} has no continuous sign model to decode a segment with')
        log_probs = model.log_probs(segment.features)
        decoded = (beam_decode(log_probs, o.beam_width)[0] if o.decoder == 'beam' else greedy_decode(log_probs))
        if not decoded.labels:
            return None
        glosses = model.glosses
        sequence = tuple(glosses[k] for k in decoded.labels)
        probs = np.exp(log_probs)
        peaks = []
        for label, (a, b) in zip(decoded.labels, decoded.spans or [(0, len(probs) - 1)] * len(decoded.labels)):
            peaks.append(float(probs[a:b + 1, label + 1].max()))
        a, b = decoded.spans[-1] if decoded.spans else (0, len(probs) - 1)
        last = probs[a:b + 1, 1:].max(axis=0)
        last = last / last.sum() if last.sum() > 0 else last
        order = [decoded.labels[-1]] + [int(k) for k in np.argsort(-last) if k != decoded.labels[-1]]
        top = tuple((glosses[k], float(last[k])) for k in order[: o.top_k])
        hands = segment.hands
        handedness = 'both' if 'both' in hands or len(hands) > 1 else next(iter(hands), '')
        return SignEvent(mode='continuous', gloss=sequence[-1], confidence=float(np.mean(peaks)), top=top,
                         start_ns=int(segment.stamps_ns[0]), end_ns=int(segment.stamps_ns[-1]), stamp_ns=stamp_ns,
                         handedness=handedness, sequence=sequence, source=model.info.name)
