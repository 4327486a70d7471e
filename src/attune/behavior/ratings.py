"""An operator's ratings of a session: engagement and comfort on a 1-7 scale, and a note (no rclpy).

Ratings reach a session from two places, and `attune report` shows both:
  * during a session, on the topic /attune/session/rating (attune/SessionRating): the behaviour node
    writes them into its session log as `rating` records;
  * during or after it, with `attune rate SESSION.jsonl --engagement 5 --comfort 6 --note ...`:
    appended to the sidecar file SESSION.ratings.jsonl beside the log. The behaviour node keeps
    writing the log itself, so a second writer there could interleave with it; the sidecar is
    appended in one write per line (O_APPEND), which several `attune rate` calls can share.

The scale follows the 7-point Likert ratings of the VR emotional-animation studies attune draws on.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attune.errors import AttuneError

SCALE = (1, 7)
#: The rated qualities, in report order.
QUALITIES = ('engagement', 'comfort')


class RatingError(AttuneError):
    """A rating outside the scale, an empty rating, or a ratings file that cannot be read or written."""


@dataclass(frozen=True)
class Rating:
    """One operator rating.

    Attributes:
        engagement, comfort: 1 (least) .. 7 (most), None when not rated.
        note: free text.
        rater: who rated (initials or role), may be empty.
        t: seconds since the session started when the rating was given (None: unknown).
        rated_at: wall-clock time, ISO 8601 UTC.
        source: 'topic' (during the session, through the behaviour node) or 'cli' (`attune rate`).
    """

    engagement: int | None = None
    comfort: int | None = None
    note: str = ''
    rater: str = ''
    t: float | None = None
    rated_at: str = ''
    source: str = 'cli'

    def __post_init__(self) -> None:
        for quality in QUALITIES:
            value = getattr(self, quality)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not SCALE[0] <= value <= SCALE[1]):
                raise RatingError(f'{quality} must be a whole number from {SCALE[0]} to {SCALE[1]}, got {value!r}')
        if self.engagement is None and self.comfort is None and not self.note.strip():
            raise RatingError('a rating needs engagement, comfort or a note')

    def to_record(self) -> dict[str, Any]:
        """The fields of a `rating` record (session log or sidecar)."""
        return {'engagement': self.engagement, 'comfort': self.comfort, 'note': self.note, 'rater': self.rater,
                'rated_at': self.rated_at, 'source': self.source}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Rating:
        """A rating from a record's fields; `t` is the record's.

        Raises:
            RatingError: values outside the scale or of the wrong type.
        """
        t = record.get('t')
        return cls(engagement=_scale_value('engagement', record.get('engagement')),
                   comfort=_scale_value('comfort', record.get('comfort')),
                   note=str(record.get('note') or ''), rater=str(record.get('rater') or ''),
                   t=float(t) if isinstance(t, (int, float)) else None, rated_at=str(record.get('rated_at') or ''),
                   source=str(record.get('source') or 'cli'))


def _scale_value(quality: str, value: Any) -> int | None:
    """A record's rating value as a whole number (None: not rated); the range is Rating's to check."""
    if value is None or value == 0:  # 0 = SessionRating.NOT_RATED
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise RatingError(f'{quality} must be a whole number from {SCALE[0]} to {SCALE[1]}, got {value!r}')


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec='seconds')


def ratings_path(session_log: Path | str) -> Path:
    """The sidecar file of `attune rate` beside a session log: SESSION.ratings.jsonl."""
    path = Path(session_log)
    return path.with_name(path.stem + '.ratings.jsonl')


def session_time(session_log: Path | str, wall: datetime | None = None) -> float | None:
    """Seconds since the session of `session_log` started, at `wall` (default now); None when the
    log's first record has no start time."""
    path = Path(session_log)
    try:
        with path.open(encoding='utf-8') as f:
            started = json.loads(f.readline()).get('started', '')
        start = datetime.fromisoformat(started)
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    return round(((wall or datetime.now(timezone.utc)) - start).total_seconds(), 3)


def append_rating(session_log: Path | str, rating: Rating) -> Path:
    """Append `rating` to the session's sidecar file (created when needed). Returns the sidecar's path.

    Raises:
        RatingError: the sidecar cannot be written.
    """
    path = ratings_path(session_log)
    line = json.dumps({'t': rating.t, 'kind': 'rating', **rating.to_record()}, allow_nan=False,
                      separators=(',', ':')) + '\n'
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode('utf-8'))  # one write: concurrent raters never interleave
        finally:
            os.close(fd)
    except OSError as exc:
        raise RatingError(f'cannot write ratings file {path}: {exc}') from None
    return path


def read_ratings_file(path: Path | str) -> list[Rating]:
    """The ratings of a sidecar file ([] when there is none).

    Raises:
        RatingError: a line that is not a valid rating (the message names file and line).
    """
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    try:
        lines = path.read_text(encoding='utf-8').splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RatingError(f'cannot read ratings file {path}: {exc}') from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError('not a JSON object')
            out.append(Rating.from_record(record))
        except (ValueError, RatingError) as exc:
            raise RatingError(f'{path}:{number}: not a rating ({exc})') from None
    return out
