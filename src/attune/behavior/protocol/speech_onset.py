"""When the robot called the name: the speech onset that follows a NAME_CALL command (no rclpy)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from attune.behavior.protocol.name_call_types import ns as _ns
from attune.errors import ConfigError


@dataclass(frozen=True)
class PendingCall:
    """A NAME_CALL waiting for its stimulus time: command stamp, receive time (node clock), target, name;
    awaited: the target is a person not identified yet (NameCallProtocol.start)."""

    stamp_ns: int
    received_ns: int
    target_id: str
    name: str
    awaited: bool = False


class SpeechOnset:
    """The stimulus time of name calls, as the behaviour contract (docs/behavior.md) defines it: the rising
    edge of the robot's `speaking` signal that follows the command within `wait_s`; without one, the
    command's stamp. Times are on the node clock (the same clock as the image stamps). Not thread-safe.

    The edge's time is its stamp, taken by the robot bridge where it saw the change, not the time the
    signal reached us: delivery and handling may lag by more than a child takes to turn, and frames
    stamped before a late-handled onset would count as the baseline. For the same reason the signal may
    arrive before the command it answers (two publishers): an edge already seen that follows the command
    starts it at once.

    `command()` queues a call (or returns it at once when the robot does not report speaking, or its
    speech already began), `speaking()` feeds the signal, `tick()` releases calls whose wait ran out;
    each returns (stimulus_ns, call) pairs ready to start.
    """

    def __init__(self, wait_s: float = 2.0) -> None:
        if wait_s < 0:
            raise ConfigError(f'wait_s must be >= 0, got {wait_s}')
        self.wait_s = wait_s
        self._pending: list[PendingCall] = []
        self._speaking: bool | None = None
        self._onset_ns: int | None = None  # the latest rising edge, while the robot still speaks

    def command(self, call: PendingCall, robot_reports_speaking: bool) -> list[tuple[int, PendingCall]]:
        if not robot_reports_speaking or self.wait_s == 0:
            return [(call.stamp_ns, call)]
        if self._speaking and self._onset_ns is not None and self._follows(call, self._onset_ns):
            return [(self._onset_ns, call)]
        self._pending.append(call)
        return []

    def speaking(self, value: bool, stamp_ns: int) -> list[tuple[int, PendingCall]]:
        """The robot's speaking state; stamp_ns: when it changed (the bridge's stamp, or the receive time
        for a signal without one)."""
        rising = bool(value) and not self._speaking
        self._speaking = bool(value)
        if not value:
            self._onset_ns = None
        if not rising:
            return []
        self._onset_ns = stamp_ns
        ready = [(stamp_ns, c) for c in self._pending if self._follows(c, stamp_ns)]
        self._pending = [c for c in self._pending if all(c is not r for _, r in ready)]
        return ready + self.tick(stamp_ns)

    def tick(self, now_ns: int) -> list[tuple[int, PendingCall]]:
        expired = [(c.stamp_ns, c) for c in self._pending if now_ns > self._deadline(c)]
        self._pending = [c for c in self._pending if now_ns <= self._deadline(c)]
        return expired

    def cancel(self, target_id: str = '') -> list[PendingCall]:
        """Drop pending calls (all, or those for target_id); returns them."""
        dropped = [c for c in self._pending if not target_id or c.target_id == target_id]
        self._pending = [c for c in self._pending if c not in dropped]
        return dropped

    def rekey(self, old: str, new: str) -> None:
        """Pending calls for `old` are for `new` (NameCallProtocol.rekey)."""
        self._pending = [replace(c, target_id=new, awaited=False) if c.target_id == old else c for c in self._pending]

    @property
    def pending(self) -> tuple[PendingCall, ...]:
        return tuple(self._pending)

    def _deadline(self, call: PendingCall) -> int:
        return max(call.stamp_ns, call.received_ns) + _ns(self.wait_s)

    def _follows(self, call: PendingCall, onset_ns: int) -> bool:
        """Whether a speech onset can be the call's: not before the command was issued (an utterance
        already under way is not the name), and within the wait."""
        return call.stamp_ns <= onset_ns <= self._deadline(call)
