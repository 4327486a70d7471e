"""The name-call response protocol: does the child orient toward the robot when it says their name,
how fast, and with what affect? (no rclpy)

Definition (docs/asd_emotion.md has it for therapists, with the defaults of NameCallOptions):

  * Stimulus: when the robot called the name: the rising edge of the robot's `speaking` signal that
    follows the NAME_CALL command within 2 s, else the command's header stamp (SpeechOnset), plus the
    node's `stimulus_delay_s`. Every time below is on the image stamps' clock.
  * Target: the face track named by the call; an empty id means the face nearest the image centre
    in the frame nearest the stimulus (within `presence_s`).
  * Head yaw: the face node's yaw against the line of sight (0 = facing the camera, wherever the face
    is in the image; attune/Face.msg), so "toward the robot" means "toward yaw 0" (the camera is on
    the robot's head).
  * Before the call: yaw_before = the median yaw of the target over the `baseline_s` before the
    stimulus (else its first yaw within `presence_s` after it).
  * Turn toward the robot at time t: turn(t) = sign(yaw_before) * (yaw_before - yaw(t)), degrees; it
    grows as the head turns toward the camera (and keeps growing if it turns past it).
  * RESPONDED: turn >= `turn_threshold_deg` on `confirm_samples` consecutive frames within
    `response_window_s` after the stimulus. Latency: stimulus to the moment turn first crossed the
    threshold, interpolated linearly between the two frames around the crossing.
  * NO_RESPONSE: the window passed with the face present and no such turn.
  * NO_FACE: no target face within `presence_s` of the stimulus, no head pose for it there (missing
    landmarks), or the face was not seen again during the whole window. A call for a person not yet
    identified (`awaited`) waits for them until the window ends ('target_not_identified').
  * ABORTED: the face was seen after the call but lost at the end of the window (left mid-protocol
    and did not come back within `lost_timeout_s`), or the child already faced the robot at the call
    (|yaw_before| < turn_threshold_deg: an orienting turn cannot be measured; reason
    'already_facing'), or a new call for the same child replaced this one ('superseded'), or the
    behaviour node sent STOP ('stopped').
  * Affect: the mean of the target's emotion probabilities (and valence) over `affect_window_s` after
    the stimulus; its most probable emotion is response_emotion. A result is reported once both
    the response and the affect window are decided (NO_FACE at once).

Observations may arrive in any order relative to the call (the command can arrive after frames
stamped later): every decision is recomputed from a short history of samples. A frame stamped more
than `jump_back_s` before the newest one means time went backwards (a bag replay looping, a camera
restarting): the history is dropped and running calls end ABORTED ('time_jump').

Samples are kept per key, and a key can change: when a face track is identified as a person, its
history moves to the person's key (`rekey`), so a call made before the identification is measured
on the whole of it (the baseline before the call included) rather than losing the face mid-call.
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from attune.behavior.protocol.name_call_types import (
    FaceSample,
    NameCallOptions,
    NameCallResult,
    ProtocolStatus,
)
from attune.behavior.protocol.name_call_types import ns as _ns
from attune.emotions import EMOTIONS


@dataclass
class _Call:
    stimulus_ns: int
    target_id: str
    name: str
    resolved: str = ''
    awaited: bool = False


@dataclass(order=True)
class _Sample:
    stamp_ns: int
    yaw: float = field(compare=False)
    center_x: float = field(compare=False)


@dataclass(order=True)
class _Affect:
    stamp_ns: int
    probabilities: npt.NDArray[np.float64] = field(compare=False)
    valence: float = field(compare=False)


class NameCallProtocol:
    """Runs name calls over a stream of face observations. Not thread-safe.

    Feed every Faces message with `observe_faces` (also empty ones: they advance the clock), every
    emotion estimate with `observe_affect`, start calls with `start`, and call `advance` when time
    passes without frames. Each returns the calls that finished.
    """

    def __init__(self, options: NameCallOptions | None = None) -> None:
        self.options = options or NameCallOptions()
        self._faces: dict[str, list[_Sample]] = {}
        self._affect: dict[str, list[_Affect]] = {}
        self._frames: deque[tuple[int, tuple[FaceSample, ...]]] = deque()
        self._calls: list[_Call] = []
        self._now: int | None = None

    # --- inputs ----------------------------------------------------------------------------------
    def observe_faces(self, stamp_ns: int, faces: list[FaceSample] | tuple[FaceSample, ...]) -> list[NameCallResult]:
        """One frame's faces (yaw NaN where the head pose is unknown)."""
        faces = tuple(faces)
        ended: list[NameCallResult] = []
        if self._now is not None and stamp_ns < self._now - _ns(self.options.jump_back_s):
            ended = [self._result(c, ProtocolStatus.ABORTED, 'time_jump', self._now) for c in self._calls]
            self._calls.clear()
            self._frames.clear()
            self._faces.clear()
            self._affect.clear()
            self._now = None
        if self._frames and stamp_ns < self._frames[-1][0]:
            position = bisect.bisect([s for s, _ in self._frames], stamp_ns)
            self._frames.insert(position, (stamp_ns, faces))
        else:
            self._frames.append((stamp_ns, faces))
        for face in faces:
            yaw = float(face.yaw) if face.yaw is not None else math.nan
            bisect.insort(self._faces.setdefault(face.track, []), _Sample(stamp_ns, yaw, float(face.center_x)))
        return ended + self.advance(stamp_ns)

    def observe_affect(self, track: str, stamp_ns: int, probabilities: npt.NDArray[np.float64], valence: float) -> None:
        """One emotion estimate of a track (probabilities over EMOTIONS)."""
        bisect.insort(self._affect.setdefault(track, []),
                      _Affect(stamp_ns, np.asarray(probabilities, dtype=np.float64), float(valence)))

    def start(self, stimulus_ns: int, target_id: str = '', name: str = '', *,
              awaited: bool = False) -> list[NameCallResult]:
        """Start a call; returns its WAITING state first, then any result it already decides (and a
        call it supersedes, ABORTED). `awaited`: target_id stands for a person not identified yet,
        whose samples arrive under other keys until `rekey(target_id, ...)`."""
        out: list[NameCallResult] = []
        if target_id:
            for old in [c for c in self._calls if (c.resolved or c.target_id) == target_id]:
                self._calls.remove(old)
                out.append(self._result(old, ProtocolStatus.ABORTED, 'superseded', self._now or stimulus_ns))
        while len(self._calls) >= self.options.max_calls:
            old = self._calls.pop(0)
            out.append(self._result(old, ProtocolStatus.ABORTED, 'too_many_calls', self._now or stimulus_ns))
        call = _Call(stimulus_ns, target_id, name, resolved=target_id, awaited=awaited and bool(target_id))
        self._calls.append(call)
        out.append(self._result(call, ProtocolStatus.WAITING, 'waiting', stimulus_ns))
        if self._now is not None:
            out += self.advance(self._now)
        return out

    def abort(self, target_id: str = '', reason: str = 'stopped') -> list[NameCallResult]:
        """End running calls (all, or the one for target_id) as ABORTED; returns their results."""
        ended = [c for c in self._calls if not target_id or (c.resolved or c.target_id) == target_id]
        self._calls = [c for c in self._calls if c not in ended]
        return [self._result(c, ProtocolStatus.ABORTED, reason, self._now or c.stimulus_ns) for c in ended]

    def advance(self, now_ns: int) -> list[NameCallResult]:
        """Let time pass to now_ns (frame clock); returns the calls that finished."""
        self._now = now_ns if self._now is None else max(self._now, now_ns)
        finished = []
        for call in list(self._calls):
            result = self._evaluate(call, self._now)
            if result is not None:
                self._calls.remove(call)
                finished.append(result)
        self._prune()
        return finished

    def rekey(self, old: str, new: str) -> list[NameCallResult]:
        """The samples, affect and calls of key `old` belong to `new` from now on (a face track was
        identified as a person); returns the calls that this decides."""
        if not old or old == new:
            return []
        _move(self._faces, old, new)
        _move(self._affect, old, new)
        if any(f.track == old for _, faces in self._frames for f in faces):
            self._frames = deque((stamp, tuple(replace(f, track=new) if f.track == old else f for f in faces))
                                 for stamp, faces in self._frames)
        for call in self._calls:
            if old in (call.resolved, call.target_id):
                call.target_id = call.resolved = new
                call.awaited = False
        return self.advance(self._now) if self._now is not None else []

    # --- state -----------------------------------------------------------------------------------
    def waiting(self) -> list[NameCallResult]:
        """The WAITING state of every running call (target resolved where known)."""
        return [self._result(c, ProtocolStatus.WAITING, 'waiting', self._now or c.stimulus_ns) for c in self._calls]

    def waiting_for(self, track: str) -> NameCallResult | None:
        """The running call whose target is `track`, if any."""
        for c in self._calls:
            if c.resolved == track:
                return self._result(c, ProtocolStatus.WAITING, 'waiting', self._now or c.stimulus_ns)
        return None

    @property
    def now_ns(self) -> int | None:
        return self._now

    # --- the decision ----------------------------------------------------------------------------
    def _evaluate(self, call: _Call, now: int) -> NameCallResult | None:
        o = self.options
        stim = call.stimulus_ns
        presence_end = stim + _ns(o.presence_s)
        window_end = stim + _ns(o.response_window_s)
        affect_end = stim + _ns(o.affect_window_s)
        absent = 'no_face_at_call' if self._frames_between(stim - _ns(o.presence_s), now) else 'no_frames'
        if call.awaited:
            if now >= max(window_end, affect_end):
                return self._result(call, ProtocolStatus.NO_FACE, 'target_not_identified', now)
            return None
        if not call.resolved:
            call.resolved = self._most_central(stim)
            if not call.resolved:
                return self._result(call, ProtocolStatus.NO_FACE, absent, now) if now >= presence_end else None
        samples = self._faces.get(call.resolved, [])
        near = [s for s in samples if stim - _ns(o.presence_s) <= s.stamp_ns <= presence_end]
        if not near:
            return self._result(call, ProtocolStatus.NO_FACE, absent, now) if now >= presence_end else None
        yaw_before = self._yaw_before(samples, stim)
        if yaw_before is None:
            if now >= presence_end:
                return self._result(call, ProtocolStatus.NO_FACE, 'no_head_pose_at_call', now)
            return None
        if abs(yaw_before) < o.turn_threshold_deg:
            if now >= affect_end:
                return self._result(call, ProtocolStatus.ABORTED, 'already_facing', now, yaw_before=yaw_before)
            return None
        after = [s for s in samples if stim < s.stamp_ns <= min(now, window_end)]
        valid = [s for s in after if math.isfinite(s.yaw)]
        direction = 1.0 if yaw_before > 0 else -1.0
        turns = [direction * (yaw_before - s.yaw) for s in valid]
        best_turn = max(turns) if turns else math.nan
        response = self._response(valid, turns, stim, yaw_before, direction)
        if response is not None:
            t_response, yaw_response, confirmed_ns = response
            if now >= max(confirmed_ns, affect_end):
                return self._result(call, ProtocolStatus.RESPONDED, 'head_turn', now,
                                    latency=(t_response - stim) * 1e-9, turn=best_turn, yaw_before=yaw_before,
                                    yaw_response=yaw_response, yaw_samples=len(valid))
            return None
        if now < max(window_end, affect_end):
            return None
        if not after:
            return self._result(call, ProtocolStatus.NO_FACE, 'face_lost_whole_window', now, yaw_before=yaw_before)
        last_seen = after[-1].stamp_ns
        if window_end - last_seen >= _ns(o.lost_timeout_s):
            return self._result(call, ProtocolStatus.ABORTED, 'face_lost', now, turn=best_turn, yaw_before=yaw_before,
                                yaw_samples=len(valid))
        return self._result(call, ProtocolStatus.NO_RESPONSE, 'no_head_turn', now, turn=best_turn,
                            yaw_before=yaw_before, yaw_samples=len(valid))

    def _response(self, valid: list[_Sample], turns: list[float], stim: int, yaw_before: float,
                  direction: float) -> tuple[int, float, int] | None:
        """(crossing stamp, yaw there, stamp of the confirming sample) of the first confirmed turn."""
        o = self.options
        threshold = o.turn_threshold_deg
        earliest = stim + _ns(o.min_latency_s)
        run = 0
        for i, (sample, turn) in enumerate(zip(valid, turns)):
            if sample.stamp_ns < earliest or turn < threshold:
                run = 0
                continue
            run += 1
            if run == o.confirm_samples:
                first = i - run + 1
                crossing = valid[first].stamp_ns
                previous_stamp, previous_turn = stim, 0.0  # at the stimulus the turn is 0 by definition
                if first > 0:
                    previous_stamp, previous_turn = valid[first - 1].stamp_ns, turns[first - 1]
                current = turns[first]
                if current > previous_turn and previous_turn < threshold:
                    fraction = (threshold - previous_turn) / (current - previous_turn)
                    crossing = int(previous_stamp + fraction * (valid[first].stamp_ns - previous_stamp))
                crossing = max(crossing, earliest)
                return crossing, valid[first].yaw, sample.stamp_ns
        return None

    def _yaw_before(self, samples: list[_Sample], stim: int) -> float | None:
        o = self.options
        before = [s.yaw for s in samples if stim - _ns(o.baseline_s) <= s.stamp_ns <= stim and math.isfinite(s.yaw)]
        if before:
            return float(np.median(before))
        after = [s.yaw for s in samples if stim < s.stamp_ns <= stim + _ns(o.presence_s) and math.isfinite(s.yaw)]
        return float(after[0]) if after else None

    def _most_central(self, stim: int) -> str:
        presence = _ns(self.options.presence_s)
        candidates = [(abs(stamp - stim) + (0 if stamp <= stim else 1), faces) for stamp, faces in self._frames
                      if stim - presence <= stamp <= stim + presence and faces]
        if not candidates:
            return ''
        _, faces = min(candidates, key=lambda c: c[0])
        return min(faces, key=lambda f: abs(f.center_x - 0.5)).track

    def _frames_between(self, start: int, end: int) -> bool:
        return any(start <= stamp <= end for stamp, _ in self._frames)

    def _result(self, call: _Call, status: ProtocolStatus, reason: str, now: int, *, latency: float = math.nan,
                turn: float = math.nan, yaw_before: float = math.nan, yaw_response: float = math.nan,
                yaw_samples: int = 0) -> NameCallResult:
        emotion, valence, count = '', math.nan, 0
        probabilities: tuple[float, ...] = ()
        if status not in (ProtocolStatus.WAITING, ProtocolStatus.NO_FACE) and call.resolved:
            end = call.stimulus_ns + _ns(self.options.affect_window_s)
            window = [a for a in self._affect.get(call.resolved, []) if call.stimulus_ns <= a.stamp_ns <= end]
            if window:
                mean = np.mean([a.probabilities for a in window], axis=0)
                emotion = EMOTIONS[int(np.argmax(mean))]
                valences = [a.valence for a in window if math.isfinite(a.valence)]
                valence = float(np.mean(valences)) if valences else math.nan
                probabilities, count = tuple(float(p) for p in mean), len(window)
        return NameCallResult(status, reason, call.resolved or call.target_id, call.name, call.stimulus_ns, now,
                              latency_s=latency, head_turn_deg=turn, yaw_before_deg=yaw_before,
                              yaw_at_response_deg=yaw_response, response_emotion=emotion, response_valence=valence,
                              response_probabilities=probabilities, affect_samples=count, yaw_samples=yaw_samples,
                              options=self.options)

    def _prune(self) -> None:
        if self._now is None:
            return
        keep_from = self._now - _ns(self.options.history_s)
        if self._calls:
            keep_from = min(keep_from, min(c.stimulus_ns for c in self._calls) - _ns(self.options.baseline_s)
                            - _ns(self.options.presence_s))
        while self._frames and self._frames[0][0] < keep_from:
            self._frames.popleft()
        for store in (self._faces, self._affect):
            for track in list(store):
                items = store[track]
                cut = bisect.bisect_left([i.stamp_ns for i in items], keep_from)
                if cut:
                    del items[:cut]
                if not items:
                    del store[track]


_Stamped = TypeVar('_Stamped', _Sample, _Affect)


def _move(store: dict[str, list[_Stamped]], old: str, new: str) -> None:
    """Merge store[old] into store[new], in stamp order (a person's samples from several tracks)."""
    moved = store.pop(old, None)
    if moved:
        store[new] = sorted(store.get(new, []) + moved)
