"""Interaction-state fusion: per person (face track), presence, attention, expression, affect and signs
fused into engagement, valence, arousal and distress, each with its per-modality contributions.

The math (docs/behavior.md has the long form):

* Every input updates a *stream* (modality, source, quantity) of that person with a value v in the
  quantity's range and a confidence c in [0, 1]. A stream smooths its value in time with an
  exponential moving average: v <- v + alpha * (x - v), alpha = 1 - exp(-dt / tau), dt the time since
  the stream's previous input (tau = smoothing_tau_s; tau = 0 or a first / restarted stream: v = x).
* At fusion time `now`, a stream's weight is  w = W[modality] * c * decay(now - t_last)  with
      decay(age) = 1                                        for age <= fresh_s
                 = 0.5 ** ((age - fresh_s) / half_life_s)   for fresh_s < age <= max_age_s
                 = 0                                        for age > max_age_s.
* The fused quantity is the weighted mean  q = sum(w_i * v_i) / sum(w_i)  over its streams with
  w_i > 0, or NaN when sum(w_i) < min_weight (no input supports it). The streams are published as
  attune/ModalityContribution (value v_i, weight w_i, age), so q can be recomputed from the message.
* Presence has time hysteresis: a person becomes present after being seen for presence_on_s and
  stops being present after presence_off_s without being seen. Any input about the person (a face,
  an expression, an affect estimate, a sign attributed to them) counts as being seen.
* Attention = clamp(1 - hypot(yaw, pitch) / attention_cone_deg, 0, 1) from the head pose, smoothed
  like a stream; it is NaN once the head-pose stream is older than max_age_s.

Inputs that supply engagement: presence (1 when present, else 0), attention (head pose), affect
(AffectState.engagement) and signs (a sign addressed to the robot: 1). Valence and arousal: expression
and affect (their own estimate when finite, else from the emotion distribution through EMOTION_TABLE).
Distress: expression and affect, from the emotion distribution (or from valence and arousal when the
source gives no distribution).

Times are seconds on one clock chosen by the caller (the node uses its ROS clock at reception, so a
replayed bag behaves like the live run); stamps (ns) only tag which input a state is based on.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from attune.behavior.emotion_space import (
    EMOTION_ALIASES,
    EMOTION_TABLE,
    attention_from_pose,
    distress_from_valence_arousal,
    emotion_coordinates,
)
from attune.behavior.state import (
    MODALITIES,
    QUANTITIES,
    AffectObservation,
    Contribution,
    ExpressionObservation,
    FaceSighting,
    Identity,
    PersonState,
    SignObservation,
    explain,
    fused_value,
    with_summary,
)

__all__ = ['EMOTION_ALIASES', 'EMOTION_TABLE', 'MODALITIES', 'QUANTITIES', 'AffectObservation', 'Contribution',
           'ExpressionObservation', 'FaceSighting', 'FusionOptions', 'Identity', 'InteractionFusion', 'PersonState',
           'SignObservation', 'attention_from_pose', 'distress_from_valence_arousal', 'emotion_coordinates',
           'explain', 'fused_value']


@dataclass(frozen=True)
class FusionOptions:
    """Parameters of the fusion (defaults are the node's defaults).

    Attributes:
        weights: base weight W of each modality.
        fresh_s: inputs up to this age count fully.
        half_life_s: past fresh_s, an input's weight halves every half_life_s.
        max_age_s: inputs older than this count for nothing.
        smoothing_tau_s: time constant of each stream's moving average (0: no smoothing).
        attention_cone_deg: head rotation (yaw, pitch combined) at which attention reaches 0.
        presence_on_s: seen continuously this long before being present.
        presence_off_s: unseen this long before no longer being present.
        forget_after_s: a person without any input for this long is dropped.
        min_weight: a quantity whose total weight is below this is NaN.
        trend_window_s: window of the trend (change per second) of each fused quantity.
        gate_while_speaking: ignore expression, affect and sign inputs while the robot speaks.
        stream_trust_max_age_s: a live-camera score older than this is unknown (NaN) in the states.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: {
        'presence': 0.5, 'attention': 1.0, 'expression': 1.0, 'affect': 1.0, 'sign': 1.0})
    fresh_s: float = 1.0
    half_life_s: float = 1.0
    max_age_s: float = 5.0
    smoothing_tau_s: float = 0.3
    attention_cone_deg: float = 45.0
    presence_on_s: float = 0.0
    presence_off_s: float = 1.0
    forget_after_s: float = 10.0
    min_weight: float = 0.05
    trend_window_s: float = 1.0
    gate_while_speaking: bool = False
    stream_trust_max_age_s: float = 5.0

    def decay(self, age_s: float) -> float:
        """The staleness factor of an input of this age (see the module docstring)."""
        if age_s <= self.fresh_s:
            return 1.0
        if age_s > self.max_age_s:
            return 0.0
        return 0.5 ** ((age_s - self.fresh_s) / self.half_life_s) if self.half_life_s > 0 else 0.0



