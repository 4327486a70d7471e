"""The session log: one JSON object per line (JSONL) for everything that shaped the interaction.

Records (every one has `t`, seconds since the session started, and `kind`):

    {"kind": "session", "t": 0.0, "started": "2026-11-03T10:00:00+00:00", "policy": "asd_session", ...}
    {"kind": "state", "t": 1.2, "person": "f1", "present": true, "attention": 0.8, "engagement": 0.7,
     "valence": 0.4, "arousal": 0.1, "distress": 0.05, "robot_speaking": false, "summary": "...",
     "contributions": [["expression", "rules", "valence", 0.6, 0.9, 0.03], ...]}
    {"kind": "command", "t": 1.3, "action": "SAY", "rule": "smile_back", "reason": "...", "text": "..."}
    {"kind": "suppressed", "t": 1.4, "rule": "comfort", "person": "f1", "why": "cooldown (15 s)"}
    {"kind": "protocol", "t": 9.0, "person": "f1", "protocol": "name_call", "status": "responded", ...}
    {"kind": "sign", "t": 3.0, "person": "f1", "gloss": "hello", "confidence": 0.9, "source": "..."}
    {"kind": "rating", "t": 300.0, "engagement": 5, "comfort": 6, "note": "...", "rater": "AB", ...}
    {"kind": "undelivered", "t": 4.1, "action": "NAME_CALL", "rule": "name_call", "person": "f1",
     "command_stamp_ns": 1764475200000000000, "why": "robot not connected: ...", "bridge": "nao_bridge_node"}
    {"kind": "end", "t": 600.0}

An undelivered record is a command the robot bridge could not deliver (its /attune/robot/undelivered
report): which command (action, rule, person and the stamp of its command record) and why, never the
words it would have said. Unknown values (NaN) are written as null, so the file is strict JSON. States are decimated to
`state_interval_s` per person (the other kinds are all written). Each line is flushed as written, so
a crash loses nothing that was logged.
"""
from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attune.behavior.commands import Command
from attune.behavior.fusion import PersonState
from attune.behavior.outcome import PersonSign, ProtocolResult, Suppressed
from attune.behavior.ratings import Rating
from attune.errors import AttuneError

KINDS = ('session', 'state', 'command', 'suppressed', 'protocol', 'sign', 'rating', 'undelivered', 'end')
#: Longest reason of an undelivered record kept (a bridge's message; the topic is open to anyone).
MAX_WHY_CHARS = 300


@dataclass(frozen=True)
class UndeliveredCommand:
    """A command a robot bridge reported as not delivered: which one, why, and by which bridge."""

    action: str
    rule: str
    person_id: str
    command_stamp_ns: int
    why: str
    bridge: str


class SessionLogError(AttuneError):
    """A session log that cannot be written or read (the message names the file and line)."""


def _num(x: float) -> float | None:
    return round(float(x), 4) if math.isfinite(x) else None


def state_record(state: PersonState) -> dict[str, Any]:
    """A state as logged: who the face is by enrolled person id only (never a name or pixels)."""
    who = state.identity
    identity = {'enrolled_id': who.person_id if who is not None and who.known else None,
                'participant': bool(who is not None and who.participant),
                'stream_trust': _num(state.stream_trust)}
    return {'person': state.person_id, **identity, 'present': state.present, 'attention': _num(state.attention),
            'engagement': _num(state.engagement), 'valence': _num(state.valence), 'arousal': _num(state.arousal),
            'distress': _num(state.distress), 'robot_speaking': state.robot_speaking, 'summary': state.summary,
            'contributions': [[c.modality, c.source, c.quantity, _num(c.value), _num(c.weight), _num(c.age_s)]
                              for c in state.contributions if c.weight > 0]}


