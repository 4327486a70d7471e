"""The jointly trained CNN top + expression head feeds the head exactly what the node computes, and learns."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.emotions import EMOTIONS
from attune.expression.cnn import FerCnn, default_model_path
from attune.expression.head import HEAD_FEATURE_SIZE, head_features, mirror_mean
from attune.expression.shape import SHAPE_SIZE

torch = pytest.importorskip('torch')
pytest.importorskip('onnx')

from attune.models.layers.fer_minixception_net import load_onnx  # noqa: E402
from attune.models.training.expression_head_training import HeadConfig  # noqa: E402
from attune.models.training.expression_joint import (  # noqa: E402
    JointConfig,
    fit_joint,
    joint_outputs,
    pair_views,
)

REFERENCE = Path(__file__).parent / 'data' / 'fer_keras_reference.npz'


def _rows(crops: np.ndarray, seed: int = 0) -> np.ndarray:
    """Head inputs as the node builds them: random AUs, measures and shape, the ONNX CNN's mirror mean."""
    rng = np.random.default_rng(seed)
    n = len(crops)
    plain, mirrored = FerCnn().with_mirror(crops)
    embedding, probabilities = mirror_mean(plain.embedding, plain.probabilities, mirrored.embedding,
                                           mirrored.probabilities)
    return head_features(rng.random((n, 17)), rng.normal(size=(n, 15)), embedding, probabilities,
                         rng.normal(size=(n, SHAPE_SIZE)))


def test_joint_model_builds_the_head_inputs_the_node_builds() -> None:
    crops = np.load(REFERENCE, allow_pickle=False)['crops']
    x = _rows(crops)
    config = JointConfig(views=1, threads=1)
    net = load_onnx(default_model_path())
    views = pair_views(net, crops, config)
    assert views['views'].shape[:2] == (len(crops), 1) and views['view_mirrors'].shape == views['views'].shape
    model = fit_joint(net, x, np.arange(len(crops)) % 2, np.zeros(len(crops), bool), views['views'],
                      views['view_mirrors'], HeadConfig(epochs=1, batch_size=8, threads=1),
                      JointConfig(cnn_lr=1e-12, views=1, threads=1), log=lambda _: None)
    logits, inputs = joint_outputs(model, x, views['plain'], views['mirror'])
    assert logits.shape == (len(crops), len(EMOTIONS)) and inputs.shape == (len(crops), HEAD_FEATURE_SIZE)
    # float16 trunk outputs: the CNN columns agree with onnxruntime's to a few thousandths
    np.testing.assert_allclose(inputs, x, atol=0.03)
    assert np.abs(inputs - x).mean() < 2e-3


def test_joint_training_moves_the_top_and_head_not_the_trunk_and_lowers_the_loss() -> None:
    crops = np.load(REFERENCE, allow_pickle=False)['crops']
    x = _rows(crops)
    y = np.where(np.arange(len(crops)) % 2, EMOTIONS.index('happy'), EMOTIONS.index('neutral'))
    config = JointConfig(cnn_lr=3e-3, views=2, threads=1)
    net = load_onnx(default_model_path())
    views = pair_views(net, crops, config)
    trunk_before = net.conv1.weight.clone()
    top_before = net.classifier.weight.clone()

    def loss(logits: np.ndarray) -> float:
        return float(torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y)))

    short = fit_joint(load_onnx(default_model_path()), x, y, np.ones(len(crops), bool), views['views'],
                      views['view_mirrors'], HeadConfig(epochs=1, batch_size=8, threads=1), config,
                      log=lambda _: None)
    model = fit_joint(net, x, y, np.ones(len(crops), bool), views['views'], views['view_mirrors'],
                      HeadConfig(epochs=30, batch_size=8, lr=1e-2, dropout=0.0, noise=0.0, threads=1), config,
                      log=lambda _: None)
    assert loss(joint_outputs(model, x, views['plain'], views['mirror'])[0]) < \
        loss(joint_outputs(short, x, views['plain'], views['mirror'])[0])
    assert torch.equal(net.conv1.weight, trunk_before)
    assert not torch.equal(net.classifier.weight, top_before)
    assert not model.training and not model.net.training
