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

import numpy as np

from attune.errors import ModelFileError
from attune.identity.store import PeopleDatabase, Person

OPERATING_POINT_FILE = Path(__file__).resolve().parent.parent / 'models' / 'resources' / 'identity_operating_point.json'


@cache
def operating_point(path: Path = OPERATING_POINT_FILE) -> dict:
    """The shipped operating point: {'threshold', 'bits', 'cosine_threshold', ...}."""
    try:
        return json.loads(Path(path).read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise ModelFileError(f'identity operating point {path} is missing') from None


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

    def scores(self, embedding: np.ndarray) -> np.ndarray:
        """Per enrolled person, the best similarity of `embedding` to their templates."""
        best = np.zeros(len(self.people))
        if not self.people:
            return best
        sims = self.protector.similarity(self.protector.protect(embedding), self._gallery)
        np.maximum.at(best, self._owner_index, sims)
        return best

    def decide(self, scores: np.ndarray) -> Identification:
        """The identification that per-person `scores` support (unknown below the threshold)."""
        if len(scores) == 0:
            return UNKNOWN
        i = int(np.argmax(scores))
        score = float(scores[i])
        if score < self.threshold:
            return Identification('', '', score, False)
        return Identification(self.people[i].person_id, self.people[i].name, score, True)

    def identify(self, embedding: np.ndarray) -> Identification:
        return self.decide(self.scores(embedding))
