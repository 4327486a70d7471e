"""attune/AffectState <-> AffectObservation (attune.ros.msg_affect_state), and its two producers."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.affect.estimator import AffectEstimate
from attune.affect.observation import AffectObservation
from attune.emotions import EMOTIONS
from attune.ros import msg_affect_state
from test.ros.round_trip import assert_same, distributions, header, maybe_nan32, stamps, words

pytestmark = pytest.mark.ros


@st.composite
def affects(draw: st.DrawFn) -> AffectObservation:
    emotions, probabilities = draw(distributions())
    return AffectObservation(face_id=draw(words), source=draw(words), emotions=emotions, probabilities=probabilities,
                             dominant=draw(words), valence=draw(maybe_nan32), arousal=draw(maybe_nan32),
                             engagement=draw(maybe_nan32))


@settings(max_examples=60, deadline=None)
@given(affects(), stamps)
def test_affect_state_round_trip(affect: AffectObservation, stamp_ns: int) -> None:
    assert_same(msg_affect_state.from_msg(msg_affect_state.to_msg(affect, header(stamp_ns))), affect)


def test_the_asd_model_estimates_no_engagement_and_no_face_means_nothing() -> None:
    assert_same(msg_affect_state.from_estimate('t1'), AffectObservation('t1', 'asd_emotion'))
    probabilities = np.full(len(EMOTIONS), 1 / len(EMOTIONS), dtype=np.float32)
    estimate = AffectEstimate('t1', 5, probabilities, probabilities, EMOTIONS[0], valence=0.25, arousal=-0.5,
                              calibration='off')
    affect = msg_affect_state.from_estimate('t1', estimate)
    assert affect.emotions == tuple(EMOTIONS) and affect.dominant == estimate.dominant
    assert (affect.valence, affect.arousal) == (0.25, -0.5) and math.isnan(affect.engagement)
