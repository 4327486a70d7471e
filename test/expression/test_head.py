"""The expression head: torch training, ONNX export (onnxruntime agrees with torch), the runner,
calibration on logits, and the shipped model inside the analyzer."""
from __future__ import annotations

import numpy as np
import pytest

from attune.emotions import EMOTIONS
from attune.errors import ModelFileError
from attune.expression.head import HEAD_FEATURE_SIZE, ExpressionHead, head_features, mirror_mean

torch = pytest.importorskip('torch')


def _matrix(n: int = 140, seed: int = 0):
    from attune.models.training.expression_head_training import Matrix

    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(EMOTIONS)
    x = rng.normal(size=(n, HEAD_FEATURE_SIZE)).astype(np.float32)
    x[np.arange(n), y] += 3.0  # class c shows in feature c: learnable
    person = np.array([f'p{i % 20}' for i in range(n)])
    source = np.where(np.arange(n) < 28, 'london', 'mux')
    return Matrix(x, y, person, source, np.arange(n))


def test_onnx_export_agrees_with_torch(tmp_path) -> None:
    from attune.models.training.expression_head_training import HeadConfig, export_onnx, fit, predict_logits

    m = _matrix()
    config = HeadConfig(hidden=16, epochs=40, batch_size=32, threads=1)
    model = fit(m, config)
    assert np.mean(predict_logits(model, m.x).argmax(axis=1) == m.y) > 0.9
    check = export_onnx(model, 0.5, config, tmp_path / 'head.onnx', {'note': 'test'})
    assert check['max_abs_diff'] < 1e-4 and check['batch1_max_abs_diff'] < 1e-4
    head = ExpressionHead(tmp_path / 'head.onnx')
    assert head.labels == EMOTIONS and head.margin == 0.5 and head.metadata()['note'] == '"test"'
    np.testing.assert_allclose(head.logits(m.x[:9]), predict_logits(model, m.x[:9]), atol=1e-4)
    np.testing.assert_allclose(head.logits(m.x[0]), predict_logits(model, m.x[:1]), atol=1e-4)


def test_logistic_regression_head_exports_too(tmp_path) -> None:
    from attune.models.training.expression_head_training import HeadConfig, export_onnx, fit

    m = _matrix(seed=1)
    model = fit(m, HeadConfig(hidden=0, epochs=4, threads=1))
    check = export_onnx(model, 0.0, HeadConfig(hidden=0), tmp_path / 'lr.onnx')
    assert check['max_abs_diff'] < 1e-4


def test_calibration_reads_the_persons_neutral_as_neutral() -> None:
    from attune.expression.head import REST_NEUTRAL

    head = ExpressionHead()
    reference = np.array([0.5, -1.0, 2.0, 0.0, -0.5, 0.0, 0.3], np.float32)  # a resting face read as sad
    rest = head.calibrated(reference, reference)
    assert abs(float(rest[0]) - REST_NEUTRAL) < 1e-5 and np.allclose(rest[1:], rest[1])
    for gain in (0.5 * head.margin, 1.5 * head.margin + 0.1):   # the label: argmax of z - r + margin e_neutral
        smile = reference + np.eye(7, dtype=np.float32)[1] * gain
        expected = 'happy' if gain > head.margin else 'neutral'
        assert EMOTIONS[int(head.calibrated(smile, reference).argmax())] == expected
    assert head.calibrated(reference + np.eye(7, dtype=np.float32)[1] * 4.0, reference)[1] > 0.9


def test_broken_or_foreign_files_raise(tmp_path) -> None:
    from attune.expression.cnn import default_model_path

    with pytest.raises(ModelFileError, match='missing'):
        ExpressionHead(tmp_path / 'none.onnx')
    with pytest.raises(ModelFileError, match='not an expression head'):
        ExpressionHead(default_model_path())  # the FER CNN


def test_shipped_head_in_the_analyzer(london) -> None:
    from attune.expression.analyzer import ExpressionAnalyzer
    from attune.expression.cnn import prepare_crop
    from attune.expression.shape import landmark_shape

    analyzer = ExpressionAnalyzer()
    results = [analyzer.analyze_one(p.rgb, p.landmarks) for p in london]
    for p, r in zip(london, results):
        assert set(r.sources) == {'rules', 'cnn', 'head'} and r.head_logits.shape == (7,)
        np.testing.assert_allclose(r.ensemble.restricted(EMOTIONS), r.sources['head'].probabilities, atol=1e-6)
        cnn, mirrored = analyzer.cnn.with_mirror(prepare_crop(p.rgb, p.landmarks))
        embedding, probabilities = mirror_mean(cnn.embedding[0], cnn.probabilities[0], mirrored.embedding[0],
                                               mirrored.probabilities[0])
        np.testing.assert_allclose(cnn.embedding[0], r.features[17:145], atol=1e-5)  # the learner: crop as is
        h, w = p.rgb.shape[:2]
        x = head_features(r.aus.intensities, r.aus.measures, embedding, probabilities,
                          landmark_shape(p.landmarks, w, h))
        np.testing.assert_allclose(analyzer.head.logits(x)[0], r.head_logits, atol=1e-5)
    right = [(r.ensemble.label == 'happy') == p.smiling for p, r in zip(london, results)]
    assert np.mean(right) >= 0.83  # these 12 people are held out of training (test_head_quality guards it)
