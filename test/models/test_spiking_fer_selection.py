"""Model selection for the spiking FER model: validation people are training people only, never test
people; the loss weights, target sharpening and onset targets do what the options say; and the saccades a model was
trained with are recorded in it and checked against the emulator's."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch')

from attune.emotions import EMOTIONS  # noqa: E402
from attune.events.dataset import photo_target  # noqa: E402
from attune.events.face_window import WindowOptions  # noqa: E402
from attune.events.fer import SpikingFerModel, saccade_mismatch  # noqa: E402
from attune.events.window_set import WindowSet, WindowSpec  # noqa: E402
from attune.models.training.spiking_fer_training import (  # noqa: E402
    SpikingFerTrainConfig,
    build,
    export_onnx,
    sample_weights,
    sharpen,
    validation_mask,
)


def _windows(people: dict[str, int], held: set[str], kinds=('still', 'onset')) -> WindowSet:
    """Two windows (one per kind) per person of each source; `held` people are test people."""
    subject, source, kind = [], [], []
    for src, n in people.items():
        for i in range(n):
            for k in kinds:
                subject.append(f'{src}{i}')
                source.append(src)
                kind.append(k)
    n = len(subject)
    y = np.zeros((n, len(EMOTIONS)), np.float32)
    y[np.arange(n), np.arange(n) % 2] = 1.0
    return WindowSet(np.zeros((n, 2, 2, 4, 4), np.uint8), y, y.copy(), np.full(n, -1, np.int16), np.array(subject),
                     np.array(source), np.array(kind), np.isin(subject, sorted(held)))


def test_validation_people_are_a_seeded_share_of_each_sources_training_people() -> None:
    data = _windows({'london': 20, 'mux': 40, 'video': 2}, held={'london0', 'london1', 'mux0', 'video0'})
    mask = validation_mask(data, 0.2, seed=0)
    val_people = set(data.subject[mask].tolist())
    assert not val_people & set(data.subject[data.test].tolist())
    assert not val_people & set(data.subject[~mask & ~data.test].tolist())  # whole people, never split
    per_source = {s: len({p for p in val_people if p.startswith(s)}) for s in ('london', 'mux', 'video')}
    assert per_source == {'london': 4, 'mux': 8, 'video': 0}  # ceil(0.2 n); a lone training video stays
    assert np.array_equal(mask, validation_mask(data, 0.2, seed=0))
    assert not np.array_equal(mask, validation_mask(data, 0.2, seed=1))
    assert not validation_mask(data, 0.0, seed=0).any()


def test_change_windows_weigh_more_and_targets_sharpen() -> None:
    data = _windows({'london': 4}, held=set())
    plain = sample_weights(data, SpikingFerTrainConfig(class_balance=0.0))
    weighted = sample_weights(data, SpikingFerTrainConfig(class_balance=0.0, change_weight=3.0))
    onset = torch.from_numpy(data.kind == 'onset')
    assert torch.allclose(weighted[onset], 3 * plain[onset]) and torch.allclose(weighted[~onset], plain[~onset])
    soft = np.array([[0.6, 0.3, 0.1, 0, 0, 0, 0]], np.float32)
    sharp = sharpen(soft, 0.5)
    assert sharp.sum() == pytest.approx(1.0) and sharp[0, 0] > 0.6 and sharp.argmax() == 0
    assert sharpen(soft, 1.0) is soft


def test_onset_truth_targets_follow_what_the_windows_are_scored_as() -> None:
    neutral, happy = EMOTIONS.index('neutral'), EMOTIONS.index('happy')
    for alpha, blend_smile, truth_smile in ((0.0, 0.0, 0.0), (0.25, 0.25, 0.5), (0.5, 0.5, 1.0), (0.8, 0.8, 1.0)):
        blend, truth = photo_target(alpha), photo_target(alpha, truth=True)
        assert blend.sum() == pytest.approx(1.0) and truth.sum() == pytest.approx(1.0)
        assert blend[happy] == pytest.approx(blend_smile) and blend[neutral] == pytest.approx(1 - blend_smile)
        assert truth[happy] == pytest.approx(truth_smile) and truth[neutral] == pytest.approx(1 - truth_smile)


def test_exported_model_records_its_window_and_a_saccade_mismatch_is_explained(tmp_path) -> None:
    spec = WindowSpec(bins=2, size=16, margin=0.05)
    path = tmp_path / 'tiny.onnx'
    export_onnx(build('cs3d', SpikingFerTrainConfig(channels=(2, 2, 4))), path, spec, 'cs3d_snn')
    model = SpikingFerModel(path)
    expected = WindowOptions(size=16).saccade_amplitude_px
    assert model.saccade_amplitude_px == expected and model.saccade_scale == (0.6, 1.4)
    assert model.size == 16 and model.window_margin == 0.05
    assert saccade_mismatch(model, expected) is None
    assert saccade_mismatch(model, expected * 1.3) is None  # inside the range drawn in training
    problem = saccade_mismatch(model, 1.0)
    assert problem and f'{expected:g}' in problem and 'saccade_amplitude_px' in problem


def test_shipped_model_says_which_saccades_it_expects() -> None:
    model = SpikingFerModel()
    assert model.saccade_amplitude_px == WindowOptions().saccade_amplitude_px
    assert model.window_margin is None  # exported before the margin was recorded: the node's 0.15
    assert saccade_mismatch(model, WindowOptions().saccade_amplitude_px) is None
    assert saccade_mismatch(model, 1.0) is not None


def test_a_run_is_seeded_from_its_initial_weights_on(tmp_path, monkeypatch) -> None:
    """Two runs with the same data and config give the same weights, whatever torch's global RNG holds
    (its seed differs per process): the initial weights are drawn from the config's seed too."""
    from attune.models.training import spiking_fer_card, spiking_fer_training

    monkeypatch.setattr(spiking_fer_training, 'export_onnx', lambda *a, **k: None)
    monkeypatch.setattr(spiking_fer_card, 'model_card', lambda *a, **k: '')
    data = _windows({'london': 6}, held={'london0'})
    rng = np.random.default_rng(0)
    data = WindowSet((rng.random((len(data.x), 2, 4, 16, 16)) < 0.1).astype(np.uint8), data.y, data.teacher,
                     data.truth, data.subject, data.source, data.kind, data.test)
    config = SpikingFerTrainConfig(epochs=1, batch_size=4, channels=(4, 4, 8))
    states = []
    for i in range(2):
        torch.manual_seed(100 + i)  # another process's global RNG
        spiking_fer_training.run(data, tmp_path / f'out{i}', 'm', WindowSpec(bins=4, size=16), config, twin=False,
                                 checkpoint_dir=tmp_path / f'cache{i}', log=lambda _: None)
        states.append(torch.load(tmp_path / f'cache{i}' / 'm_cs3d.pt', weights_only=True))
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
