"""Identification: which enrolled person (if any) a face is, from its protected template.

Scores are per person: the best similarity among that person's templates (protection.py: the fraction
of equal template bits, 0.5 for unrelated faces, 1 for identical ones). A face is that person when the
best score reaches the operating threshold, which is chosen on ../shared/data only
(tools/fit_identity_threshold.py) and shipped in models/resources/identity_operating_point.json.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ModelFileError
from attune.identity.store import PeopleDatabase, PeopleDatabaseError, Person

OPERATING_POINT_FILE = Path(__file__).resolve().parent.parent / 'models' / 'resources' / 'identity_operating_point.json'


@cache
def operating_point(path: Path = OPERATING_POINT_FILE) -> dict[str, Any]:
    """The shipped operating point: {'threshold', 'bits', 'cosine_threshold', ...}."""
    try:
        point: dict[str, Any] = json.loads(Path(path).read_text(encoding='utf-8'))
        return point
    except FileNotFoundError:
        raise ModelFileError(f'identity operating point {path} is missing') from None


def shipped_threshold(database: PeopleDatabase, point: dict[str, Any] | None = None) -> float:
    """The operating point's threshold, for a database whose templates it was fitted for.

    A database keeps the bit count and centre it was made with; the threshold is only meaningful for
    templates of the operating point's kind (a 512-bit, centred template's similarities sit far below
    a 2048-bit, uncentred one's), so a mismatch is refused rather than matched wrongly."""
    point = operating_point() if point is None else point
    bits = int(point['bits'])
    center = np.asarray(point.get('center', np.zeros(database.protector.embedding_size)), np.float32)
    same_center = np.allclose(database.protector.center, center, atol=1e-5)
    if database.bits != bits or not same_center:
        made = f'{database.bits}-bit {"" if same_center else "differently centred "}templates'
        raise PeopleDatabaseError(
            f'{database.path} holds {made}, but this attune matches {bits}-bit templates: its threshold '
            'does not apply to them. Re-enrol everyone into a new database (move the file away, then '
            '`attune people enroll` each person again), or set the threshold parameter yourself')
    return float(point['threshold'])


@dataclass(frozen=True)
class Identification:
    """Who a face is. person_id and name are '' when unknown; score is the best person's similarity."""

    person_id: str
    name: str
    score: float
    known: bool


UNKNOWN = Identification('', '', 0.0, False)


class Identifier:
    """Matches protected templates against the enrolled people of one database."""

    def __init__(self, database: PeopleDatabase, threshold: float) -> None:
        self.threshold = threshold
        self.protector = database.protector
        self.people: list[Person] = [p for p in database.people if p.templates]
        owners, self._gallery = database.gallery()
        index = {id(p): i for i, p in enumerate(self.people)}
        self._owner_index = np.array([index[id(o)] for o in owners], dtype=np.int64)

    def scores(self, embedding: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Per enrolled person, the best similarity of `embedding` to their templates."""
        best = np.zeros(len(self.people))
        if not self.people:
            return best
        sims = self.protector.similarity(self.protector.protect(embedding), self._gallery)
        np.maximum.at(best, self._owner_index, sims)
        return best

    def decide(self, scores: npt.NDArray[Any]) -> Identification:
        """The identification that per-person `scores` support (unknown below the threshold)."""
        if len(scores) == 0:
            return UNKNOWN
        i = int(np.argmax(scores))
        score = float(scores[i])
        if score < self.threshold:
            return Identification('', '', score, False)
        return Identification(self.people[i].person_id, self.people[i].name, score, True)

    def identify(self, embedding: npt.NDArray[Any]) -> Identification:
        return self.decide(self.scores(embedding))
