"""The names a policy condition sees, from the interaction states (no rclpy): the session-wide ones
(robot speaking, persons present, the camera stream's trust) and a person's (fused quantities and
trends, who they are). The policy engine (attune.behavior.engine) builds its contexts with these.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from attune.behavior.policy import STATE_QUANTITIES, Limits
from attune.behavior.state import PersonState


@dataclass
class PersonRecord:
    """What the engine keeps of one face track: its latest state, when it arrived, since when the
    person is present, and the history behind the trends."""

    state: PersonState
    received: float
    present_since: float | None
    history: deque[tuple[float, dict[str, float]]] = field(default_factory=deque)
    trends: dict[str, float] = field(default_factory=dict)


def stream_values(state: PersonState | None, limits: Limits) -> dict[str, Any]:
    """stream_trust (NaN: unknown), stream_live, and stream_trusted: the score reaches
    limits.min_stream_trust (below 0: the guard's own verdict); an unknown score is trusted unless
    limits.require_stream_trust."""
    score = state.stream_trust if state is not None else math.nan
    live = state.stream_live if state is not None else False
    if not math.isfinite(score):
        trusted = not limits.require_stream_trust
    elif limits.min_stream_trust < 0:
        trusted = live
    else:
        trusted = score >= limits.min_stream_trust
    return {'stream_trust': score, 'stream_live': live, 'stream_trusted': trusted}


def latest_state(states: Iterable[PersonState]) -> PersonState | None:
    """The state with the newest stamp (the latest stream verdict any of them carries)."""
    return max(states, key=lambda s: s.stamp_ns, default=None)


def identity_values(state: PersonState | None) -> dict[str, Any]:
    """Who the person is: identified, known_person, enrolled_id, person_name, identity_confidence,
    participant, participant_bound."""
    who = state.identity if state is not None else None
    bound = state.participant_bound if state is not None else False
    if who is None:
        return {'identified': False, 'known_person': False, 'enrolled_id': '', 'person_name': '',
                'identity_confidence': math.nan, 'participant': False, 'participant_bound': bound}
    return {'identified': True, 'known_person': who.known, 'enrolled_id': who.person_id if who.known else '',
            'person_name': who.name if who.known else '', 'identity_confidence': who.confidence,
            'participant': who.participant, 'participant_bound': bound}


def quantity_values(state: PersonState | None, trends: dict[str, float]) -> dict[str, Any]:
    """The fused quantities and their trends (NaN when there is no state)."""
    out: dict[str, Any] = {}
    for q in STATE_QUANTITIES:
        out[q] = float(getattr(state, q)) if state is not None else math.nan
        out[f'{q}_trend'] = trends.get(q, math.nan) if state is not None else math.nan
    return out


def update_trends(history: deque[tuple[float, dict[str, float]]], trends: dict[str, float], state: PersonState,
                  now: float, window_s: float) -> None:
    """Record the state's quantities in `history` and set `trends` (change per second over window_s)."""
    values = {q: float(getattr(state, q)) for q in STATE_QUANTITIES}
    history.append((now, values))
    while len(history) > 2 and history[1][0] <= now - window_s:
        history.popleft()
    t0, old = history[0]
    for q in STATE_QUANTITIES:
        ok = now - t0 >= 0.5 * window_s and math.isfinite(old[q]) and math.isfinite(values[q])
        trends[q] = (values[q] - old[q]) / (now - t0) if ok else math.nan
