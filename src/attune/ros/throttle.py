"""Rate-limited reporting of bad input: one log line per kind of problem per period, with a count."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ThrottledReporter:
    """Logs the first occurrence of each problem kind, then at most once per `period_s`.

    log: where lines go (e.g. node.get_logger().error).
    Each line says how many occurrences were suppressed since the last line, so nothing is hidden.
    """

    log: Callable[[str], object]
    period_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    counts: dict[str, int] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: dict[str, int] = field(default_factory=dict)

    def report(self, kind: str, message: str) -> bool:
        """Count one problem of `kind`; log it unless the same problem was logged less than period_s ago.

        The same problem = the same kind and the same message up to its numbers (so a stream of
        frames with one wrong step is one line per period, but a wrong step and a short data
        field are two).
        """
        self.counts[kind] = self.counts.get(kind, 0) + 1
        kind = f"{kind}:{re.sub(r'[0-9]+', '#', message)}"
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.period_s:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return False
        suppressed = self._suppressed.pop(kind, 0)
        suffix = f' ({suppressed} more like this since the last report)' if suppressed else ''
        self.log(message + suffix)
        self._last[kind] = now
        return True

    @property
    def total(self) -> int:
        return sum(self.counts.values())
