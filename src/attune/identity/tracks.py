"""Who each face track is, with bounded work per frame (the identity node's state, ROS-free).

A new track is embedded as soon as possible; after that each track only every `refresh_s` seconds, and
never more than `max_per_frame` faces per frame (new tracks first, then the longest unchecked). A
track's identity is decided from the mean of its last `history` per-person score vectors, so evidence
accumulates while the person stays in view. Because identities come from enrolled templates, a person
who leaves the view and comes back under a new track id gets the same person id again.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.identity.matcher import Identification, Identifier


@dataclass
class _Track:
    last_embedded_s: float | None = None
    last_seen_s: float = 0.0
    scores: deque[npt.NDArray[Any]] = field(default_factory=deque)
    identity: Identification | None = None
    embeddings: int = 0


class TrackIdentities:
    """Per-track identification schedule and evidence."""

    def __init__(self, identifier: Identifier, *, refresh_s: float = 2.0, max_per_frame: int = 1,
                 history: int = 5, forget_after_s: float = 10.0) -> None:
        self.identifier = identifier
        self.refresh_s = refresh_s
        self.max_per_frame = max_per_frame
        self.history = history
        self.forget_after_s = forget_after_s
        self._tracks: dict[str, _Track] = {}

    def due(self, track_ids: list[str], now_s: float) -> list[str]:
        """The tracks (of those in this frame) to embed now: at most max_per_frame, new ones first."""
        for track_id in track_ids:
            self._tracks.setdefault(track_id, _Track()).last_seen_s = now_s
        self._forget_stale(now_s)
        waiting = []
        for track_id in track_ids:
            last = self._tracks[track_id].last_embedded_s
            if last is None:
                waiting.append((float('-inf'), track_id))
            elif now_s - last >= self.refresh_s or now_s < last:  # now < last: the clock jumped back (bag loop)
                waiting.append((last, track_id))
        waiting.sort()
        return [track_id for _, track_id in waiting[:self.max_per_frame]]

    def update(self, track_id: str, embedding: npt.NDArray[Any], now_s: float) -> Identification:
        """Add one embedding of `track_id` and return the track's identity."""
        track = self._tracks.setdefault(track_id, _Track())
        track.last_embedded_s = track.last_seen_s = now_s
        track.scores.append(self.identifier.scores(embedding))
        while len(track.scores) > self.history:
            track.scores.popleft()
        track.embeddings += 1
        track.identity = self.identifier.decide(np.mean(np.stack(track.scores), axis=0))
        return track.identity

    def mark_failed(self, track_id: str, now_s: float) -> None:
        """The track's face could not be embedded: try again after refresh_s, not every frame."""
        self._tracks.setdefault(track_id, _Track()).last_embedded_s = now_s

    def identity(self, track_id: str) -> Identification | None:
        """The track's current identity; None until it has been embedded once."""
        track = self._tracks.get(track_id)
        return track.identity if track is not None else None

    def embeddings(self, track_id: str) -> int:
        track = self._tracks.get(track_id)
        return track.embeddings if track is not None else 0

    def clear(self) -> None:
        self._tracks.clear()

    def __len__(self) -> int:
        return len(self._tracks)

    def _forget_stale(self, now_s: float) -> None:
        stale = [t for t, s in self._tracks.items() if abs(now_s - s.last_seen_s) > self.forget_after_s]
        for track_id in stale:
            del self._tracks[track_id]
