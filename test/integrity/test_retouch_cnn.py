"""The retouch CNN: face patches on a fixed grid, residual filters, learning, ONNX agreeing with torch."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch')

from attune.integrity import face_regions as fr  # noqa: E402
from attune.integrity import retouch_cnn as cnn  # noqa: E402
from attune.integrity import retouch_patches as rp  # noqa: E402
from attune.integrity.retouch_cnn_check import RetouchCNNCheck  # noqa: E402
from attune.integrity.retouch_fusion import fused_cross_validated, per_fold_d_eer  # noqa: E402
from attune.integrity.retouch_metrics import d_eer  # noqa: E402
from test.integrity.retouch_fixtures import photo_with_landmarks  # noqa: E402


def test_patches_lie_inside_the_face_and_the_image_on_a_fixed_grid() -> None:
    rgb, px = photo_with_landmarks()
    corners = rp.grid_positions(rgb.shape, px)
    assert 10 <= len(corners) <= rp.MAX_PATCHES
    assert (corners >= 0).all()
    assert (corners[:, 0] + rp.PATCH <= rgb.shape[1]).all() and (corners[:, 1] + rp.PATCH <= rgb.shape[0]).all()
    oval = fr.polygon_mask(rgb.shape, px[list(fr.FACE_OVAL)])
    assert oval[corners[:, 1] + rp.PATCH // 2, corners[:, 0] + rp.PATCH // 2].all()
    assert np.array_equal(corners, rp.grid_positions(rgb.shape, px))
    patches = rp.face_patches(rgb, px)
    assert patches.shape == (len(corners), 3, rp.PATCH, rp.PATCH) and patches.dtype == np.uint8
    x, y = corners[0]
    assert np.array_equal(patches[0], rp.ycbcr(rgb)[:, y:y + rp.PATCH, x:x + rp.PATCH])


def test_keys_count_repeated_copies_of_a_photo() -> None:
    photo = np.array(['a.jpg', 'a.jpg', 'a.jpg', 'b.jpg'])
    operation = np.array(['original', 'original', 'skin_smoothing', 'original'])
    keys = rp.sample_keys(photo, operation, np.array([0, 0, 2, 0]))
    assert keys == [('a.jpg', 'original', 0, 0), ('a.jpg', 'original', 0, 1), ('a.jpg', 'skin_smoothing', 2, 0),
                    ('b.jpg', 'original', 0, 0)]


def test_the_residual_filters_ignore_brightness_and_see_noise() -> None:
    model = cnn.ResidualPatchNet().eval()
    rng = np.random.default_rng(0)
    patch = torch.from_numpy(rng.uniform(60, 180, (1, 3, rp.PATCH, rp.PATCH)).astype(np.float32))
    with torch.no_grad():
        assert torch.allclose(model(patch), model(patch + 25.0), atol=1e-4)
    residual = torch.nn.functional.conv2d(torch.full((1, 3, 16, 16), 120.0), model.high_pass)
    assert float(residual.abs().max()) < 1e-4


def _noise_copies(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Copies of 4 patches: grain (label 0) or the same grain blurred (label 1, 'smoothed skin')."""
    import cv2

    rng = np.random.default_rng(seed)
    copies, labels = [], []
    for i in range(n):
        label = i % 2
        planes = np.clip(128 + rng.normal(0, 6, (4, 3, rp.PATCH, rp.PATCH)), 0, 255).astype(np.float32)
        if label:
            planes = np.stack([[cv2.GaussianBlur(c, (0, 0), 1.2) for c in p] for p in planes])
        copies.append(np.round(planes).astype(np.uint8))
        labels.append(label)
    return copies, np.array(labels)


def test_the_cnn_learns_smoothing_and_onnx_agrees_with_torch(tmp_path) -> None:
    torch.set_num_threads(1)
    train, y = _noise_copies(48, seed=1)
    config = cnn.CNNTrainConfig(epochs=4, patches_per_copy=4, batch_copies=8, lr=1e-2)
    model = cnn.fit(train, y, config)
    test, y_test = _noise_copies(24, seed=2)
    logits = cnn.photo_logits(model, test)
    assert d_eer(logits[y_test == 0], logits[y_test == 1]) <= 0.1

    path = tmp_path / 'retouch_cnn.onnx'
    metadata = {'threshold': 0.0, 'patch': rp.PATCH, 'step': rp.STEP, 'max_patches': rp.MAX_PATCHES}
    agreement = cnn.export_onnx(model, path, metadata)
    assert agreement['max_abs_diff'] < 1e-4 and agreement['batch1_max_abs_diff'] < 1e-4
    check = RetouchCNNCheck(path)
    onnx_logits = np.array([check.patch_logits(copy).mean() for copy in test])
    assert np.abs(onnx_logits - logits).max() < 1e-4

    rgb, px = photo_with_landmarks()
    expected = cnn.photo_logits(model, [rp.face_patches(rgb, px)])[0]
    verdict = check.check_photo(rgb, px)
    assert verdict.score == pytest.approx(expected, abs=1e-4)
    assert verdict.likely_retouched == (expected >= 0.0)


def test_a_file_for_another_patch_grid_is_refused(tmp_path) -> None:
    path = tmp_path / 'other_grid.onnx'
    cnn.export_onnx(cnn.ResidualPatchNet(), path, {'threshold': 0.0, 'patch': rp.PATCH, 'step': rp.STEP + 1,
                                                   'max_patches': rp.MAX_PATCHES})
    with pytest.raises(ValueError, match='patch/step/max'):
        RetouchCNNCheck(path)


def test_fusion_is_scored_on_folds_it_was_not_fitted_on() -> None:
    rng = np.random.default_rng(3)
    label = np.tile([0, 1], 200)
    fold = np.repeat([1, 2, 3, 4], 100)
    strong, weak = label * 2.0 + rng.normal(size=400), label * 0.5 + rng.normal(size=400)
    fused, weights = fused_cross_validated(np.stack([strong, weak], 1), label, fold, (1, 2, 3, 4))
    assert np.isfinite(fused).all() and weights['coef'][0] > weights['coef'][1] > 0
    assert per_fold_d_eer(fused, label, fold, (1, 2, 3, 4))['mean'] <= per_fold_d_eer(
        weak, label, fold, (1, 2, 3, 4))['mean']
