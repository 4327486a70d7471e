"""attune/Expression <-> ExpressionObservation (attune.ros.msg_expression), and its views."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.expression.observation import ExpressionObservation
from attune.ros import msg_expression
from test.ros.round_trip import assert_same, distributions, header, maybe_nan32, stamps, unit32, words

pytestmark = pytest.mark.ros


@st.composite
def expressions(draw: st.DrawFn) -> ExpressionObservation:
    names, probabilities = draw(distributions())
    aus, intensities = draw(distributions())
    return ExpressionObservation(face_id=draw(words), source=draw(words), label=draw(words), confidence=draw(unit32),
                                 labels=names, probabilities=probabilities, valence=draw(maybe_nan32),
                                 arousal=draw(maybe_nan32), action_units=aus, au_intensities=intensities,
                                 calibrated=draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(expressions(), stamps)
def test_expression_round_trip(expression: ExpressionObservation, stamp_ns: int) -> None:
    msg = msg_expression.to_msg(expression, header(stamp_ns))
    assert_same(msg_expression.from_msg(msg), expression)
    assert msg_expression.action_units(msg) == pytest.approx(expression.action_unit_intensities())
    signer = msg_expression.signer_input(msg)
    assert (signer.stamp_ns, signer.face_id, signer.labels) == (stamp_ns, expression.face_id, expression.labels)


def test_an_infinite_valence_travels_as_not_estimated() -> None:
    msg = msg_expression.to_msg(ExpressionObservation('f1', 'ensemble', 'happy', 0.9, valence=math.inf), header(1))
    assert math.isnan(msg.valence)


def test_distribution_view() -> None:
    msg = msg_expression.to_msg(ExpressionObservation('f1', 'ensemble', 'happy', 0.7, ('happy', 'sad'), (0.7, 0.3)),
                                header(1))
    assert msg_expression.distribution(msg).get('happy') == pytest.approx(0.7)