class SessionLog:
    """Writes one session's JSONL file. Thread-safe; a context manager.

    Args:
        path: the file to create (its folder is created).
        start: the session's start on the caller's clock (the `t` of each record is relative to it).
        state_interval_s: at most one state record per person per this many seconds.
        meta: extra fields of the first record (policy name, node parameters, ...).
    """

    def __init__(self, path: Path | str, *, start: float, state_interval_s: float = 0.5,
                 meta: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.start = start
        self.state_interval_s = state_interval_s
        self._last_state: dict[str, float] = {}
        self._lock = threading.Lock()
        self.records = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open('x', encoding='utf-8')
        except OSError as exc:
            raise SessionLogError(f'cannot create session log {self.path}: {exc}') from None
        self._write(start, 'session', {'started': datetime.now(timezone.utc).isoformat(timespec='seconds'),
                                       **(meta or {})})

    @staticmethod
    def new_path(directory: Path | str, prefix: str = 'session') -> Path:
        """A fresh file name in `directory`: session-YYYYmmdd-HHMMSS.jsonl (suffixed if taken)."""
        directory = Path(directory).expanduser()
        base = f'{prefix}-{datetime.now().strftime("%Y%m%d-%H%M%S")}'
        path, n = directory / f'{base}.jsonl', 1
        while path.exists():
            n += 1
            path = directory / f'{base}-{n}.jsonl'
        return path

    def _write(self, now: float, kind: str, fields: dict[str, Any]) -> None:
        line = json.dumps({'t': round(now - self.start, 4), 'kind': kind, **fields}, allow_nan=False,
                          separators=(',', ':'))
        with self._lock:
            if self._file.closed:
                return
            self._file.write(line + '\n')
            self._file.flush()
            self.records += 1

    def state(self, now: float, state: PersonState, force: bool = False) -> bool:
        """Log a state unless this person's last one is younger than state_interval_s."""
        last = self._last_state.get(state.person_id)
        if not force and last is not None and now - last < self.state_interval_s:
            return False
        self._last_state[state.person_id] = now
        self._write(now, 'state', state_record(state))
        return True

    def command(self, now: float, command: Command) -> None:
        self._write(now, 'command', command.to_dict())

    def suppressed(self, now: float, s: Suppressed) -> None:
        self._write(now, 'suppressed', {'rule': s.rule, 'person': s.person_id, 'why': s.why})

    def protocol(self, now: float, result: ProtocolResult) -> None:
        self._write(now, 'protocol', result.to_dict())

    def sign(self, now: float, sign: PersonSign) -> None:
        self._write(now, 'sign', {'person': sign.person_id, 'gloss': sign.text,
                                  'confidence': _num(sign.confidence), 'source': sign.source,
                                  'sequence': list(sign.sequence)})

    def undelivered(self, now: float, u: UndeliveredCommand) -> None:
        """A command that did not reach the robot (no text: the words may hold a name)."""
        why = u.why if len(u.why) <= MAX_WHY_CHARS else u.why[:MAX_WHY_CHARS - 3] + '...'
        self._write(now, 'undelivered', {'action': u.action, 'rule': u.rule, 'person': u.person_id,
                                         'command_stamp_ns': u.command_stamp_ns, 'why': why, 'bridge': u.bridge})

    def rating(self, now: float, rating: Rating) -> None:
        """An operator's rating (attune.behavior.ratings), at `now` on the session's clock."""
        self._write(now, 'rating', rating.to_record())

    def close(self, now: float | None = None) -> None:
        """Write the end record and close (idempotent)."""
        if self._file.closed:
            return
        self._write(now if now is not None else self.start + 0.0, 'end', {})
        with self._lock:
            self._file.close()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_session_log(path: Path | str) -> Iterator[dict[str, Any]]:
    """The records of a session log, in order.

    Raises:
        SessionLogError: the file cannot be read, or a line is not a JSON object with `t` and `kind`
            (the message names the line). A truncated last line (a crash mid-write) is skipped.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding='utf-8').splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionLogError(f'cannot read session log {path}: {exc}') from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                return  # the last line was cut short
            raise SessionLogError(f'{path}:{number}: not JSON ({exc.msg})') from None
        if not isinstance(record, dict) or 'kind' not in record or not isinstance(record.get('t'), (int, float)):
            raise SessionLogError(f'{path}:{number}: not a session-log record (needs "t" and "kind")')
        yield record


def is_session_log(path: Path | str) -> bool:
    """True for a file whose first line is a session-log record (what `attune report` checks)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with path.open(encoding='utf-8') as f:
            first = json.loads(f.readline())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(first, dict) and first.get('kind') == 'session'

