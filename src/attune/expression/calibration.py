"""Per-person neutral calibration of the expression head (no rclpy).

People's resting faces differ: one reads slightly sad, another slightly happy. The calibrator learns
each person's neutral reference, the median of the head's logits over frames that are that person's
neutral face, and the head then reports expression relative to it
(`ExpressionHead.calibrated`: softmax(z - r + margin * e_neutral)).

Where the reference comes from, per key:
  - automatically, from the first `warmup_s` seconds the key is in view: only frames that are frontal
    and look neutral (the uncalibrated head gives smiles, surprise and fear together less than
    `max_expressive`, and the lips are not apart), so a person who greets the robot with a smile is
    mostly not calibrated on it (a closed-mouth smile the head reads as neutral can pass: 6 of 48
    London smiles, docs/expression.md). A key that has fewer than `min_frames` such frames by the end of the
    warm-up keeps collecting until it has them (then stops);
  - a recheck, for a closed-mouth greeting smile the gate let through: until `recheck_s` seconds after
    the key was first seen, when its latest `recheck_frames` frames through the gate are clearly less
    expressive than the reference's (median p(happy + surprise + fear) under `recheck_ratio` times
    theirs), they become the reference. Window medians are compared, not the least expressive tail,
    so an ordinary resting face does not drift;
  - as a fallback, for a face none of whose frames passes that gate (a resting face the head reads as
    smiling or surprised, or lips apart at rest): once `fallback_s` seconds have passed since the key
    was first seen, the median of its least expressive frontal frames so far (the `max_frames` with the
    lowest p(happy + surprise + fear)) becomes its reference. Such a reference is the face's own least
    expressive state, so a greeting smile that lasted the whole `fallback_s` would be taken for
    neutral: frames that pass the gate later still replace it (after `min_frames` of them);
  - from an operator's "neutral now" (`teach`): the key's frontal frames in the given window replace
    the reference, whatever they look like (the operator vouches for them).

Keys are plain strings: the face track id, and the person key ('person:<id>',
attune.identity.face_people) once the identity node has identified the face (`rekey` moves a
calibration from a track to a person, or lets a returning person's new track reuse theirs). At
most `max_keys` keys are kept (least recently seen forgotten).
"""
from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.errors import ConfigError
from attune.expression.action_units import AU_INDEX

#: Labels whose probability marks a frame as not neutral for automatic calibration.
EXPRESSIVE = tuple(EMOTIONS.index(label) for label in ('happy', 'surprise', 'fear'))


@dataclass(frozen=True)
class CalibrationOptions:
    """warmup_s: seconds after a key is first seen in which frames are collected automatically.
    min_frames: neutral frames needed before results are calibrated. max_frames: frames kept per key.
    max_expressive: most summed p(happy, surprise, fear) of a frame taken as neutral.
    max_lips_apart: most AU25 (lips apart) of a frame taken as neutral. max_keys: keys remembered.
    taught_min_frames: frames an operator's "neutral now" needs before it replaces the reference.
    fallback_s: seconds after a key is first seen after which a key with no frame through the gate is
    calibrated on its least expressive frames (0: never). recheck_s: until this many seconds after a key
    is first seen (past the warm-up), its latest `recheck_frames` frames through the gate replace the
    reference when their median p(happy + surprise + fear) is under `recheck_ratio` times the reference
    frames' (0: no recheck)."""

    warmup_s: float = 3.0
    min_frames: int = 5
    max_frames: int = 90
    max_expressive: float = 0.4
    max_lips_apart: float = 0.5
    max_keys: int = 64
    taught_min_frames: int = 2
    fallback_s: float = 10.0
    recheck_s: float = 12.0
    recheck_ratio: float = 0.8
    recheck_frames: int = 30

    def __post_init__(self) -> None:
        if self.warmup_s < 0 or self.min_frames < 1 or self.max_frames < self.min_frames or self.max_keys < 1 \
                or self.taught_min_frames < 1 or not 0 < self.max_expressive <= 1 or self.fallback_s < 0 \
                or self.recheck_s < 0 or not 0 < self.recheck_ratio <= 1 or self.recheck_frames < 1:
            raise ConfigError(f'invalid calibration options: {self}')


