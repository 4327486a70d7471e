"""Which enrolled person each face track is, for the nodes that keep per-person state (no rclpy).

identity_node publishes, per image, the match of each identified face track to an enrolled person
(attune/PersonMatches). A tracker gives a person who leaves the view and comes back a new track id;
the identity node gives them the same person id again. Nodes that keep state per person (the
expression calibration, the ASD affect baseline, the name-call protocol) key it with `key(track)`:
'person:<person id>' for a face identified as a known person, else the track id itself. When a
track is first identified, `update` returns (track, person key) so the node can move the state the
track gathered under its own id to the person (`rekey`) — or, for a returning person, drop it and
keep the person's.

Names are matched case-insensitively; person ids exactly.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

PERSON_KEY_PREFIX = 'person:'


@dataclass(frozen=True)
class FaceMatch:
    """One attune/PersonMatch: face track -> enrolled person ('' / False when unknown).

    confidence: the match similarity; threshold: the identifier's, when it was decided (NaN: not
    given); embeddings: how many of the track's face embeddings the decision rests on.
    """

    face_id: str
    person_id: str = ''
    name: str = ''
    known: bool = False
    confidence: float = math.nan
    threshold: float = math.nan
    embeddings: int = 0

    @property
    def key(self) -> str:
        """The person key of a known person, else the track id."""
        return person_key(self.person_id) if self.known and self.person_id else self.face_id


def person_key(person_id: str) -> str:
    return f'{PERSON_KEY_PREFIX}{person_id}'


@dataclass
class _PersonTrack:
    match: FaceMatch
    seen_s: float


class FacePeople:
    """Face track -> who it is, from identity_node's matches (see the module docstring).

    Args:
        forget_after_s: a track without a match for this long is forgotten (seconds on the caller's clock).
    """

    def __init__(self, forget_after_s: float = 60.0) -> None:
        self.forget_after_s = forget_after_s
        self._tracks: dict[str, _PersonTrack] = {}

    def update(self, matches: Iterable[FaceMatch], now_s: float) -> list[tuple[str, str]]:
        """Record one PersonMatches message. Returns (track, person key) for each track that now
        belongs to a known person and was keyed by its own id before (first identified, or known
        after being unknown)."""
        moved = []
        for match in matches:
            if not match.face_id:
                continue
            before = self.key(match.face_id)
            self._tracks[match.face_id] = _PersonTrack(match, now_s)
            if match.key != match.face_id and before == match.face_id:
                moved.append((match.face_id, match.key))
        for track in [t for t, s in self._tracks.items() if abs(now_s - s.seen_s) > self.forget_after_s]:
            del self._tracks[track]
        return moved

    def match(self, track: str) -> FaceMatch | None:
        """The track's latest match; None until the identity node has decided on it."""
        entry = self._tracks.get(track)
        return entry.match if entry is not None else None

    def key(self, track: str) -> str:
        """'person:<id>' for a track identified as a known person, else the track id."""
        entry = self._tracks.get(track)
        return entry.match.key if entry is not None else track

    def track_of(self, key: str) -> str:
        """The most recently matched track of a key ('' for a person key without tracks; a track
        id is its own track)."""
        if not key.startswith(PERSON_KEY_PREFIX):
            return key
        best = max(((s.seen_s, t) for t, s in self._tracks.items() if s.match.key == key), default=None)
        return best[1] if best is not None else ''

    def is_person(self, track: str, selector: str) -> bool:
        """Whether the track is the known person `selector` names (a person id, or a name, any case)."""
        m = self.match(track)
        return m is not None and m.known and selects(selector, m.person_id, m.name)

    def __len__(self) -> int:
        return len(self._tracks)


def selects(selector: str, person_id: str, name: str) -> bool:
    """Whether `selector` (a person id, or a display name in any case) names this person."""
    selector = selector.strip()
    return bool(selector) and (selector == person_id or selector.casefold() == name.strip().casefold())
