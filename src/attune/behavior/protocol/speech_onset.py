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

    `command()` queues a call (or returns it at once when the robot does not report speaking),
    `speaking()` feeds the signal, `tick()` releases calls whose wait ran out; each returns
    (stimulus_ns, call) pairs ready to start.
    """

    def __init__(self, wait_s: float = 2.0) -> None:
        if wait_s < 0:
            raise ConfigError(f'wait_s must be >= 0, got {wait_s}')
        self.wait_s = wait_s
        self._pending: list[PendingCall] = []
        self._speaking: bool | None = None

    def command(self, call: PendingCall, robot_reports_speaking: bool) -> list[tuple[int, PendingCall]]:
        if not robot_reports_speaking or self.wait_s == 0:
            return [(call.stamp_ns, call)]
        self._pending.append(call)
        return []

    def speaking(self, value: bool, now_ns: int) -> list[tuple[int, PendingCall]]:
        rising = bool(value) and not self._speaking
        self._speaking = bool(value)
        if not rising:
            return []
        ready = [(now_ns, c) for c in self._pending if c.received_ns <= now_ns <= self._deadline(c)]
        self._pending = [c for c in self._pending if all(c is not r for _, r in ready)]
        return ready + self.tick(now_ns)

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
