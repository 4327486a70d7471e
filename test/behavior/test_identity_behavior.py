"""Identity and stream trust in the interaction state and the policies (no rclpy): the state says who
each face is; a known person is greeted by name once per session whatever their track, unknown people
generically; a policy reads the live-camera score; a bound participant's name is theirs."""
from __future__ import annotations

import math
from dataclasses import replace

from attune.behavior.commands import Action
from attune.behavior.engine import PolicyEngine
from attune.behavior.fusion import FaceSighting, FusionOptions, Identity, InteractionFusion, PersonState
from attune.behavior.policy import load_policy, parse_policy

ADA = Identity(person_id='person-ada1', name='Ada', known=True, confidence=0.93)
STRANGER = Identity(confidence=0.55)


def test_the_state_says_who_each_face_is_and_how_far_the_stream_is_trusted() -> None:
    fusion = InteractionFusion(FusionOptions(stream_trust_max_age_s=2.0))
    assert not fusion.identify('t1', ADA)                 # an identity alone does not create a person
    fusion.observe_faces(0.0, 1, [FaceSighting('t1', yaw=0.0, pitch=0.0), FaceSighting('t2')])
    assert fusion.identify('t1', ADA) and not fusion.identify('t1', ADA)   # changed once
    fusion.identify('t2', STRANGER)
    fusion.set_stream_trust(0.0, 0.91, True)
    one, two = fusion.snapshot(0.5)
    assert one.identity == ADA and one.subject == 'person:person-ada1' and 'Ada 0.93' in one.summary
    assert two.identity == STRANGER and two.subject == 't2' and 'unknown person' in two.summary
    assert (one.stream_trust, one.stream_live) == (0.91, True)
    (late,) = fusion.snapshot(3.0, ['t1'])                # the verdict is older than 2 s: unknown
    assert math.isnan(late.stream_trust) and not late.stream_live


def state(track: str, identity: Identity | None, trust: float = math.nan, live: bool = False, **kw) -> PersonState:
    values = {**dict(present=True, attention=0.9, engagement=0.5, valence=0.0, arousal=0.0, distress=0.0), **kw}
    return PersonState(person_id=track, stamp_ns=1, identity=identity, stream_trust=trust, stream_live=live, **values)


def greetings(engine: PolicyEngine, states: list[tuple[float, PersonState]]) -> list[tuple[str, str, str]]:
    out = []
    for now, s in states:
        for cmd in engine.on_state(s, now).commands:
            if cmd.action == Action.SAY:
                out.append((cmd.rule, cmd.target_id, cmd.text))
        engine.tick(now)
    return out


def test_a_known_person_is_greeted_by_name_once_per_session_whatever_their_track() -> None:
    engine = PolicyEngine(load_policy('default'), start=0.0)
    said = greetings(engine, [(t * 0.25, state('t1', ADA)) for t in range(8)])
    assert said == [('greet_by_name', 't1', 'Hello Ada! Nice to see you.')]
    # Ada leaves (t1 goes stale) and comes back as t7, minutes later: no second greeting by name,
    # and no generic one either (she is known).
    said = greetings(engine, [(300 + t * 0.25, state('t7', ADA)) for t in range(12)])
    assert said == []
    # An unknown person is greeted without a name, once their track has been seen for 1.5 s.
    said = greetings(engine, [(400 + t * 0.25, state('t9', STRANGER)) for t in range(10)])
    assert said == [('greet', 't9', 'Hello! Nice to see you.')]


def test_an_untrusted_stream_gets_no_greeting_by_name() -> None:
    engine = PolicyEngine(load_policy('default'), start=0.0)
    replayed = [(t * 0.25, state('t1', ADA, trust=0.05, live=False)) for t in range(10)]
    assert greetings(engine, replayed) == [('greet', 't1', 'Hello! Nice to see you.')]
    engine = PolicyEngine(load_policy('default'), start=0.0)
    live = [(t * 0.25, state('t1', ADA, trust=0.95, live=True)) for t in range(10)]
    assert greetings(engine, live)[0][0] == 'greet_by_name'


STRICT = """\
policy: strict
limits: {min_stream_trust: 0.8, require_stream_trust: true}
rules:
  - name: hello
    when: present and stream_trusted
    max_per_person: 2
    cooldown_s: 0
    repeat: true
    actions:
      - say: "Hello {person_name}"
"""


def test_the_threshold_and_an_unknown_score_are_configurable() -> None:
    policy = parse_policy(STRICT, 'strict.yaml')
    assert policy.rules[0].max_per_person == 2 and policy.limits.min_stream_trust == 0.8
    engine = PolicyEngine(policy, start=0.0)
    assert not engine.on_state(state('t1', ADA), 0.0).commands                       # unknown: required
    assert not engine.on_state(state('t1', ADA, trust=0.7, live=True), 0.1).commands  # below 0.8
    fired = engine.on_state(state('t1', ADA, trust=0.85, live=False), 0.2).commands  # 0.8 decides, not live
    assert [c.text for c in fired] == ['Hello Ada']
    assert engine.on_state(state('t2', ADA, trust=0.9), 0.3).commands                # second time for Ada
    blocked = engine.on_state(state('t3', ADA, trust=0.9), 0.4)
    assert not blocked.commands and 'max_per_person' in blocked.suppressed[0].why


def test_a_bound_participant_is_called_by_their_enrolled_name() -> None:
    engine = PolicyEngine(load_policy('asd_session'), start=0.0)
    kid = replace(ADA, name='Sam', participant=True)
    calm = dict(attention=0.1, distress=0.1, participant_bound=True)
    other = [(t * 0.5, state('t2', STRANGER, **calm)) for t in range(10)]
    assert not [c for now, s in other for c in engine.on_state(s, now).commands if c.action == Action.NAME_CALL]
    calls = [c for t in range(10) for c in engine.on_state(state('t1', kid, **calm), 10 + t * 0.5).commands
             if c.action == Action.NAME_CALL]
    assert [(c.target_id, c.text) for c in calls] == [('t1', 'Sam')]
    fixed = PolicyEngine(load_policy('asd_session'), start=0.0, variables={'name': 'Alexander'})
    calls = [c for t in range(10) for c in fixed.on_state(state('t1', kid, **calm), t * 0.5).commands
             if c.action == Action.NAME_CALL]
    assert [c.text for c in calls] == ['Alexander']   # the behaviour node's participant_name wins
