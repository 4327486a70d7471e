"""The torch mini-Xception (for fine-tuning) agrees with the shipped ONNX CNN, and fine-tuning works."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.expression.cnn import FerCnn, default_model_path, preprocess

torch = pytest.importorskip('torch')
pytest.importorskip('onnx')

from attune.models.layers.fer_minixception_net import FerMiniXception, load_onnx, write_onnx  # noqa: E402
from attune.models.training.fer_finetune import (  # noqa: E402
    FineTuneConfig,
    augment,
    cnn_outputs,
    fer_targets,
    fine_tune,
    trunk_views,
)

REFERENCE = Path(__file__).parent / 'data' / 'fer_keras_reference.npz'


def _torch_outputs(net: FerMiniXception, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = torch.from_numpy(preprocess(crops)).permute(0, 3, 1, 2)
    with torch.no_grad():
        logits, embedding = net(x)
    return torch.softmax(logits, dim=1).numpy(), embedding.numpy()


def test_torch_net_with_the_onnx_weights_matches_onnxruntime_on_real_crops() -> None:
    crops = np.load(REFERENCE, allow_pickle=False)['crops']
    probabilities, embedding = _torch_outputs(load_onnx(default_model_path()), crops)
    cnn = FerCnn()
    np.testing.assert_allclose(probabilities, cnn.run_fer2013(preprocess(crops)), atol=1e-5)
    np.testing.assert_allclose(embedding, cnn(crops).embedding, atol=1e-4)


def test_written_weights_run_in_onnxruntime_as_in_torch(tmp_path: Path) -> None:
    net = load_onnx(default_model_path())
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.top_parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator))
    out = tmp_path / 'tuned.onnx'
    write_onnx(net, default_model_path(), out, {'fine_tune': '{}'})
    crops = np.load(REFERENCE, allow_pickle=False)['crops']
    probabilities, embedding = _torch_outputs(net, crops)
    cnn = FerCnn(out)
    np.testing.assert_allclose(probabilities, cnn.run_fer2013(preprocess(crops)), atol=1e-5)
    np.testing.assert_allclose(embedding, cnn(crops).embedding, atol=1e-4)
    assert not np.allclose(cnn(crops).embedding, FerCnn()(crops).embedding, atol=1e-3)  # the weights changed
    assert load_onnx(out).state_dict()['classifier.bias'].allclose(net.classifier.bias)


def test_load_onnx_rejects_a_model_of_another_shape(tmp_path: Path) -> None:
    import onnx
    from onnx import helper

    proto = onnx.load(str(default_model_path()))
    proto.graph.initializer.pop()
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(proto.SerializeToString())
    with pytest.raises(ValueError, match='conv2d_7'):
        load_onnx(bad)
    assert helper  # onnx.helper importable: write_onnx needs it


def test_augment_keeps_shape_and_range_and_mirrors_some() -> None:
    x = torch.linspace(-1, 1, 64).repeat(8, 1, 64, 1)  # a horizontal ramp
    y = augment(x, FineTuneConfig(), torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= -1 and float(y.max()) <= 1
    slope = (y[..., :, -8:].mean(dim=(1, 2, 3)) - y[..., :, :8].mean(dim=(1, 2, 3)))
    assert (slope > 0).any() and (slope < 0).any()


def test_fine_tuning_lowers_the_loss_on_its_data_and_only_moves_the_top() -> None:
    crops = np.load(REFERENCE, allow_pickle=False)['crops']
    labels = ['happy' if i % 2 else 'neutral' for i in range(len(crops))]
    config = FineTuneConfig(epochs=6, batch_size=8, lr=3e-3, views=2, threads=1)
    net = load_onnx(default_model_path())
    views = trunk_views(net, crops, config)
    assert views['views'].shape[:2] == (len(crops), 2) and views['plain'].shape == views['mirror'].shape
    target = torch.from_numpy(fer_targets(labels))

    def loss(n: FerMiniXception) -> float:
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(n.top(views['plain'].float())[0], target))

    before, trunk_before = loss(net), net.conv1.weight.clone()
    fine_tune(net, views['views'], labels, np.zeros(len(crops), bool), config, log=lambda _: None)
    assert loss(net) < before
    assert torch.equal(net.conv1.weight, trunk_before)
    out = cnn_outputs(net, views['plain'], views['mirror'])
    assert out['cnn_probabilities'].shape == (len(crops), 7) and out['mirror_embedding'].shape == (len(crops), 128)
    np.testing.assert_allclose(out['cnn_probabilities'].sum(axis=1), 1, atol=1e-5)