@dataclass
class _KeyState:
    first_ns: int
    frames: list[npt.NDArray[Any]] = field(default_factory=list)
    reference: npt.NDArray[Any] | None = None
    taught: bool = False
    teach_window: tuple[int, int] | None = None   # (start_ns or 0 = next frame, duration_ns)
    taught_frames: list[npt.NDArray[Any]] = field(default_factory=list)
    # The least expressive frontal frames while there is no reference: a max-heap on expressiveness,
    # entries (-expressiveness, arrival, logits); emptied once the key has a reference.
    least_expressive: list[tuple[float, int, npt.NDArray[Any]]] = field(default_factory=list)
    arrivals: int = 0
    fallback: bool = False   # the reference is the fallback's (frames through the gate may replace it)
    later: list[tuple[float, npt.NDArray[Any]]] = field(default_factory=list)   # gated frames after the warm-up
    frames_expressive: float | None = None   # median expressiveness of `frames` (cached for the recheck)


def _expressiveness(logits: npt.NDArray[Any]) -> float:
    z = np.exp(logits - logits.max())
    return float((z[list(EXPRESSIVE)] / z.sum()).sum())


class NeutralCalibrator:
    """Per-key neutral references of the expression head's logits (see the module docstring)."""

    def __init__(self, options: CalibrationOptions | None = None) -> None:
        self.options = options or CalibrationOptions()
        self._keys: OrderedDict[str, _KeyState] = OrderedDict()

    def observe(self, key: str, stamp_ns: int, logits: npt.NDArray[Any], aus: npt.NDArray[Any] | None = None,
                frontal: bool = True) -> None:
        """Feed one frame of a key: the head's uncalibrated (7,) logits and the AU intensities."""
        state = self._state(key, stamp_ns)
        o = self.options
        logits = np.asarray(logits, np.float32)
        if state.teach_window is not None:
            self._offer_taught(state, stamp_ns, logits, frontal)
        if state.taught or not frontal:
            return
        collecting = stamp_ns - state.first_ns <= o.warmup_s * 1e9 or len(state.frames) < o.min_frames
        z = np.exp(logits - logits.max())
        p = z / z.sum()
        expressive = float(p[list(EXPRESSIVE)].sum())
        lips_apart = float(aus[AU_INDEX['AU25']]) if aus is not None else 0.0
        if not collecting:
            if (state.reference is not None and not state.fallback and stamp_ns - state.first_ns <= o.recheck_s * 1e9
                    and expressive < o.max_expressive and lips_apart <= o.max_lips_apart):
                self._recheck(state, logits, expressive)
            return
        if len(state.frames) >= o.max_frames:
            return
        if expressive < o.max_expressive and lips_apart <= o.max_lips_apart:
            state.frames.append(logits)
            state.frames_expressive = None
            if len(state.frames) >= o.min_frames:
                state.reference = np.median(np.stack(state.frames), axis=0)
                state.fallback, state.least_expressive = False, []
                return
        if o.fallback_s > 0 and (state.reference is None or state.fallback):
            self._offer_fallback(state, stamp_ns, logits, expressive)

    def _recheck(self, state: _KeyState, logits: npt.NDArray[Any], expressive: float) -> None:
        """After the warm-up: the latest `recheck_frames` frames through the gate replace the reference when
        their median expressiveness is under `recheck_ratio` times the reference frames' (a greeting smile
        the gate let through, then the resting face)."""
        o = self.options
        state.later.append((expressive, logits))
        if len(state.later) < o.recheck_frames:
            return
        state.later = state.later[-o.recheck_frames:]
        if state.frames_expressive is None:
            state.frames_expressive = float(np.median([_expressiveness(f) for f in state.frames]))
        later_expressive = float(np.median([e for e, _ in state.later]))
        if later_expressive < o.recheck_ratio * state.frames_expressive:
            state.frames = [f for _, f in state.later]
            state.reference = np.median(np.stack(state.frames), axis=0)
            state.frames_expressive, state.later = later_expressive, []

    def _offer_fallback(self, state: _KeyState, stamp_ns: int, logits: npt.NDArray[Any], expressive: float) -> None:
        o = self.options
        if state.fallback:
            return  # a fallback reference waits only for frames through the gate
        state.arrivals += 1
        entry = (-expressive, state.arrivals, logits)
        if len(state.least_expressive) < o.max_frames:
            heapq.heappush(state.least_expressive, entry)
        elif -expressive > state.least_expressive[0][0]:
            heapq.heapreplace(state.least_expressive, entry)
        if stamp_ns - state.first_ns >= o.fallback_s * 1e9 and len(state.least_expressive) >= o.min_frames:
            state.reference = np.median(np.stack([e[2] for e in state.least_expressive]), axis=0)
            state.fallback, state.least_expressive = True, []

    def _offer_taught(self, state: _KeyState, stamp_ns: int, logits: npt.NDArray[Any], frontal: bool) -> None:
        if state.teach_window is None:  # the caller checks; kept for the type
            return
        start, duration = state.teach_window
        if start == 0:
            start = stamp_ns
            state.teach_window = (start, duration)
        if stamp_ns < start:
            return
        if frontal and stamp_ns <= start + duration:
            state.taught_frames.append(logits)
        if stamp_ns > start + duration or len(state.taught_frames) >= self.options.max_frames:
            self._finish_teach(state)

    def _finish_teach(self, state: _KeyState) -> None:
        if len(state.taught_frames) >= self.options.taught_min_frames:
            state.reference = np.median(np.stack(state.taught_frames), axis=0)
            state.taught, state.fallback, state.least_expressive = True, False, []
        state.teach_window, state.taught_frames = None, []

    def teach(self, key: str, start_ns: int, duration_ns: int) -> None:
        """An operator's "this face is neutral now": the key's frontal frames from start_ns (0: the next
        frame) for duration_ns become its reference once the window has passed."""
        state = self._keys.get(key)
        if state is None:
            state = self._state(key, start_ns)
        state.teach_window, state.taught_frames = (int(start_ns), int(duration_ns)), []

    def set_reference(self, key: str, logits: npt.NDArray[Any]) -> None:
        """Use these (7,) logits as the key's neutral reference (e.g. of a known neutral photo)."""
        state = self._state(key, 0)
        state.reference = np.asarray(logits, np.float32).copy()
        state.taught, state.fallback, state.least_expressive = True, False, []

    def reference(self, key: str) -> npt.NDArray[Any] | None:
        """The key's neutral reference logits, or None while it is not calibrated."""
        state = self._keys.get(key)
        return None if state is None else state.reference

    def calibrated_keys(self) -> int:
        """How many keys have a neutral reference."""
        return sum(state.reference is not None for state in self._keys.values())

    def frames(self, key: str) -> int:
        """Frames the key's reference rests on (automatic or taught)."""
        state = self._keys.get(key)
        return 0 if state is None else len(state.frames)

    def rekey(self, old: str, new: str) -> None:
        """Move a calibration to another key (a track identified as a person). A person who already
        has a reference keeps it: a returning person's new track reuses their calibration, and what
        the track gathered under its own id is dropped. Otherwise the track's state becomes the
        person's."""
        state = self._keys.pop(old, None)
        if state is None:
            return
        existing = self._keys.get(new)
        if existing is not None and existing.reference is not None:
            self._keys.move_to_end(new)
            return
        self._keys[new] = state
        self._keys.move_to_end(new)

    def forget(self, key: str | None = None) -> None:
        if key is None:
            self._keys.clear()
        else:
            self._keys.pop(key, None)

    def __len__(self) -> int:
        return len(self._keys)

    def _state(self, key: str, stamp_ns: int) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState(first_ns=int(stamp_ns))
            while len(self._keys) > self.options.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        return state