# --- state -----------------------------------------------------------------------------------------
@dataclass
class _Stream:
    value: float
    confidence: float
    t: float
    stamp_ns: int
    detail: str = ''

    def update(self, x: float, confidence: float, t: float, stamp_ns: int, detail: str,
               options: FusionOptions) -> None:
        dt = t - self.t
        tau = options.smoothing_tau_s
        if dt > options.max_age_s or tau <= 0:
            self.value = x
        elif dt > 0:
            self.value += (1.0 - math.exp(-dt / tau)) * (x - self.value)
        else:  # same instant (or out of order): a plain average with the previous sample
            self.value = 0.5 * (self.value + x)
        self.confidence, self.t, self.stamp_ns, self.detail = confidence, max(t, self.t), stamp_ns, detail


@dataclass
class _Person:
    id: str
    streak_start: float
    last_seen: float
    last_input: float
    stamp_ns: int = 0
    face_position: tuple[float, float, float] | None = None
    identity: Identity | None = None
    streams: dict[tuple[str, str, str], _Stream] = field(default_factory=dict)
    history: dict[str, deque[tuple[float, float]]] = field(default_factory=lambda: {q: deque() for q in QUANTITIES})


def _clamp01(x: float) -> float:
    return min(1.0, max(0.0, x)) if math.isfinite(x) else 0.0


