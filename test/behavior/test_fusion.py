"""Interaction-state fusion on exact inputs: contributions and weighted means, staleness decay,
presence hysteresis, smoothing, gating, sign attribution, trends."""
from __future__ import annotations

import math

import pytest

from attune.behavior.fusion import (
    AffectObservation,
    ExpressionObservation,
    FaceSighting,
    FusionOptions,
    InteractionFusion,
    SignObservation,
    attention_from_pose,
    distress_from_valence_arousal,
    emotion_coordinates,
    fused_value,
)

EXACT = FusionOptions(smoothing_tau_s=0.0)


def by_key(state, quantity):
    return {(c.modality, c.source): c for c in state.contributions if c.quantity == quantity}


def test_contributions_and_weighted_means() -> None:
    f = InteractionFusion(EXACT)
    f.observe_faces(0.0, 10, [FaceSighting('f1', yaw=9.0, pitch=12.0)])  # 15 deg off-axis
    f.observe_expression(0.0, 11, ExpressionObservation('f1', 'rules', 'happy', 0.8, ('happy', 'sad'), (0.75, 0.25)))
    f.observe_affect(0.0, 12, AffectObservation('f1', 'asd', valence=-0.5, engagement=0.4))
    (s,) = f.snapshot(0.5)
    assert s.present and s.stamp_ns == 12
    assert s.attention == pytest.approx(2 / 3)
    eng = by_key(s, 'engagement')
    assert eng[('presence', 'faces')].value == 1.0 and eng[('presence', 'faces')].weight == 0.5
    assert eng[('attention', 'head_pose')].value == pytest.approx(2 / 3)
    assert eng[('affect', 'asd')].value == pytest.approx(0.4)
    assert s.engagement == pytest.approx((0.5 + 2 / 3 + 0.4) / 2.5)
    val = by_key(s, 'valence')
    assert val[('expression', 'rules')].value == pytest.approx(0.75 * 0.8 - 0.25 * 0.6)
    assert val[('expression', 'rules')].weight == pytest.approx(0.8)  # confidence
    assert s.valence == pytest.approx((0.8 * 0.45 - 0.5) / 1.8)
    # affect without a distribution: distress from valence (arousal unknown counts as 0)
    assert by_key(s, 'distress')[('affect', 'asd')].value == pytest.approx(0.5 * 0.75)
    assert s.distress == pytest.approx((0.8 * 0.175 + 0.375) / 1.8)
    assert s.arousal == pytest.approx(0.2)  # only the expression has arousal
    # the message contract: every fused value is sum(w v) / sum(w) of its contributions
    for q in ('engagement', 'valence', 'arousal', 'distress'):
        assert fused_value(c for c in s.contributions if c.quantity == q) == pytest.approx(s.value(q))
    assert 'valence' in s.summary and 'expression/rules happy 0.80' in s.summary


def test_staleness_decays_weights_then_drops_them() -> None:
    o = FusionOptions(smoothing_tau_s=0.0, fresh_s=1.0, half_life_s=2.0, max_age_s=7.0)
    assert [o.decay(a) for a in (0.0, 1.0, 3.0, 5.0, 7.0)] == [1.0, 1.0, 0.5, 0.25, 0.125]
    assert o.decay(7.01) == 0.0
    f = InteractionFusion(o)
    f.observe_expression(0.0, 1, ExpressionObservation('f1', 'rules', 'sad', 1.0))
    f.observe_affect(2.0, 2, AffectObservation('f1', 'asd', valence=0.5))
    (s,) = f.snapshot(3.0)  # expression 3 s old: weight 0.5; affect 1 s old: weight 1
    val = by_key(s, 'valence')
    assert (val[('expression', 'rules')].weight, val[('expression', 'rules')].age_s) == (0.5, 3.0)
    assert val[('affect', 'asd')].weight == 1.0
    assert s.valence == pytest.approx((0.5 * -0.6 + 1.0 * 0.5) / 1.5)
    (s,) = f.snapshot(7.5)  # expression gone (7.5 s), affect 5.5 s old: 0.5 ** 2.25
    assert by_key(s, 'valence')[('expression', 'rules')].weight == 0.0
    assert by_key(s, 'valence')[('affect', 'asd')].weight == pytest.approx(0.5 ** 2.25)
    assert s.valence == pytest.approx(0.5)
    (s,) = f.snapshot(9.5)  # everything stale: unknown, not present
    assert math.isnan(s.valence) and math.isnan(s.distress) and not s.present
    assert math.isnan(s.engagement)  # presence weight decayed to 0 too
    assert 'no recent input' in s.summary
    assert f.snapshot(2.01 + o.forget_after_s) == []  # forgotten (last input at 2 s)


