"""The name-call protocol as a node runs it (no rclpy): NAME_CALL commands start calls at the robot's
speech onset, every frame's faces and every affect estimate feed the measurement, STOP aborts, and a
frame stall decides running calls on the extrapolated frame clock.

The interaction node hosts it: it sees the person (Faces, AffectState) and the robot (its speaking
state and the commands it was given, the protocol's stimuli), and publishes what this returns as
attune/InteractionEvent. docs/asd_emotion.md defines the protocol.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from attune.behavior.protocol.frame_stall import FrameStall
from attune.behavior.protocol.name_call import NameCallProtocol
from attune.behavior.protocol.name_call_types import FaceSample, NameCallOptions, NameCallResult, ns
from attune.behavior.protocol.speech_onset import PendingCall, SpeechOnset
from attune.emotions import EMOTIONS


def over_emotions(emotions: Sequence[str], probabilities: Sequence[float]) -> npt.NDArray[np.float64] | None:
    """A distribution over EMOTIONS (the protocol's order) from one over `emotions`; None when it
    names none of them. Labels outside EMOTIONS are left out and the rest renormalized."""
    index = {e: i for i, e in enumerate(EMOTIONS)}
    out = np.zeros(len(EMOTIONS))
    for label, p in zip(emotions, probabilities):
        i = index.get(label)
        if i is not None and np.isfinite(p) and p > 0:
            out[i] += p
    total = out.sum()
    return out / total if total > 0 else None


class NameCallRunner:
    """Runs name calls; every method returns the NameCallResults to publish (a WAITING state when a
    call starts, then its final result). Not thread-safe.

    Args:
        options: the protocol's thresholds and windows.
        speaking_wait_s: how long after a command a speech onset is awaited (SpeechOnset).
        frame_timeout_s: wall time without frames after which running calls are decided (FrameStall).
        stimulus_delay_s: added to every stimulus (speech onset or command stamp).
    """

    def __init__(self, options: NameCallOptions | None = None, *, speaking_wait_s: float = 2.0,
                 frame_timeout_s: float = 2.0, stimulus_delay_s: float = 0.0) -> None:
        self.protocol = NameCallProtocol(options)
        self.onset = SpeechOnset(speaking_wait_s)
        self.stall = FrameStall(frame_timeout_s)
        self.stimulus_delay_s = stimulus_delay_s
        self.calls = 0

    @property
    def running(self) -> int:
        return len(self.protocol.waiting())

    def faces(self, stamp_ns: int, faces: Sequence[FaceSample], wall_s: float) -> list[NameCallResult]:
        """One frame's faces (every frame, also empty ones: they advance the clock)."""
        self.stall.frame(stamp_ns, wall_s)
        return self.protocol.observe_faces(stamp_ns, tuple(faces))

    def affect(self, track: str, stamp_ns: int, emotions: Sequence[str], probabilities: Sequence[float],
               valence: float) -> bool:
        """One emotion estimate of a face track; False when its labels are not the protocol's."""
        distribution = over_emotions(emotions, probabilities)
        if distribution is None:
            return False
        self.protocol.observe_affect(track, stamp_ns, distribution, valence)
        return True

    def command(self, call: PendingCall, robot_reports_speaking: bool, wall_s: float) -> list[NameCallResult]:
        """A NAME_CALL command: starts now (stamp) or at the next speech onset."""
        self.calls += 1
        return self._start(self.onset.command(call, robot_reports_speaking), wall_s)

    def stop(self, target_id: str = '') -> list[NameCallResult]:
        """STOP: pending and running calls (all, or target_id's) end ABORTED ('stopped')."""
        self.onset.cancel(target_id)
        return self.protocol.abort(target_id, 'stopped')

    def abort(self, reason: str, wall_s: float, target_id: str = '') -> list[NameCallResult]:
        """Pending and running calls (all, or target_id's) end ABORTED with `reason` (the robot was
        lost, say). A call still waiting for its speech onset starts at its command stamp first, so it
        too has a recorded result rather than vanishing."""
        out = self._start([(c.stamp_ns, c) for c in self.onset.cancel(target_id)], wall_s)
        return [r for r in out if not r.final] + self.protocol.abort(target_id, reason)

    def rekey(self, old: str, new: str) -> list[NameCallResult]:
        """Key `old` (a face track, or a person awaited) is `new` from now on (NameCallProtocol.rekey)."""
        self.onset.rekey(old, new)
        return self.protocol.rekey(old, new)

    def speaking(self, value: bool, stamp_ns: int, wall_s: float) -> list[NameCallResult]:
        """The robot's speaking state; stamp_ns: when it changed (node clock; SpeechOnset.speaking)."""
        return self._start(self.onset.speaking(value, stamp_ns), wall_s)

    def tick(self, now_ns: int, wall_s: float) -> list[NameCallResult]:
        """Regular housekeeping: calls whose wait for a speech onset ran out start; running calls
        are decided when frames stalled."""
        out = self._start(self.onset.tick(now_ns), wall_s) if self.onset.pending else []
        if self.protocol.waiting():
            due = self.stall.due(wall_s)
            if due is not None:
                out += self.protocol.advance(due)
        return out

    def _start(self, ready: list[tuple[int, PendingCall]], wall_s: float) -> list[NameCallResult]:
        out: list[NameCallResult] = []
        for stimulus, call in ready:
            stimulus += ns(self.stimulus_delay_s)
            self.stall.call(stimulus, wall_s)
            out += self.protocol.start(stimulus, call.target_id, call.name, awaited=call.awaited)
        return out
