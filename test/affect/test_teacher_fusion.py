"""The pool of the ASD emotion network with its teacher (attune.affect.teacher_fusion): the formula, its
limits, its settings as the model file stores them."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attune.affect.model import AsdEmotionModel
from attune.affect.teacher_fusion import TeacherFusion
from attune.emotions import EMOTIONS
from attune.errors import ModelFileError

N = len(EMOTIONS)
UNIFORM = (1 / N,) * N
distributions = arrays(np.float64, (3, N), elements=st.floats(0.01, 1.0)).map(
    lambda a: a / a.sum(axis=1, keepdims=True))


@given(distributions, distributions)
def test_the_weight_moves_the_pool_from_the_teacher_to_the_network(network, teacher) -> None:
    zero = (0.0,) * N
    assert np.allclose(TeacherFusion(1.0, zero, UNIFORM).fuse(network, teacher), network, atol=1e-5)
    assert np.allclose(TeacherFusion(0.0, zero, UNIFORM).fuse(network, teacher), teacher, atol=1e-5)
    half = TeacherFusion(0.5, zero, UNIFORM).fuse(network, teacher)
    geometric = np.sqrt(network * teacher)
    assert np.allclose(half, geometric / geometric.sum(axis=1, keepdims=True), atol=1e-5)
    assert np.allclose(half.sum(axis=1), 1.0, atol=1e-5)


def test_offsets_shift_a_class_and_certain_inputs_stay_finite() -> None:
    network = np.eye(N)[[0]]                    # certain of neutral: log 0 is clipped, not -inf
    teacher = np.full((1, N), 1 / N)
    offsets = (0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0)
    pooled = TeacherFusion(0.5, offsets, UNIFORM).fuse(network, teacher)
    assert np.isfinite(pooled).all() and pooled.argmax() == 0
    plain = TeacherFusion(0.5, (0.0,) * N, UNIFORM).fuse(network, teacher)
    assert pooled[0, 2] / pooled[0, 1] == pytest.approx(np.exp(2.0) * plain[0, 2] / plain[0, 1], rel=1e-4)


def test_settings_are_checked_and_round_trip() -> None:
    fusion = TeacherFusion(0.2, (0.5, 0, 0.5, -0.75, 0, 0, -0.5), (0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1))
    assert TeacherFusion.from_dict(fusion.to_dict()) == fusion
    with pytest.raises(ModelFileError, match='weight'):
        TeacherFusion(1.5, (0.0,) * N, UNIFORM)
    with pytest.raises(ModelFileError, match='offsets'):
        TeacherFusion(0.5, (0.0,) * 3, UNIFORM)
    with pytest.raises(ModelFileError, match='unreadable'):
        TeacherFusion.from_dict({'network_weight': 0.5})
    with pytest.raises(ValueError, match='must both be'):
        fusion.fuse(np.full((2, N), 1 / N), np.full((1, N), 1 / N))


def test_the_shipped_model_carries_its_pool() -> None:
    fusion = AsdEmotionModel().info.teacher_fusion
    assert fusion is not None and 0.0 <= fusion.network_weight <= 1.0
    assert sum(fusion.neutral_reference) == pytest.approx(1.0, abs=1e-4)
    assert int(np.argmax(fusion.neutral_reference)) == EMOTIONS.index('neutral')


def test_the_bench_scores_what_the_node_publishes() -> None:
    from attune.affect.dataset import STORE_SIZE, FaceDataset
    from attune.affect.evaluation import model_probabilities, published_probabilities

    model = AsdEmotionModel()
    rng = np.random.default_rng(0)
    soft = rng.dirichlet(np.ones(N), size=3).astype(np.float32)
    soft[2] = np.nan                                  # a face the teacher could not label
    faces = FaceDataset(rng.integers(0, 256, (3, STORE_SIZE, STORE_SIZE), dtype=np.uint8),
                        rng.normal(0.0, 0.1, (3, 478, 3)).astype(np.float32), soft, np.zeros(3, np.int64),
                        np.array(['a', 'b', 'c']), np.array(['x', 'y', 'z']), np.zeros(3, np.int64))
    network = model_probabilities(model, faces)
    published = published_probabilities(model, faces)
    assert np.allclose(published[:2], model.info.teacher_fusion.fuse(network[:2], soft[:2]), atol=1e-6)
    assert np.allclose(published[2], network[2])     # scored by the network, as nothing else is known
    assert np.allclose(published_probabilities(model, faces, fusion=False), network)
