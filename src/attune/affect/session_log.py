"""The therapist's session log: one JSON object per line, one file per session (no rclpy).

Records (field lists in docs/asd_emotion.md):
  {"type": "session_start", ...}  when the log opens: model, protocol thresholds, calibration settings;
  {"type": "calibration", ...}    when a child's neutral baseline is complete or linked to a name;
  {"type": "name_call", ...}      one per finished name call (NameCallResult.record() plus times);
  {"type": "session_end", ...}    when the node stops: counts per status.
Each line is flushed when written, so a crash loses nothing already decided.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attune.behavior.protocol import NameCallResult
from attune.errors import AttuneError


def iso_time(stamp_ns: int) -> str:
    """A stamp (nanoseconds since the epoch) as ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(stamp_ns * 1e-9, tz=timezone.utc).isoformat(timespec='milliseconds')


class SessionLog:
    """Appends records to `<directory>/asd_session_<YYYYmmdd-HHMMSS>[_<session>].jsonl`.

    Raises:
        AttuneError: the directory cannot be created or the file cannot be opened.
    """

    def __init__(self, directory: Path | str, session: str = '', header: dict[str, Any] | None = None) -> None:
        directory = Path(directory).expanduser()
        stamp = time.strftime('%Y%m%d-%H%M%S')
        suffix = '_' + re.sub(r'[^A-Za-z0-9_.-]+', '-', session) if session else ''
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f'asd_session_{stamp}{suffix}.jsonl'
            n = 1
            while path.exists():
                n += 1
                path = directory / f'asd_session_{stamp}{suffix}_{n}.jsonl'
            self._file = path.open('x', encoding='utf-8')
        except OSError as exc:
            raise AttuneError(f'cannot write the session log in {directory}: {exc}') from None
        self.path = path
        self.counts: Counter[str] = Counter()
        self.write({'type': 'session_start', 'session': session, **(header or {})})

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (wall_time added) and flush."""
        if self._file is None:
            return
        line = json.dumps({**record, 'wall_time': datetime.now(timezone.utc).isoformat(timespec='milliseconds')},
                          allow_nan=False, default=_json_default)
        self._file.write(line + '\n')
        self._file.flush()

    def name_call(self, result: NameCallResult, **extra: Any) -> None:
        record = {'type': 'name_call', **result.record(), 'stimulus_time': iso_time(result.stimulus_ns),
                  'decided_time': iso_time(result.decided_ns), **extra}
        self.counts[record['status']] += 1
        self.write(record)

    def close(self) -> None:
        if self._file is None:
            return
        self.write({'type': 'session_end', 'name_calls': sum(self.counts.values()), 'by_status': dict(self.counts)})
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError:
            pass
        self._file.close()
        self._file = None

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(value: Any) -> Any:
    if hasattr(value, 'tolist'):
        return value.tolist()
    if isinstance(value, float):
        return None
    raise TypeError(f'not JSON serializable: {type(value).__name__}')


def read_log(path: Path | str) -> list[dict[str, Any]]:
    """All records of a session log."""
    with open(path, encoding='utf-8') as stream:
        return [json.loads(line) for line in stream if line.strip()]
