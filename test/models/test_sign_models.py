"""Shipped sign models: torch and ONNX agree on real inputs, metadata and model cards; a tiny
training run end to end (isolated through the CLI, continuous in-process); bag import of a user's
recordings."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from attune.resources import package_data
from attune.sign.compose import SequenceComposer
from attune.sign.datasets import load_builtin, load_recordings, split_blocks, windows
from attune.sign.model import SHIPPED, SignModel
from test.conftest import shared_data
from test.hands.test_normalize import hand

torch = pytest.importorskip('torch')  # the [train] pins

DATA_OF = {'asl_alphabet': 'asl_alphabet', 'kinivi_handshape': 'kinivi_handshape',
           'kinivi_trajectory': 'kinivi_trajectory', 'asl_fingerspelling_ctc': 'asl_alphabet',
           'kinivi_handshape_ctc': 'kinivi_handshape'}


@pytest.mark.parametrize('name', sorted(SHIPPED))
def test_shipped_model_torch_and_onnx_agree_on_held_out_data(name) -> None:
    from attune.models.training.sign_export import torch_model_from_onnx

    onnx_model = SignModel(name)
    model, info = torch_model_from_onnx(onnx_model.path)
    assert info == onnx_model.info and info.dataset == DATA_OF[name]
    split = split_blocks(load_builtin(info.dataset, shared_data('hands')))
    if info.task == 'isolated':
        x, _, _ = windows(split.test, info.window, 5)
        inputs = [x[:200]]
    else:
        rng = np.random.default_rng(0)
        inputs = [SequenceComposer(split.test).sample(rng).features[None] for _ in range(3)]
    for x in inputs:
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(onnx_model.logits(x), expected, atol=1e-4)


@pytest.mark.parametrize('name', sorted(SHIPPED))
def test_every_shipped_model_has_a_model_card(name) -> None:
    card = package_data('models', 'resources', SHIPPED[name]).with_suffix('.md').read_text()
    assert f'attune train sign {SignModel(name).info.task}' in card  # the exact command
    assert '## Data and licence' in card and '## Limits' in card and 'held_out' in card
    assert package_data('models', 'resources', SHIPPED[name]).stat().st_size < 2_000_000


@pytest.mark.slow
def test_training_cli_writes_a_working_model_and_card(tmp_path) -> None:
    out = tmp_path / 'sign_tiny.onnx'
    result = subprocess.run(
        [sys.executable, '-m', 'attune.cli.main', 'train', 'sign', 'isolated', '--data', 'kinivi_trajectory',
         '--data-dir', str(shared_data('hands')), '--out', str(out), '--epochs', '1', '--dim', '16', '--depth', '1',
         '--threads', '1'], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary['model'] == str(out) and summary['onnx_max_abs_diff'] < 1e-3
    assert 0.0 <= summary['held_out_window_accuracy'] <= 1.0
    model = SignModel(str(out))
    assert model.info.name == 'tiny' and model.info.groups == ('trajectory', 'presence')
    assert model.probabilities(np.zeros((16, 96), np.float32)).sum() == pytest.approx(1.0)
    card = out.with_suffix('.md').read_text()
    assert '--epochs 1' in card and 'kinivi' in card


def test_tiny_continuous_training_and_export(tmp_path) -> None:
    from attune.models.training.sign_export import check_onnx, export_onnx
    from attune.models.training.sign_training import SignTrainConfig, train_continuous

    dataset = load_builtin('kinivi_handshape', shared_data('hands'))
    config = SignTrainConfig(task='continuous', epochs=1, sequences_per_epoch=32, test_sequences=4, dim=16, depth=1,
                         bottleneck=8, max_len=256, threads=1)
    result = train_continuous(dataset, config, 'tiny_ctc', log=lambda _text: None)
    assert set(result.metrics) >= {'held_out_error_rate_greedy', 'held_out_error_rate_beam'}
    path = export_onnx(result, tmp_path / 'tiny_ctc.onnx')
    assert check_onnx(result, path) < 1e-3
    model = SignModel(str(path))
    assert model.info.task == 'continuous' and model.log_probs(np.zeros((40, 96), np.float32)).shape == (40, 5)
    with pytest.raises(ValueError, match='longer'):
        model.log_probs(np.zeros((300, 96), np.float32))


def test_cli_without_a_trainer_prints_help_and_bad_output_names_fail(tmp_path) -> None:
    run = lambda *args: subprocess.run([sys.executable, '-m', 'attune.cli.main', *args],  # noqa: E731
                                       capture_output=True, text=True, timeout=120)
    assert run('train').returncode == 2
    assert run('train', 'sign').returncode == 2
    bad = run('train', 'sign', 'isolated', '--data', 'asl_alphabet', '--data-dir', str(shared_data('hands')),
              '--out', str(tmp_path / 'model.txt'))
    assert bad.returncode == 1 and 'ERROR' in bad.stderr and '.onnx' in bad.stderr


def test_import_bag_cuts_recordings_of_a_gloss(tmp_path) -> None:
    from attune.bag import attune_typestore, messages_to_bag
    from attune.sign.recording import import_hands_bag
    from test.bag.synthetic import header
    from test.hands.test_normalize import hand

    types = attune_typestore().types

    def hands(i: int, seen: bool):
        msg = types['attune/msg/Hands'](header=header(i * 33_333_333), image_width=640, image_height=480, hands=[])
        if seen:
            roi = types['attune/msg/NormalizedRoi'](xmin=0.0, ymin=0.0, xmax=1.0, ymax=1.0)
            msg.hands.append(types['attune/msg/Hand'](
                handedness='right', score=0.9, roi=roi, landmarks=hand(i % 3).astype(np.float32).ravel(),
                world_landmarks=np.zeros(0, np.float32)))
        return msg

    pattern = [True] * 12 + [False] * 10 + [True] * 3 + [False] * 10 + [True] * 15
    messages_to_bag([('/attune/hands', 'attune/msg/Hands', i * 33_333_333, hands(i, seen))
                     for i, seen in enumerate(pattern)], tmp_path / 'bag')
    written = import_hands_bag(tmp_path / 'bag', tmp_path / 'vocab', gloss='wave')
    assert [p.name for p in written] == ['bag_000.npz', 'bag_001.npz']  # the 3-frame run is skipped
    dataset = load_recordings(tmp_path / 'vocab')
    assert dataset.glosses == ('wave',) and [len(s) for s in dataset.segments] == [12, 15]


def test_joint_angles_see_a_straight_finger_as_straight_however_foreshortened() -> None:
    from attune.models.layers.sign_encoder import JOINT_ANGLES, SignEncoder, joint_angles

    points = hand()[:, :2] - hand()[0, :2]
    short = points.copy()
    for tip in (6, 7, 8):  # the index finger pointing toward the camera: a fifth of its length
        short[tip] = points[5] + 0.2 * (points[tip] - points[5])
    curled = points.copy()
    curled[7:9] = points[6] - 0.5 * (points[7:9] - points[6])  # folded back at the middle joint
    frames = np.zeros((1, 4, 96), np.float32)
    for i, p in enumerate((points, short, curled)):
        frames[0, i, :42] = p.ravel()
    angles = joint_angles(torch.from_numpy(frames))[0].numpy()
    index = slice(6, 9)  # cosines of the index chain's turns (after the thumb's 3 cosines and 3 sines)
    assert angles.shape == (4, JOINT_ANGLES) and np.abs(angles[3]).max() == 0.0  # no hand: zeros
    np.testing.assert_allclose(angles[1, index], angles[0, index], atol=1e-5)
    assert angles[2, index].min() < 0.0 < angles[0, index].min()
    encoder = SignEncoder(96, dim=16, depth=1, joint_angles=1)
    assert encoder(torch.from_numpy(frames)).shape == (1, 4, 16)