def test_presence_hysteresis() -> None:
    f = InteractionFusion(FusionOptions(presence_on_s=0.2, presence_off_s=1.0))
    for t in (0.0, 0.1):
        f.observe_faces(t, 0, [FaceSighting('a')])
    assert not f.is_present('a', 0.1)  # seen for 0.1 s < presence_on_s
    f.observe_faces(0.2, 0, [FaceSighting('a')])
    assert f.is_present('a', 0.2)
    f.observe_faces(0.3, 0, [])  # an empty frame does not end presence at once
    assert f.is_present('a', 1.2) and not f.is_present('a', 1.21)
    f.observe_faces(2.5, 0, [FaceSighting('a')])  # back after a gap: a new streak
    assert not f.is_present('a', 2.5)
    f.observe_faces(2.7, 0, [FaceSighting('a')])
    assert f.is_present('a', 2.7)


def test_smoothing_is_an_exponential_moving_average_in_time() -> None:
    f = InteractionFusion(FusionOptions(smoothing_tau_s=1.0))
    f.observe_affect(0.0, 0, AffectObservation('p', 'asd', valence=0.0))
    f.observe_affect(1.0, 0, AffectObservation('p', 'asd', valence=1.0))
    (s,) = f.snapshot(1.0)
    assert s.valence == pytest.approx(1 - math.exp(-1))
    f.observe_affect(10.0, 0, AffectObservation('p', 'asd', valence=-1.0))  # after max_age: restarts
    (s,) = f.snapshot(10.0)
    assert s.valence == pytest.approx(-1.0)


def test_gating_while_the_robot_speaks() -> None:
    f = InteractionFusion(FusionOptions(gate_while_speaking=True))
    f.set_robot_speaking(True)
    assert not f.observe_expression(0.0, 0, ExpressionObservation('p', 'rules', 'sad', 1.0))
    f.set_robot_speaking(False)
    assert f.observe_expression(0.0, 0, ExpressionObservation('p', 'rules', 'sad', 1.0))


def test_a_sign_without_face_goes_to_the_most_attentive_person() -> None:
    f = InteractionFusion(EXACT)
    f.observe_faces(0.0, 0, [FaceSighting('away', yaw=40.0, pitch=0.0),
                             FaceSighting('facing', yaw=2.0, pitch=0.0)])
    assert f.observe_sign(0.1, 0, SignObservation('', 'hello', 0.9, 'tcn')) == 'facing'
    facing = {s.person_id: s for s in f.snapshot(0.1)}['facing']
    sign = by_key(facing, 'engagement')[('sign', 'tcn')]
    assert (sign.value, sign.weight) == (1.0, pytest.approx(0.9))
    assert InteractionFusion().observe_sign(0.0, 0, SignObservation('', 'hello', 0.9)) == ''  # nobody there


def test_trend_of_a_fused_quantity() -> None:
    f = InteractionFusion(FusionOptions(smoothing_tau_s=0.0, trend_window_s=1.0))
    f.observe_affect(0.0, 0, AffectObservation('p', 'asd', emotions=('neutral',), probabilities=(1.0,)))
    f.snapshot(0.0)
    f.observe_affect(1.0, 0, AffectObservation('p', 'asd', emotions=('fear',), probabilities=(1.0,)))
    (s,) = f.snapshot(1.0)
    assert s.trends['distress'] == pytest.approx(0.9)
    assert 'distress 0.90 rising' in s.summary


def test_emotion_tables() -> None:
    assert emotion_coordinates(('Angry', 'unknown'), (0.5, 0.5)) == (-0.7, 0.7, 0.7)  # alias, renormalized
    assert emotion_coordinates(('unknown',), (1.0,)) is None
    assert distress_from_valence_arousal(-1.0, 1.0) == 1.0
    assert distress_from_valence_arousal(-1.0, -1.0) == 0.5
    assert distress_from_valence_arousal(0.5, 1.0) == 0.0
    assert attention_from_pose(0.0, 0.0, 45.0) == 1.0
    assert attention_from_pose(30.0, 40.0, 45.0) == 0.0


def test_the_state_says_where_a_present_face_is_and_forgets_it_when_gone() -> None:
    f = InteractionFusion(EXACT)
    f.observe_faces(0.0, 0, [FaceSighting('f1', yaw=5.0, pitch=0.0, position=(0.1, -0.2, 1.5))])
    assert f.snapshot(0.0)[0].face_position == (0.1, -0.2, 1.5)
    assert f.snapshot(EXACT.presence_off_s + 1.0)[0].face_position is None
