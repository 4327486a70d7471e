"""The shipped spiking FER model: ONNX and torch agree on real event windows, the metadata matches
the training window, and a tiny `attune train spiking-fer` run writes ONNX + card (smoke)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch')

from attune.emotions import EMOTIONS  # noqa: E402
from attune.events.aedat4 import read_aedat4  # noqa: E402
from attune.events.emulated_windows import still_window  # noqa: E402
from attune.events.face_labels import detect_boxes  # noqa: E402
from attune.events.fer import SpikingFerModel, default_model_path  # noqa: E402
from attune.events.sensor_roi import recording_windows  # noqa: E402
from attune.models.layers.cs3d import CS3D  # noqa: E402
from test.conftest import shared_data  # noqa: E402


@pytest.fixture(scope='module')
def real_windows() -> np.ndarray:
    """Face windows of the real DVXplorer recording and of emulated saccades over a real photo."""
    import cv2

    model = SpikingFerModel()
    rec = read_aedat4(shared_data('events', 'tonic_dvxplorer_face', 'sample.aedat4'))
    windows = recording_windows(rec.events, model.window_ns, 100_000_000, model.bins, model.size)
    photo = shared_data('faces', 'london_ccby', 'smiling', '001_08.jpg')
    (box,) = detect_boxes([photo], None, log=lambda _: None).values()
    spec = model.window_spec()
    windows.append(still_window(cv2.imread(str(photo), cv2.IMREAD_GRAYSCALE), box, spec, np.random.default_rng(0)))
    return np.stack(windows).astype(np.float32)


def test_shipped_onnx_and_torch_agree_on_real_windows(real_windows) -> None:
    model = SpikingFerModel()
    assert model.labels == EMOTIONS and model.source == 'cs3d_snn'
    net = CS3D(len(EMOTIONS), channels=model.channels, readout=model.readout)
    net.load_state_dict(torch.load(default_model_path().with_suffix('.pt'), weights_only=True))
    net.eval()
    with torch.no_grad():
        logits, ops = net.counted(torch.from_numpy(real_windows))
    probs_onnx, ops_onnx = model.classify(real_windows)
    assert len(real_windows) >= 4 and real_windows.sum() > 1000
    np.testing.assert_allclose(probs_onnx, torch.softmax(logits, 1).numpy(), atol=1e-4)
    np.testing.assert_allclose(ops_onnx, ops.numpy(), rtol=1e-4)
    assert np.all(ops_onnx[:, 0] > 0)


def test_shipped_model_is_small_and_its_card_states_the_numbers() -> None:
    path = default_model_path()
    assert path.stat().st_size < 5_000_000
    card = path.with_suffix('.md').read_text()
    for needed in ('attune train spiking-fer', 'CC BY 4.0', 'Held-out', 'energy', 'pJ', 'Limits'):
        assert needed in card, needed


@pytest.mark.slow
def test_training_cli_smoke_run_writes_onnx_and_card(tmp_path) -> None:
    from attune.cli.main import main as attune_main

    out = tmp_path / 'model'
    code = attune_main(['train', 'spiking-fer', '--images', str(shared_data('faces', 'london_ccby')),
                        '--max-photos', '4', '--epochs', '1', '--still-windows', '1', '--sequences', '1',
                        '--bins', '4', '--size', '16', '--channels', '4,4,8', '--test-fraction', '0.1',
                        '--margin', '0.05', '--no-twin', '--out', str(out), '--cache', str(tmp_path / 'cache'),
                        '--seed', '3'])
    assert code == 0
    model = SpikingFerModel(out / 'cs3d_fer.onnx')
    assert (model.bins, model.size, model.window_margin) == (4, 16, 0.05)
    probs, ops = model.classify(np.zeros((1, 2, 4, 16, 16), np.float32))
    assert probs.shape == (1, 7) and ops.shape == (1, 2)
    card = (out / 'cs3d_fer.md').read_text()
    assert 'attune train spiking-fer' in card
    assert '`attune.events.face_window.WindowOptions`: 16 px, margin **0.05**' in card
