"""What the interaction-state fusion observes and what it produces (no rclpy): one observation type
per perception message (the Expression and AffectState ones are those messages' own dataclasses,
from the expression and affect packages), the fused PersonState with its contributions, and its explanation in words."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from attune.affect.observation import AffectObservation
from attune.expression.observation import ExpressionObservation

QUANTITIES = ('engagement', 'valence', 'arousal', 'distress')
MODALITIES = ('presence', 'attention', 'expression', 'affect', 'sign')

__all__ = ['MODALITIES', 'QUANTITIES', 'AffectObservation', 'Contribution', 'ExpressionObservation',
           'FaceSighting', 'Identity', 'PersonState', 'SignObservation', 'explain', 'fused_value', 'with_summary']


# --- inputs ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaceSighting:
    """One face of a Faces message: track id and head pose (degrees, NaN when unknown)."""

    id: str
    yaw: float = math.nan
    pitch: float = math.nan
    confidence: float = 1.0
    #: Where the face is in the camera optical frame (metres), None when unknown.
    position: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class SignObservation:
    """A recognized sign (attune/Sign); face_id '' when the signer is not known."""

    face_id: str
    gloss: str
    confidence: float
    source: str = ''



@dataclass(frozen=True)
class Identity:
    """Who a face track is (identity_node's attune/PersonMatch), as the interaction state carries it.

    person_id: the enrolled person's opaque id ('' when unknown); name: their display name ('' when
    unknown); confidence: the match similarity in [0, 1]; participant: the session's bound participant.
    """

    person_id: str = ''
    name: str = ''
    known: bool = False
    confidence: float = math.nan
    participant: bool = False

    @property
    def key(self) -> str:
        """What per-person bookkeeping is keyed by: 'person:<id>' for a known person ('' otherwise)."""
        return f'person:{self.person_id}' if self.known and self.person_id else ''


# --- outputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contribution:
    """One stream behind a fused quantity (attune/ModalityContribution)."""

    modality: str
    source: str
    quantity: str
    value: float
    weight: float
    age_s: float
    detail: str = ''  # e.g. 'happy 0.92' (summary only; not in the message)


@dataclass(frozen=True)
class PersonState:
    """The fused state of one person at one time (attune/InteractionState).

    trends: change per second of each fused quantity over trend_window_s (NaN when unknown); not in
    the message (the behaviour node recomputes it from successive states).
    """

    person_id: str
    stamp_ns: int
    present: bool
    attention: float
    engagement: float
    valence: float
    arousal: float
    distress: float
    contributions: tuple[Contribution, ...] = ()
    robot_speaking: bool = False
    summary: str = ''
    #: Where the face was last seen, in the camera optical frame (metres); None when unknown.
    face_position: tuple[float, float, float] | None = None
    trends: Mapping[str, float] = field(default_factory=dict)
    #: Who the face is; None until the identity node has decided on its track.
    identity: Identity | None = None
    #: The camera stream's latest live-camera score in [0, 1] (NaN: unknown) and the guard's verdict.
    stream_trust: float = math.nan
    stream_live: bool = False
    #: The session has a bound participant (who: identity.participant).
    participant_bound: bool = False

    @property
    def subject(self) -> str:
        """Whom per-person bookkeeping follows: the enrolled person when known (across track loss),
        else the face track."""
        return (self.identity.key if self.identity is not None else '') or self.person_id

    def value(self, quantity: str) -> float:
        return float(getattr(self, quantity))

    def contributions_to(self, quantity: str) -> list[Contribution]:
        """This quantity's contributions, largest weight first."""
        return sorted((c for c in self.contributions if c.quantity == quantity), key=lambda c: -c.weight)


def fused_value(contributions: Iterable[Contribution], min_weight: float = 0.0) -> float:
    """sum(weight * value) / sum(weight), NaN when the total weight is below min_weight or zero."""
    total = acc = 0.0
    for c in contributions:
        if c.weight > 0 and math.isfinite(c.value):
            total += c.weight
            acc += c.weight * c.value
    if total <= 0 or total < min_weight:
        return math.nan
    return acc / total



# --- summary ---------------------------------------------------------------------------------------
#: |trend| (per second) above which the summary says rising / falling.
TREND_WORD_THRESHOLD = 0.1


def _source_name(c: Contribution) -> str:
    if c.modality in ('presence', 'attention'):
        return c.modality
    return f'{c.modality}/{c.source}' if c.source else c.modality


def explain(state: PersonState, quantity: str, top: int = 2) -> str:
    """One quantity in words with its main sources and their shares of the weight, e.g.
    'distress 0.72 rising [expression/rules sad 0.70: 0.80 56%, affect/asd_emotion_gcn: 0.60 44%]'."""
    value = state.value(quantity)
    if not math.isfinite(value):
        return f'{quantity} unknown'
    number = f'{value:+.2f}' if quantity in ('valence', 'arousal') else f'{value:.2f}'
    trend = state.trends.get(quantity, math.nan)
    word = ''
    if math.isfinite(trend) and abs(trend) >= TREND_WORD_THRESHOLD:
        word = ' rising' if trend > 0 else ' falling'
    active = [c for c in state.contributions_to(quantity) if c.weight > 0]
    total = sum(c.weight for c in active)
    parts = []
    for c in active[:top]:
        detail = f' {c.detail}' if c.detail and c.modality in ('expression', 'affect', 'sign') else ''
        parts.append(f'{_source_name(c)}{detail}: {c.value:.2f} {100 * c.weight / total:.0f}%')
    return f"{quantity} {number}{word}" + (f" [{', '.join(parts)}]" if parts else '')


def with_summary(state: PersonState) -> PersonState:
    """The state with its one-line summary in words."""
    who = state.identity
    name = (f' ({who.name or who.person_id} {who.confidence:.2f})' if who.known
            else ' (unknown person)') if who is not None else ''
    head = f"{state.person_id}{name}: {'present' if state.present else 'not present'}"
    if math.isfinite(state.attention):
        head += f', attention {state.attention:.2f}'
    if state.robot_speaking:
        head += ', robot speaking'
    known = [q for q in QUANTITIES if math.isfinite(state.value(q))]
    body = '; '.join(explain(state, q) for q in known) if known else 'no recent input'
    return replace(state, summary=f'{head}; {body}')
