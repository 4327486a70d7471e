"""The ASD emotion model in ONNX agrees with torch on real faces; the shipped model is what its card says;
`attune train asd-emotion` runs end to end on a tiny data set."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from attune.affect.model import AsdEmotionModel, default_model_path
from attune.errors import ModelFileError
from test.conftest import REPO, shared_data

REFERENCE = REPO / 'test' / 'affect' / 'data' / 'asd_emotion_torch_reference.npz'


def test_the_shipped_model_agrees_with_torch_on_real_faces() -> None:
    """onnxruntime on the real test-split faces whose torch outputs `attune train asd-emotion` stored."""
    model = AsdEmotionModel()
    reference = np.load(REFERENCE)
    logits, probabilities = model.run(reference['crops'], reference['landmarks'])
    assert len(logits) >= 4
    assert np.abs(probabilities - reference['probabilities']).max() < 1e-5
    assert np.abs(logits - reference['logits']).max() < 1e-4
    # batch 1 gives the same as the batch
    single = model.run(reference['crops'][:1], reference['landmarks'][:1])[1]
    assert np.abs(single - probabilities[:1]).max() < 1e-5


def test_the_shipped_model_is_small_and_its_card_names_the_command() -> None:
    path = default_model_path()
    assert path.stat().st_size < 15e6
    model = AsdEmotionModel()
    info = model.info
    assert len(info.neutral_reference) == 7
    assert sum(info.neutral_reference) == pytest.approx(1.0, abs=1e-4)
    card = path.with_suffix('.md').read_text()
    assert 'attune train asd-emotion' in card
    if info.backbone == 'resnet':
        assert info.depth in (18, 34, 50) and f'ResNet-{info.depth}' in card
    else:
        assert info.backbone == 'fer-minixception' and 'mini-Xception' in card and info.input_size == 64
    assert 'Adults, not autistic children' in card


def test_a_file_that_is_not_the_model_is_refused(tmp_path: Path) -> None:
    other = tmp_path / 'other.onnx'
    shutil.copy(REPO / 'src' / 'attune' / 'models' / 'resources' / 'fer_minixception.onnx', other)
    with pytest.raises(ModelFileError, match='not an ASD emotion model'):
        AsdEmotionModel(other)
    with pytest.raises(ModelFileError, match='missing'):
        AsdEmotionModel(tmp_path / 'nothing.onnx')


@pytest.mark.slow
@pytest.mark.filterwarnings('ignore::FutureWarning', 'ignore::UserWarning')  # torch.onnx's exporter chatter
def test_attune_train_asd_emotion_end_to_end_on_a_tiny_data_set(tmp_path: Path) -> None:
    """Four people, neutral and smiling (London set), one epoch of a tiny network: the CLI labels them with
    the teacher, splits by subject, trains, writes ONNX (which agrees with torch on these real faces), the
    model card and the torch reference; the cache is reused."""
    from attune.cli.main import main

    data = tmp_path / 'data'
    for emotion, suffix in (('neutral', '03'), ('smiling', '08')):
        (data / emotion).mkdir(parents=True)
        for person in ('001', '003', '005', '008'):
            os.symlink(shared_data('faces', 'london_ccby', emotion, f'{person}_{suffix}.jpg'),
                       data / emotion / f'{person}_{suffix}.jpg')
    out = tmp_path / 'out' / 'tiny.onnx'
    cache = tmp_path / 'cache'
    args = ['train', 'asd-emotion', '--data', str(data), '--output', str(out), '--cache-dir', str(cache),
            '--epochs', '1', '--width', '4', '--input-size', '32', '--batch-size', '4', '--threads', '1',
            '--test-fraction', '0.3', '--val-fraction', '0']
    assert main(args) == 0
    card = out.with_suffix('.md').read_text()
    assert '--epochs 1' in card and 'Adults, not autistic children' in card
    evaluation = json.loads((out.parent / 'tiny.eval.json').read_text())
    split = evaluation['split']
    assert split['train']['faces'] + split['test']['faces'] == 8
    model = AsdEmotionModel(out)
    assert model.info.teacher_fusion is None   # no validation people (--val-fraction 0) to choose a pool on
    reference = np.load(out.with_suffix('.torch_reference.npz'))
    assert np.abs(model.run(reference['crops'], reference['landmarks'])[1] - reference['probabilities']).max() < 1e-5
    # a second run reuses the faces and the teacher's labels instead of finding and labelling them again;
    # another teacher (other weights) relabels the cached faces
    from attune.cli.main import build_parser
    from attune.cli.train_asd_emotion import load_or_build

    said: list[str] = []
    again = load_or_build(build_parser().parse_args(args), log=said.append)
    assert len(again) == 8 and [line.split(' from ')[0] for line in said if ' from /' in line] == [
        'faces', 'teacher labels']
    assert not any(line.startswith(('finding', 'labelling')) for line in said)
    said.clear()
    other = load_or_build(build_parser().parse_args([*args, '--teacher-weight', 'cnn=1']), log=said.append)
    assert said[0].startswith('faces from') and any(line.startswith('labelling 8 faces') for line in said)
    assert np.array_equal(other.crops, again.crops) and not np.allclose(other.soft, again.soft)
    assert sorted(p.name.split('-')[0] for p in cache.iterdir()) == ['faces', 'teacher', 'teacher']
    # the pool with the teacher, chosen on validation people, goes into the model file and its card
    from attune.models.training.asd_emotion_training import TrainConfig
    from attune.models.training.asd_teacher_fusion import (
        CARD_HEADING,
        card_section,
        fit_fusion,
        update_card,
        write_fusion,
    )

    fit = fit_fusion(model, again, TrainConfig(test_fraction=0.3, val_fraction=0.3, seed=0), resamples=20)
    assert fit.fusion.network_weight in [float(w) for w in fit.by_weight]
    assert fit.parts['val']['faces'] >= 2 and fit.parts['test']['faces'] >= 2
    write_fusion(out, fit.fusion)
    update_card(out.with_suffix('.md'), card_section(fit, 'the command'))
    update_card(out.with_suffix('.md'), card_section(fit, 'the command'))   # replaced, not added twice
    assert AsdEmotionModel(out).info.teacher_fusion == fit.fusion
    card = out.with_suffix('.md').read_text()
    assert card.count(CARD_HEADING) == 1 and card.index(CARD_HEADING) < card.index('## Replacing this model')
    # a run continues from another's torch weights; its card names both commands
    weights = tmp_path / 'w.pt'
    assert main([*args, '--save-torch', str(weights)]) == 0
    assert main([*args, '--init', str(weights), '--output', str(tmp_path / 'out' / 'more.onnx')]) == 0
    card = (tmp_path / 'out' / 'more.md').read_text()
    assert card.count('attune train asd-emotion') >= 2 and '--init' in card and 'continued from' in card
