"""A seed ensemble of ASD emotion models: members share the split and differ in training seed, their logits
are averaged in one exported graph the runtime reads like a single model; the person-wise bootstrap that
compares models on the validation people resamples people, not faces."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from attune.affect.dataset import FaceDataset
from attune.emotions import EMOTIONS
from attune.models.training import asd_emotion_training as training
from attune.models.training.asd_emotion_ensemble import MeanLogits, combine
from attune.models.training.asd_emotion_metrics import big_classes, classification, person_bootstrap

TINY = training.TrainConfig(width=4, input_size=32, epochs=1, batch_size=8, test_fraction=0.25, val_fraction=0.25,
                            threads=1, augment=False)


def _faces(n: int = 24) -> FaceDataset:
    rng = np.random.default_rng(0)
    hard = np.arange(n) % 3
    landmarks = training.canonical_reference()[None] + 0.05 * rng.standard_normal((n, 478, 3))
    return FaceDataset(rng.integers(0, 255, (n, 64, 64), dtype=np.uint8), landmarks.astype(np.float32),
                       np.eye(len(EMOTIONS), dtype=np.float32)[hard] * 0.9 + 0.1 / len(EMOTIONS), hard,
                       np.array([f'p{i}' for i in range(n)]), np.array([f'p{i}.jpg' for i in range(n)]),
                       np.zeros(n, np.int64))


def test_the_training_seed_changes_the_weights_but_not_the_split() -> None:
    data = _faces()
    first = training.train(data, TINY, log=None)
    other = training.train(data, training.TrainConfig(**{**TINY.__dict__, 'train_seed': 7}), log=None)
    again = training.train(data, TINY, log=None)
    for part in ('train', 'val', 'test'):
        assert np.array_equal(getattr(first.split, part), getattr(other.split, part))
    weight = 'classifier.weight'
    assert torch.equal(first.model.state_dict()[weight], again.model.state_dict()[weight])
    assert not torch.equal(first.model.state_dict()[weight], other.model.state_dict()[weight])


def test_the_ensemble_is_the_mean_of_its_members_logits_plus_its_offsets() -> None:
    torch.manual_seed(0)
    members = [training.build_model(TINY).eval() for _ in range(3)]
    ensemble = MeanLogits(members).eval()
    crops, landmarks = torch.rand(5, 1, 32, 32) * 2 - 1, torch.from_numpy(training.canonical_reference())[None]
    landmarks = landmarks.repeat(5, 1, 1)
    with torch.no_grad():
        expected = torch.stack([m(crops, landmarks) for m in members]).mean(dim=0)
        assert torch.allclose(ensemble(crops, landmarks), expected, atol=1e-6)
        ensemble.offsets += torch.arange(7.0)
        assert torch.allclose(ensemble(crops, landmarks), expected + torch.arange(7.0), atol=1e-6)
    with pytest.raises(ValueError, match='at least one member'):
        MeanLogits([])


@pytest.mark.slow
@pytest.mark.timeout(900)  # two exports through torch.onnx's dynamo tracer: minutes on a loaded 2-core machine
@pytest.mark.filterwarnings('ignore::FutureWarning', 'ignore::UserWarning')  # torch.onnx's exporter chatter
def test_an_ensemble_exports_as_one_model_the_runtime_reads(tmp_path: Path) -> None:
    from attune.affect.model import AsdEmotionModel
    from attune.models.training.asd_emotion_export import export_onnx

    data = _faces()
    states = []
    for seed in (1, 2):  # members as a run starts them: combining does not care how they were trained
        torch.manual_seed(seed)
        states.append(training.build_model(TINY).state_dict())
    result = combine(data, TINY, states, log=None)
    assert result.history[0] == {'members': 2}
    assert result.evaluation['test']['faces'] == int(result.split.test.sum()) > 0
    assert result.neutral_reference.sum() == pytest.approx(1.0, abs=1e-5)
    check = export_onnx(result, tmp_path / 'ensemble.onnx')
    assert check['max_abs_diff'] < 1e-5 and check['batch1_max_abs_diff'] < 1e-5
    runner = AsdEmotionModel(tmp_path / 'ensemble.onnx')
    from attune.affect.evaluation import resize_crops

    crops = resize_crops(data.crops[:4], 32)  # as training resizes the stored crops
    probabilities = runner.run(crops, data.landmarks[:4])[1]
    tensors = training.to_tensors(data.subset(np.arange(4)), 32)
    with torch.no_grad():
        expected = torch.softmax(result.model(tensors.crops, tensors.landmarks), dim=-1).numpy()
    assert np.abs(probabilities - expected).max() < 1e-5
    from attune.models.training.asd_emotion_card import write_model_card

    members = ['attune train asd-emotion --seed 0', 'attune train asd-emotion --train-seed 1']
    card = write_model_card(result, data, tmp_path / 'ensemble.onnx', 'attune train asd-emotion --member a.pt',
                            check, members=members).read_text()
    made = card[card.index('## How it was made'):card.index('## Split')]
    assert 'averages the logits of 2 runs' in made and '--train-seed 1' in made and made.count('```') == 4
    with pytest.raises(ValueError, match='do not fit'):
        combine(data, training.TrainConfig(**{**TINY.__dict__, 'width': 8}), states, log=None)


def test_the_bootstrap_resamples_people_and_pairs_the_models() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    people = np.repeat(np.arange(100), 3)
    right = y.copy()
    noisy = np.where(rng.random(300) < 0.3, (y + 1) % 3, y)
    out = person_bootstrap({'noisy': noisy, 'same': noisy.copy(), 'right': right}, y, people, 'noisy')
    assert out['same']['macro_f1'] == {'diff': 0.0, 'se': 0.0}  # paired: a copy never differs
    observed = classification(right, y)['accuracy'] - classification(noisy, y)['accuracy']
    assert out['right']['accuracy']['diff'] == pytest.approx(observed, abs=1e-4)
    assert 0.0 < out['right']['accuracy']['se'] < 0.1
    assert set(out['right']) == {'accuracy', 'macro_f1', 'macro_f1_big', 'f1.neutral', 'f1.happy', 'f1.sad'}
    assert out['right']['macro_f1_big'] == out['right']['macro_f1']  # every class has >= 10 faces here
    # people with many faces each: a bootstrap of people spreads wider than one of faces would
    clustered = np.where(np.repeat(rng.random(100) < 0.3, 3), (y + 1) % 3, y)
    faces = person_bootstrap({'a': clustered, 'b': right}, y, np.arange(300), 'a')['b']['accuracy']['se']
    persons = person_bootstrap({'a': clustered, 'b': right}, y, people, 'a')['b']['accuracy']['se']
    assert persons > faces


def test_the_big_class_macro_f1_leaves_out_classes_too_rare_to_score() -> None:
    y = np.array([0] * 40 + [1] * 40 + [2] * 2)
    people = np.arange(len(y))
    base = y.copy()
    base[-2:] = 0  # the two rare faces missed
    rare_right = y.copy()  # ... or found: 1/3 of 3-class macro-F1, nothing of the big classes'
    assert big_classes(y) == ['neutral', 'happy']
    out = person_bootstrap({'base': base, 'rare': rare_right}, y, people, 'base')['rare']
    assert out['macro_f1']['diff'] > 0.3
    assert abs(out['macro_f1_big']['diff']) < 0.03