class InteractionFusion:
    """Fuses the inputs of every person; see the module docstring.

    Example:
        fusion = InteractionFusion(FusionOptions())
        fusion.observe_faces(t, stamp, [FaceSighting('f1', yaw=5.0, pitch=0.0)])
        fusion.observe_expression(t, stamp, ExpressionObservation('f1', 'rules', 'happy', 0.9))
        (state,) = fusion.snapshot(t)

    Not thread-safe: call it from one thread (the node's executor callbacks are serialized).
    """

    def __init__(self, options: FusionOptions | None = None) -> None:
        self.options = options or FusionOptions()
        self._persons: dict[str, _Person] = {}
        self.robot_speaking = False
        self._stream_trust: tuple[float, float, bool] | None = None  # (t, score, live)
        #: The session has a bound participant (set by the node; carried in every state).
        self.participant_bound = False

    # --- inputs ----------------------------------------------------------------------------------
    def _person(self, person_id: str, t: float, stamp_ns: int) -> _Person:
        p = self._persons.get(person_id)
        if p is None:
            p = self._persons[person_id] = _Person(person_id, streak_start=t, last_seen=t, last_input=t)
        if t - p.last_seen > self.options.presence_off_s:
            p.streak_start = t  # a new sighting streak after a gap
        p.last_seen = max(p.last_seen, t)
        p.last_input = max(p.last_input, t)
        p.stamp_ns = max(p.stamp_ns, stamp_ns)
        return p

    def _stream(self, p: _Person, key: tuple[str, str, str], x: float, confidence: float, t: float,
                stamp_ns: int, detail: str = '') -> None:
        if not math.isfinite(x):
            return
        s = p.streams.get(key)
        if s is None:
            p.streams[key] = _Stream(x, confidence, t, stamp_ns, detail)
        else:
            s.update(x, confidence, t, stamp_ns, detail, self.options)

    def _gated(self) -> bool:
        return self.options.gate_while_speaking and self.robot_speaking

    def observe_faces(self, t: float, stamp_ns: int, faces: Iterable[FaceSighting]) -> None:
        """A Faces message: each listed face is seen; its head pose (if known) updates attention."""
        for face in faces:
            p = self._person(face.id, t, stamp_ns)
            if face.position is not None:
                p.face_position = face.position
            if math.isfinite(face.yaw):  # a pose without pitch counts as level
                pitch = face.pitch if math.isfinite(face.pitch) else 0.0
                attention = attention_from_pose(face.yaw, pitch, self.options.attention_cone_deg)
                self._stream(p, ('attention', 'head_pose', 'engagement'), attention, 1.0, t, stamp_ns,
                             f'yaw {face.yaw:+.0f} pitch {pitch:+.0f} deg')

    def observe_expression(self, t: float, stamp_ns: int, e: ExpressionObservation) -> bool:
        """An Expression message. Returns False when it was ignored (gated, no face id)."""
        if self._gated() or not e.face_id:
            return False
        labels, probs = (e.labels, e.probabilities) if e.labels else ((e.label,), (1.0,))
        coords = emotion_coordinates(labels, probs)
        confidence = e.confidence if math.isfinite(e.confidence) and e.confidence > 0 else (
            max(probs) if probs else 0.0)
        confidence = _clamp01(confidence)
        p = self._person(e.face_id, t, stamp_ns)
        detail = f'{e.label} {confidence:.2f}' if e.label else ''
        valence = e.valence if math.isfinite(e.valence) else (coords[0] if coords else math.nan)
        arousal = e.arousal if math.isfinite(e.arousal) else (coords[1] if coords else math.nan)
        distress = coords[2] if coords else (distress_from_valence_arousal(valence, arousal)
                                             if math.isfinite(valence) else math.nan)
        for quantity, x in (('valence', valence), ('arousal', arousal), ('distress', distress)):
            self._stream(p, ('expression', e.source, quantity), x, confidence, t, stamp_ns, detail)
        return True

    def observe_affect(self, t: float, stamp_ns: int, a: AffectObservation) -> bool:
        """The affect of an AffectState message. Returns False when it was ignored."""
        if self._gated() or not a.face_id:
            return False
        coords = emotion_coordinates(a.emotions, a.probabilities) if a.emotions else None
        finite = [x for x in a.probabilities if math.isfinite(x)]
        confidence = _clamp01(max(finite)) if finite else 1.0
        p = self._person(a.face_id, t, stamp_ns)
        detail = a.dominant or ''
        valence = a.valence if math.isfinite(a.valence) else (coords[0] if coords else math.nan)
        arousal = a.arousal if math.isfinite(a.arousal) else (coords[1] if coords else math.nan)
        distress = coords[2] if coords else (distress_from_valence_arousal(valence, arousal)
                                             if math.isfinite(valence) else math.nan)
        for quantity, x in (('engagement', a.engagement), ('valence', valence), ('arousal', arousal),
                            ('distress', distress)):
            self._stream(p, ('affect', a.source, quantity), x, confidence, t, stamp_ns, detail)
        return True

    def observe_sign(self, t: float, stamp_ns: int, s: SignObservation) -> str:
        """A recognized sign: engagement 1 for its signer, weighted by its confidence.

        Without a face id the sign goes to the present person with the highest attention (or the
        only person). Returns the person it was attributed to, '' when none (or gated)."""
        if self._gated():
            return ''
        person_id = s.face_id or self.most_attentive(t)
        if not person_id:
            return ''
        p = self._person(person_id, t, stamp_ns)
        self._stream(p, ('sign', s.source or 'sign', 'engagement'), 1.0, _clamp01(s.confidence), t, stamp_ns,
                     f'{s.gloss} {s.confidence:.2f}')
        return person_id

    def set_robot_speaking(self, speaking: bool) -> None:
        self.robot_speaking = bool(speaking)

    def identify(self, person_id: str, identity: Identity) -> bool:
        """Who a face track is (identity_node); False when the track is not (or no longer) tracked or
        nothing changed. Identities do not count as input: they neither create nor keep a person."""
        p = self._persons.get(person_id)
        if p is None or p.identity == identity:
            return False
        p.identity = identity
        return True

    def set_stream_trust(self, t: float, score: float, live: bool) -> None:
        """The camera stream's latest live-camera score (stream_guard_node); NaN while it warms up."""
        self._stream_trust = (t, float(score), bool(live))

    def stream_trust(self, now: float) -> tuple[float, bool]:
        """(score, live) of the latest verdict; (NaN, False) when none or older than stream_trust_max_age_s."""
        latest = self._stream_trust
        if latest is None or abs(now - latest[0]) > self.options.stream_trust_max_age_s:
            return math.nan, False
        return latest[1], latest[2]

    # --- queries ---------------------------------------------------------------------------------
    @property
    def person_ids(self) -> list[str]:
        return list(self._persons)

    def is_present(self, person_id: str, now: float) -> bool:
        p = self._persons.get(person_id)
        if p is None:
            return False
        o = self.options
        return now - p.last_seen <= o.presence_off_s and p.last_seen - p.streak_start >= o.presence_on_s

    def attention(self, person_id: str, now: float) -> float:
        p = self._persons.get(person_id)
        s = p.streams.get(('attention', 'head_pose', 'engagement')) if p else None
        if s is None or now - s.t > self.options.max_age_s:
            return math.nan
        return s.value

    def most_attentive(self, now: float) -> str:
        """The present person with the highest attention ('' when nobody is present)."""
        best, best_attention = '', -1.0
        for pid in self._persons:
            if self.is_present(pid, now):
                a = self.attention(pid, now)
                a = a if math.isfinite(a) else 0.0
                if a > best_attention:
                    best, best_attention = pid, a
        return best

    def contributions(self, person_id: str, now: float) -> list[Contribution]:
        """Every stream of the person with its weight at `now` (weight 0 once stale)."""
        p = self._persons[person_id]
        o = self.options
        present = self.is_present(person_id, now)
        seen_age = max(0.0, now - p.last_seen)
        out = [Contribution('presence', 'faces', 'engagement', 1.0 if present else 0.0,
                            o.weights.get('presence', 0.0) * o.decay(seen_age), seen_age,
                            'seen' if present else 'not seen')]
        for (modality, source, quantity), s in p.streams.items():
            age = max(0.0, now - s.t)
            weight = o.weights.get(modality, 0.0) * s.confidence * o.decay(age)
            out.append(Contribution(modality, source, quantity, s.value, weight, age, s.detail))
        return out

    def state(self, person_id: str, now: float) -> PersonState:
        """The fused state of one person at `now` (pure: no history recorded)."""
        p = self._persons[person_id]
        contributions = self.contributions(person_id, now)
        trust, live = self.stream_trust(now)
        fused = {q: fused_value((c for c in contributions if c.quantity == q), self.options.min_weight)
                 for q in QUANTITIES}
        state = PersonState(
            person_id=person_id, stamp_ns=p.stamp_ns, present=self.is_present(person_id, now),
            attention=self.attention(person_id, now), contributions=tuple(contributions),
            robot_speaking=self.robot_speaking, trends=self._trends(p, now, fused),
            face_position=p.face_position if self.is_present(person_id, now) else None,
            engagement=fused['engagement'], valence=fused['valence'], arousal=fused['arousal'],
            distress=fused['distress'], identity=p.identity, stream_trust=trust, stream_live=live,
            participant_bound=self.participant_bound)
        return with_summary(state)

    def snapshot(self, now: float, person_ids: Iterable[str] | None = None) -> list[PersonState]:
        """The states of the given persons (default: all), recording them for trends; persons
        without any input for forget_after_s are dropped first."""
        for pid in [pid for pid, p in self._persons.items() if now - p.last_input > self.options.forget_after_s]:
            del self._persons[pid]
        ids = self._persons if person_ids is None else [pid for pid in person_ids if pid in self._persons]
        states = [self.state(pid, now) for pid in ids]
        for state in states:
            history = self._persons[state.person_id].history
            for q in QUANTITIES:
                h = history[q]
                h.append((now, state.value(q)))
                while len(h) > 2 and h[1][0] <= now - self.options.trend_window_s:
                    h.popleft()
        return states

    def _trends(self, p: _Person, now: float, fused: Mapping[str, float]) -> dict[str, float]:
        out = {}
        for q in QUANTITIES:
            out[q] = math.nan
            h = p.history[q]
            if not h or not math.isfinite(fused[q]):
                continue
            t0, v0 = h[0]
            if now - t0 >= 0.5 * self.options.trend_window_s and math.isfinite(v0):
                out[q] = (fused[q] - v0) / (now - t0)
        return out

