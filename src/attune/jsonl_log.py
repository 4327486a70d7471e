"""A JSON-lines log for therapists and researchers: one object per line, one file per session, each
line flushed when written so a crash loses nothing already decided (no rclpy).

Every file starts with {"type": "session_start", ...} and ends with {"type": "session_end", ...}.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from attune.errors import AttuneError


def iso_time(stamp_ns: int) -> str:
    """A stamp (nanoseconds since the epoch) as ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(stamp_ns * 1e-9, tz=timezone.utc).isoformat(timespec='milliseconds')


class JsonlLog:
    """Appends records to `<directory>/<prefix>_<YYYYmmdd-HHMMSS>[_<session>].jsonl`.

    Raises:
        AttuneError: the directory cannot be created or the file cannot be opened.
    """

    PREFIX = 'session'

    def __init__(self, directory: Path | str, session: str = '', header: dict[str, Any] | None = None) -> None:
        directory = Path(directory).expanduser()
        stamp = time.strftime('%Y%m%d-%H%M%S')
        suffix = '_' + re.sub(r'[^A-Za-z0-9_.-]+', '-', session) if session else ''
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f'{self.PREFIX}_{stamp}{suffix}.jsonl'
            n = 1
            while path.exists():
                n += 1
                path = directory / f'{self.PREFIX}_{stamp}{suffix}_{n}.jsonl'
            self._file: TextIO | None = path.open('x', encoding='utf-8')
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

    def summary(self) -> dict[str, Any]:
        """What the session_end record says besides its type (subclasses count their records)."""
        return {}

    def close(self) -> None:
        if self._file is None:
            return
        self.write({'type': 'session_end', **self.summary()})
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError:
            pass
        self._file.close()
        self._file = None

    def __enter__(self) -> JsonlLog:
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
