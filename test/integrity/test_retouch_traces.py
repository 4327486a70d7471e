"""Same-photo retouching traces (attune.integrity.retouch_traces) on a real photo: each moves the way its
edit predicts, and processing that treats the whole photo alike (JPEG quality) shows up where it should."""
from __future__ import annotations

import numpy as np
import pytest

from attune.integrity.retouch_features import FEATURES, retouch_features
from attune.integrity.retouch_ops import retouch
from test.integrity.retouch_fixtures import photo_with_landmarks

pytest.importorskip('cv2')


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    import cv2

    ok, buf = cv2.imencode('.jpg', np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])


def _traces(rgb: np.ndarray, px: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURES, retouch_features(rgb, px), strict=True))


@pytest.fixture(scope='module')
def original() -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    rgb, px = photo_with_landmarks()
    return rgb, px, _traces(_jpeg(rgb, 90), px)


def test_jpeg_step_follows_the_encoder_quality(original) -> None:
    rgb, px, at_90 = original
    at_70 = _traces(_jpeg(rgb, 70), px)
    unencoded = _traces(rgb, px)  # resized on reading: off any 8 x 8 grid
    assert at_70['jpeg_step'] > at_90['jpeg_step'] + 0.5
    assert unencoded['jpeg_step'] < at_90['jpeg_step']


def test_smoothing_empties_the_skin_against_ring_and_neck(original) -> None:
    rgb, px, before = original
    after = _traces(_jpeg(retouch(rgb, px, 'skin_smoothing', 3, np.random.default_rng(1)), 90), px)
    assert after['dct_active_ratio'] < before['dct_active_ratio'] - 1.0
    assert after['neck_fine_ratio'] < before['neck_fine_ratio'] - 0.3
    assert after['jpeg_step'] == before['jpeg_step']  # the same encoder setting


def test_warps_move_only_their_own_region(original) -> None:
    rgb, px, before = original
    eyes = _traces(_jpeg(retouch(rgb, px, 'eye_enlargement', 3, np.random.default_rng(1)), 90), px)
    jaw = _traces(_jpeg(retouch(rgb, px, 'face_slimming', 3, np.random.default_rng(1)), 90), px)
    assert abs(eyes['eye_radial_damping'] - before['eye_radial_damping']) > 0.1
    assert abs(jaw['jaw_anisotropy'] - before['jaw_anisotropy']) > 0.1
    # The skin away from the warped regions keeps its JPEG blocks.
    assert abs(jaw['dct_active_ratio'] - before['dct_active_ratio']) < 0.2
