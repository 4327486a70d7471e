"""Running a policy: conditions evaluated on states and events, priorities, per-rule cooldowns, a global
rate limit, pauses, the name-call protocol's bookkeeping, and the fall-back to idle.

Semantics (docs/behavior.md has the long form):

* `on: state` rules are evaluated for a person each time their InteractionState arrives; `on: sign`
  when a sign arrives; `on: protocol` when a protocol result arrives (or times out); `on: idle` on
  every tick while nobody has been present for limits.idle_after_s (states older than
  state_timeout_s count as absent: stale inputs make the robot fall back to idle).
* A rule fires once when its condition becomes true (per person) and not again until it has been
  false; with `repeat: true` it fires again while true, every cooldown_s. Sign and protocol rules fire
  per event. "Per person" is the enrolled person when the face is known (identity_node), so firing,
  cooldowns and max_per_person follow them across track loss; the face track otherwise.
* A firing is blocked (and reported as suppressed, once per cause) by: the rule's cooldown for that
  person, its max_count for the session, a PAUSE in effect (priority below high), the robot speaking
  (speech actions below safety priority, unless limits.speak_while_speaking; a sign or protocol
  rule blocked only by this is held, keeping its share of the rate limit, and fires once the robot
  stops, within limits.event_hold_s), a name call already waiting for its result, or the global rate
  limit: never more than limits.max_commands commands in any window of limits.window_s seconds. A
  rule's commands go out together or not at all.
* Several rules true in one update: the highest priority first (then file order), at most
  limits.max_rules_per_update of them fire.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.behavior.conditions import render_or_keep as _render
from attune.behavior.engine_context import PersonRecord as _Person
from attune.behavior.engine_context import identity_values, latest_state, quantity_values, stream_values, update_trends
from attune.behavior.engine_records import HeldEvent as _HeldEvent
from attune.behavior.engine_records import ProtocolRecord as _Protocol
from attune.behavior.fusion import PersonState, explain
from attune.behavior.outcome import FINAL_STATUSES, Outcome, PersonSign, ProtocolResult, Suppressed
from attune.behavior.policy import STATE_QUANTITIES, ActionSpec, Policy, Rule

CENTER = GazeTarget(1.0, 0.0, 0.0, 'base_link')
#: Why a speech rule did not fire while the robot speaks.
SPEAKING = 'the robot is speaking'


class PolicyEngine:
    """Runs one policy. Call on_state / on_sign / on_protocol as inputs arrive and tick() regularly
    (a few times per second); each returns an Outcome with the commands to publish.

    Args:
        policy: the validated policy.
        start: the session's start time (same clock as `now` everywhere).
        state_timeout_s: a person whose last state is older than this is dropped (stale).
        trend_window_s: window of the <quantity>_trend names.
        gaze_resolver: person id -> where their face is (for `gaze: person`), or None if unknown.
        variables: overrides of the policy's variables (e.g. the participant's name; without one, `name`
            is the enrolled name of a bound participant in their rules).
    """

    def __init__(self, policy: Policy, *, start: float = 0.0, state_timeout_s: float = 2.0,
                 trend_window_s: float = 1.0, gaze_resolver: Callable[[str], GazeTarget | None] | None = None,
                 variables: Mapping[str, str] | None = None) -> None:
        self.policy = policy
        self.limits = policy.limits
        self.start = start
        self.state_timeout_s = state_timeout_s
        self.trend_window_s = trend_window_s
        self.gaze_resolver = gaze_resolver
        self.variables = {**policy.variables, **(variables or {})}
        self._name_fixed = 'name' in (variables or {})
        self._persons: dict[str, _Person] = {}
        self._held: dict[tuple[str, str], bool] = {}
        self._armed: dict[tuple[str, str], bool] = {}
        self._last_fired: dict[tuple[str, str], float] = {}
        self._fired: dict[str, int] = {r.name: 0 for r in policy.rules}
        self._fired_for: dict[tuple[str, str], int] = {}
        self._noted: set[tuple[str, str, str]] = set()
        self._sent: deque[float] = deque()
        self._paused_until = -math.inf
        self._protocol: _Protocol | None = None
        self._held_events: list[_HeldEvent] = []
        self._last_present = start
        self.name_calls = 0
        self.commands_sent = 0

    # --- queries ---------------------------------------------------------------------------------
    @property
    def protocol_active(self) -> bool:
        return self._protocol is not None

    def paused(self, now: float) -> bool:
        return now < self._paused_until

    def persons_present(self) -> int:
        return sum(1 for p in self._persons.values() if p.state.present)

    def most_attentive(self) -> str:
        """The present person with the highest attention ('' when nobody is present): who a sign
        without a face id is attributed to."""
        best, best_attention = '', -1.0
        for pid, record in self._persons.items():
            a = record.state.attention if math.isfinite(record.state.attention) else 0.0
            if record.state.present and a > best_attention:
                best, best_attention = pid, a
        return best

    def robot_speaking(self) -> bool:
        """The robot is speaking, as the latest InteractionStates say."""
        return any(p.state.robot_speaking for p in self._persons.values())

    def is_idle(self, now: float) -> bool:
        return self.persons_present() == 0 and now - self._last_present >= self.limits.idle_after_s

    # --- inputs ----------------------------------------------------------------------------------
    def on_state(self, state: PersonState, now: float) -> Outcome:
        """A person's InteractionState arrived: evaluate the `on: state` rules for them."""
        record = self._persons.get(state.person_id)
        if record is None:
            record = self._persons[state.person_id] = _Person(state, now, None)
        record.state, record.received = state, now
        if state.present:
            self._last_present = now
            if record.present_since is None:
                record.present_since = now
        else:
            record.present_since = None
        update_trends(record.history, record.trends, state, now, self.trend_window_s)
        context = self._person_context(state.person_id, now)
        return self._evaluate(self.policy.rules_on('state'), context, state.person_id, now, event=False)

    def on_sign(self, sign: PersonSign, now: float) -> Outcome:
        """A sign was recognized: evaluate the `on: sign` rules."""
        context = self._person_context(sign.person_id, now)
        text = sign.text
        reply = self.policy.replies.get(text.lower(), self.policy.replies.get(text, ''))
        context.update({'sign.gloss': text, 'sign.confidence': float(sign.confidence),
                        'sign.source': sign.source, 'sign.continuous': sign.continuous,
                        'sign.sequence': ' '.join(sign.sequence), 'sign.letter': sign.letter,
                        'has_reply': bool(reply)})
        context['reply'] = _render(reply or self.policy.replies.get('*', ''), context)  # replies are templates
        return self._evaluate(self.policy.rules_on('sign'), context, sign.person_id, now, event=True,
                              evidence=f'sign {text!r} ({sign.confidence:.2f}'
                                       + (f' from {sign.source})' if sign.source else ')'))

    def on_protocol(self, result: ProtocolResult, now: float) -> Outcome:
        """A protocol result arrived (final statuses only end the protocol): `on: protocol` rules."""
        if result.status not in FINAL_STATUSES:
            return Outcome()
        if self._protocol is not None and (not result.name or result.name == self._protocol.name):
            self._protocol = None
        context = self._person_context(result.person_id, now)
        context.update({'protocol.name': result.name, 'protocol.status': result.status,
                        'protocol.latency_s': result.latency_s, 'protocol.head_turn_deg': result.head_turn_deg,
                        'protocol.emotion': result.emotion, 'protocol.valence': result.valence})
        outcome = self._evaluate(self.policy.rules_on('protocol'), context, result.person_id, now, event=True,
                                 evidence=result.describe())
        outcome.protocol_results.insert(0, result)
        return outcome

    def tick(self, now: float) -> Outcome:
        """Housekeeping: stale states, protocol time-out, idle rules."""
        outcome = self._release_held_events(now)
        for pid in [pid for pid, p in self._persons.items() if now - p.received > self.state_timeout_s]:
            del self._persons[pid]
        self._forget_absent(now)
        if self._protocol is not None and now - self._protocol.started > self.limits.protocol_timeout_s:
            p = self._protocol
            outcome.extend(self.on_protocol(ProtocolResult(p.person_id, p.name, 'timeout'), now))
        idle_rules = self.policy.rules_on('idle')
        if idle_rules:
            if self.is_idle(now):
                outcome.extend(self._evaluate(idle_rules, self._base_context(now), '', now, event=False,
                                              evidence='nobody present'))
            else:
                for rule in idle_rules:
                    self._held[(rule.name, '')] = False
                    self._armed[(rule.name, '')] = True
        return outcome

    # --- contexts --------------------------------------------------------------------------------
    def _base_context(self, now: float) -> dict[str, Any]:
        ctx: dict[str, Any] = dict(self.variables)
        ctx.update({'robot_speaking': self.robot_speaking(),
                    'persons_present': self.persons_present(), 'session_s': now - self.start,
                    'paused': self.paused(now), 'protocol_active': self.protocol_active,
                    'name_calls': self.name_calls})
        ctx.update(stream_values(latest_state(p.state for p in self._persons.values()), self.limits))
        return ctx

    def _person_context(self, person_id: str, now: float) -> dict[str, Any]:
        ctx = self._base_context(now)
        record = self._persons.get(person_id)
        state = record.state if record is not None else None
        ctx['person'] = person_id
        ctx.update(identity_values(state))
        if ctx['participant'] and ctx['person_name'] and not self._name_fixed:
            ctx['name'] = ctx['person_name']
        ctx.update(quantity_values(state, record.trends if record is not None else {}))
        if record is None:
            ctx.update({'present': False, 'seen_s': 0.0})
            return ctx
        s = record.state
        ctx.update({'present': s.present, 'robot_speaking': s.robot_speaking or ctx['robot_speaking'],
                    'seen_s': now - record.present_since if record.present_since is not None else 0.0})
        ctx.update(stream_values(s, self.limits))
        return ctx

    def subject(self, person_id: str) -> str:
        """Whom a rule's per-person bookkeeping (fired once, cooldown, max_per_person) follows: the
        enrolled person when the face is known, so it carries across track loss; else the track."""
        record = self._persons.get(person_id)
        return record.state.subject if record is not None else person_id

    # --- evaluation ------------------------------------------------------------------------------
    def _evaluate(self, rules: list[Rule], context: dict[str, Any], person_id: str, now: float, *,
                  event: bool, evidence: str = '') -> Outcome:
        outcome = Outcome()
        candidates: list[Rule] = []
        subject = self.subject(person_id)
        for rule in rules:
            key = (rule.name, subject)
            context['fired'] = self._fired[rule.name]
            held = self._held.get(key, False)
            ok = rule.condition(context, held)
            self._held[key] = ok
            if not ok:
                self._armed[key] = True
                self._forget_notes(rule.name, person_id)
                continue
            if not event and not rule.repeat and not self._armed.get(key, True):
                continue  # fired already while the condition has been true
            candidates.append(rule)
        candidates.sort(key=lambda r: -int(r.priority))  # stable: file order within a priority
        fired = 0
        for rule in candidates:
            if fired >= self.limits.max_rules_per_update:
                self._note(outcome, rule, person_id, 'a rule of equal or higher priority fired in this update')
                continue
            why = self._try_fire(outcome, rule, context, person_id, now, evidence)
            if not why:
                fired += 1
            elif event and why == SPEAKING and self.limits.event_hold_s > 0:
                # An event happens once: dropping it because the robot was still finishing a sentence
                # would lose e.g. the answer to a sign or the praise after a name call for good.
                self._held_events.append(_HeldEvent(rule, dict(context), person_id, evidence,
                                                    now + self.limits.event_hold_s))
                self._note(outcome, rule, person_id, f'{SPEAKING}: held up to {self.limits.event_hold_s:g} s')
            else:
                self._note(outcome, rule, person_id, why)
        return outcome

    def _try_fire(self, outcome: Outcome, rule: Rule, context: dict[str, Any], person_id: str, now: float,
                  evidence: str) -> str:
        """Fire `rule` unless something blocks it; returns why it was blocked ('' when it fired)."""
        context['fired'] = self._fired[rule.name]
        why = self._blocked(rule, person_id, context, now)
        if why:
            return why
        commands = self._commands(rule, context, person_id, now, evidence)
        outcome.commands += commands
        key = (rule.name, self.subject(person_id))
        self._armed[key] = False
        self._last_fired[key] = now
        self._fired[rule.name] += 1
        self._fired_for[key] = self._fired_for.get(key, 0) + 1
        self._forget_notes(rule.name, person_id)
        self._sent.extend([now] * len(commands))
        self.commands_sent += len(commands)
        for cmd in commands:
            self._apply(cmd, now)
        return ''

    def _release_held_events(self, now: float) -> Outcome:
        """Fire the event rules held while the robot spoke, once it has stopped (oldest first); drop
        those held longer than limits.event_hold_s."""
        outcome = Outcome()
        for h in self._held_events:
            if h.until < now:
                self._note(outcome, h.rule, h.person_id,
                           f'dropped: the robot spoke for more than {self.limits.event_hold_s:g} s')
        self._held_events = [h for h in self._held_events if h.until >= now]
        if self._held_events and not self.robot_speaking():
            held, self._held_events = self._held_events, []
            for h in held:
                h.context['robot_speaking'] = False
                why = self._try_fire(outcome, h.rule, h.context, h.person_id, now, h.evidence)
                if why:
                    self._note(outcome, h.rule, h.person_id, why)
        return outcome

    def _blocked(self, rule: Rule, person_id: str, context: Mapping[str, Any], now: float) -> str:
        if rule.max_count and self._fired[rule.name] >= rule.max_count:
            return f'reached max_count ({rule.max_count} this session)'
        key = (rule.name, self.subject(person_id))
        if rule.max_per_person and self._fired_for.get(key, 0) >= rule.max_per_person:
            return f'reached max_per_person ({rule.max_per_person} for this person this session)'
        last = self._last_fired.get(key)
        if last is not None and now - last < rule.cooldown_s:
            return f'cooldown ({rule.cooldown_s:g} s)'
        if rule.priority < Priority.HIGH and self.paused(now):
            return 'paused'
        actions = {a.action for a in rule.actions}
        speech = bool(actions & {Action.SAY, Action.NAME_CALL})
        if (speech and context.get('robot_speaking') and not self.limits.speak_while_speaking
                and rule.priority < Priority.SAFETY):
            return SPEAKING
        if Action.NAME_CALL in actions and self._protocol is not None:
            return 'a name call is still waiting for its result'
        window = self.limits.window_s
        while self._sent and self._sent[0] <= now - window:
            self._sent.popleft()
        held = sum(len(h.rule.actions) for h in self._held_events)
        if len(self._sent) + held + len(rule.actions) > self.limits.max_commands:
            return (f'global rate limit ({self.limits.max_commands} commands per {window:g} s; {len(self._sent)} sent '
                    f'in the last {window:g} s{f", {held} kept for events held while it speaks" if held else ""})')
        return ''

    def _note(self, outcome: Outcome, rule: Rule, person_id: str, why: str) -> None:
        kind = why.split(' (')[0]
        key = (rule.name, person_id, kind)
        if key not in self._noted:
            self._noted.add(key)
            outcome.suppressed.append(Suppressed(rule.name, person_id, why))

    def _forget_notes(self, rule: str, person_id: str) -> None:
        if self._noted:
            self._noted = {k for k in self._noted if k[0] != rule or k[1] != person_id}

    def _forget_absent(self, now: float) -> None:
        """Drop rule state of gone face tracks (ids are not reused); keep enrolled people's ('person:<id>',
        it follows them across track loss) and running cooldowns."""
        live = set(self._persons) | {p.state.subject for p in self._persons.values()}
        def kept(key: tuple[str, ...]) -> bool:
            return not key[1] or key[1] in live or key[1].startswith('person:')
        cooldowns = {r.name: r.cooldown_s for r in self.policy.rules}
        self._held, self._armed = ({k: v for k, v in d.items() if kept(k)} for d in (self._held, self._armed))
        self._fired_for = {k: v for k, v in self._fired_for.items() if kept(k)}
        self._noted = {k for k in self._noted if kept(k)}
        self._last_fired = {k: t for k, t in self._last_fired.items() if kept(k) or now - t < cooldowns.get(k[0], 0)}

    @property
    def person_ids(self) -> set[str]:  # the face tracks whose states are current (not dropped as stale)
        return set(self._persons)

    def _apply(self, cmd: Command, now: float) -> None:
        if cmd.action == Action.PAUSE:
            self._paused_until = now + cmd.duration_s
        elif cmd.action == Action.RESUME:
            self._paused_until = -math.inf
        elif cmd.action == Action.NAME_CALL:
            self._protocol = _Protocol(cmd.target_id, now)
            self.name_calls += 1

    # --- commands --------------------------------------------------------------------------------
    def reason(self, rule: Rule, context: Mapping[str, Any], person_id: str, evidence: str = '') -> str:
        """The reason in words: the rule's reason text, then the evidence behind its condition."""
        head = _render(rule.reason, context) if rule.reason else f'{rule.name}: {rule.condition.text}'
        facts = []
        record = self._persons.get(person_id)
        for q in STATE_QUANTITIES:
            if q in rule.condition.names or f'{q}_trend' in rule.condition.names:
                if q == 'attention':
                    a = context.get('attention', math.nan)
                    facts.append(f'attention {a:.2f}' if math.isfinite(a) else 'attention unknown')
                elif record is not None:
                    facts.append(explain(replace(record.state, trends=record.trends), q))
        if evidence:
            facts.insert(0, evidence)
        return f"{head} — {'; '.join(facts)}" if facts else head

    def _commands(self, rule: Rule, context: Mapping[str, Any], person_id: str, now: float,
                  evidence: str) -> list[Command]:
        reason = self.reason(rule, context, person_id, evidence)
        stamp_ns = int(now * 1e9)
        return [self._command(a, rule, context, person_id, reason, stamp_ns) for a in rule.actions]

    def _command(self, a: ActionSpec, rule: Rule, context: Mapping[str, Any], person_id: str, reason: str,
                 stamp_ns: int) -> Command:
        kw: dict[str, Any] = {'action': a.action, 'priority': rule.priority, 'target_id': person_id,
                              'rule': rule.name, 'reason': reason, 'stamp_ns': stamp_ns, 'duration_s': a.duration_s}
        if a.action in (Action.SAY, Action.NAME_CALL):
            kw.update(text=_render(a.text, context), speech_rate=a.speech_rate, volume=a.volume)
        elif a.action == Action.GESTURE:
            kw['animation'] = a.animation
        elif a.action == Action.LED:
            kw['led_color'] = a.color
        elif a.action == Action.GAZE:
            if a.gaze == 'center':
                kw['gaze'] = CENTER
            elif a.gaze == 'person':
                kw['gaze'] = self.gaze_resolver(person_id) if self.gaze_resolver and person_id else None
            elif isinstance(a.gaze, tuple):
                x, y, z, frame = a.gaze
                kw['gaze'] = GazeTarget(x, y, z, frame)
        elif a.action == Action.APPROACH:
            limit = self.limits.approach_speed
            kw['velocity'] = max(-limit, min(limit, a.velocity))
        return Command(**kw)

