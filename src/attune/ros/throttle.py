"""Rate-limited reporting of bad input: one log line per kind of problem per period, with a count.

Bad input may come from anyone on the network, so nothing the sender controls decides how much is
logged or kept: throttling is keyed on the kind the node names (a fixed word) and the message's
wording with the values taken out (quoted text, digits and other non-letters), so one problem
is one key whatever the sender put in its fields, the state is bounded, and the
sender's text is escaped (no control characters, no terminal escapes) and truncated before it
reaches a log line.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Longest log line a report produces (the sender's text is cut to fit).
MAX_LINE_CHARS = 300
#: Most distinct kinds counted; further kinds are counted under OTHER_KIND.
MAX_KINDS = 64
OTHER_KIND = 'other'
_QUOTED = re.compile(r"'[^']*(?:'|$)|\"[^\"]*(?:\"|$)")  # a quote cut off by truncation runs to the end
_KIND_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_')


def printable(text: object, limit: int = MAX_LINE_CHARS) -> str:
    """`text` safe for one log line: non-printable characters escaped (\\x1b, \\n, ...), at most
    `limit` characters (a cut ends with '...')."""
    raw = str(text)
    if len(raw) > 4 * limit:  # escaping can only lengthen: never escape more than is kept
        raw = raw[:4 * limit]
    escaped = raw.encode('unicode_escape', 'backslashreplace').decode('ascii') if not raw.isprintable() else raw
    return escaped if len(escaped) <= limit else escaped[:limit - 3] + '...'


def _problem_key(kind: str, message: str) -> str:
    # attune's wording with every value taken out: quoted text (ids, encodings) and anything that is
    # not a letter go, so two problems differ by what attune says of them ('event arrays differ' vs
    # 'no pixels'), never by what the sender put in a field. The state stays bounded (report()).
    wording = _QUOTED.sub('', message[:4 * MAX_LINE_CHARS])
    letters = ''.join(c for c in wording if c.isascii() and (c.isalpha() or c in ' :'))
    return f"{kind}:{' '.join(letters.split())[:80]}"


def _kind_name(kind: str) -> str:
    name = ''.join(c if c in _KIND_CHARS else '_' for c in str(kind)[:40])
    return name or OTHER_KIND


@dataclass
class ThrottledReporter:
    """Logs the first occurrence of each problem kind, then at most once per `period_s`.

    log: where lines go (e.g. node.get_logger().error).
    Each line says how many occurrences were suppressed since the last line, so nothing is hidden;
    `counts` holds every occurrence per kind (reported in /diagnostics as dropped_<kind>).
    """

    log: Callable[[str], object]
    period_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    max_kinds: int = MAX_KINDS
    counts: dict[str, int] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: dict[str, int] = field(default_factory=dict)

    def report(self, kind: str, message: str, n: int = 1) -> bool:
        """Count `n` problems of `kind`; log `message` (escaped, truncated) unless the same problem
        (kind and leading words) was logged less than period_s ago. `kind` must be a fixed word
        chosen by the node (never text from the message); the state kept is bounded by max_kinds."""
        kind = _kind_name(kind)
        if kind not in self.counts and len(self.counts) >= self.max_kinds:
            kind = OTHER_KIND
        self.counts[kind] = self.counts.get(kind, 0) + n
        key = _problem_key(kind, str(message))
        if key not in self._last and len(self._last) >= 4 * self.max_kinds:
            key = kind
        kind = key
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.period_s:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + n
            return False
        suppressed = self._suppressed.pop(kind, 0)
        suffix = f' ({suppressed} more like this since the last report)' if suppressed else ''
        self.log(printable(message) + suffix)
        self._last[kind] = now
        return True

    @property
    def total(self) -> int:
        return sum(self.counts.values())
