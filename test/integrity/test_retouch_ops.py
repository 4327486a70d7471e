"""Retouching operations on a real photo: each edits what it claims, more with strength, and only there."""
from __future__ import annotations

import numpy as np
import pytest

from attune.integrity import face_regions as fr
from attune.integrity.retouch_features import FEATURES, retouch_features
from attune.integrity.retouch_ops import OPERATIONS, STRENGTHS, retouch
from test.integrity.retouch_fixtures import landmarks_of, photo_with_landmarks


def _change(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=2)
    return float(d[mask].mean() if mask is not None else d.mean())


@pytest.mark.parametrize('operation', list(OPERATIONS))
def test_each_operation_is_seeded_and_grows_with_strength(operation) -> None:
    # Blemish removal applies at every strength only to a photo with enough genuine blemishes.
    rgb, px = photo_with_landmarks('019_03.jpg' if operation == 'blemish_removal' else '001_03.jpg')
    edited = {s: retouch(rgb, px, operation, s, np.random.default_rng(3)) for s in STRENGTHS}
    again = retouch(rgb, px, operation, 2, np.random.default_rng(3))
    assert all(e.shape == rgb.shape and e.dtype == np.uint8 for e in edited.values())
    assert np.array_equal(again, edited[2])
    changes = [_change(rgb, edited[s]) for s in STRENGTHS]
    assert 0 < changes[0] < changes[2], changes


def test_skin_edits_stay_on_the_face_and_warps_move_the_landmarks() -> None:
    rgb, px = photo_with_landmarks()
    oval = fr.grown(fr.polygon_mask(rgb.shape, px[list(fr.FACE_OVAL)]), 0.1 * fr.face_width(px))
    edited = retouch(rgb, px, 'skin_smoothing', 3, np.random.default_rng(0))  # blemishes: test_retouch_blemish
    assert _change(rgb, edited, ~oval) == 0.0
    assert _change(rgb, edited, oval) > 0.3

    eyes = retouch(rgb, px, 'eye_enlargement', 3, np.random.default_rng(0))
    assert np.mean(fr.eye_widths(landmarks_of(eyes))) > 1.08 * np.mean(fr.eye_widths(px))
    slim = landmarks_of(retouch(rgb, px, 'face_slimming', 3, np.random.default_rng(0)))
    assert np.linalg.norm(slim[172] - slim[397]) < 0.97 * np.linalg.norm(px[172] - px[397])


def test_features_see_smoothing_and_grading() -> None:
    rgb, px = photo_with_landmarks()
    before = dict(zip(FEATURES, retouch_features(rgb, px), strict=True))
    smooth = dict(zip(FEATURES, retouch_features(retouch(rgb, px, 'skin_smoothing', 3, np.random.default_rng(0)), px),
                      strict=True))
    assert smooth['fine_ratio'] < before['fine_ratio'] - 0.2
    graded = retouch(rgb, px, 'colour_grading', 3, np.random.default_rng(1))
    after = dict(zip(FEATURES, retouch_features(graded, px), strict=True))
    assert abs(after['skin_saturation'] - before['skin_saturation']) > 0.02


def test_bad_requests_are_refused() -> None:
    rgb, px = photo_with_landmarks()
    with pytest.raises(ValueError, match='unknown retouching operation'):
        retouch(rgb, px, 'liquify', 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match='strength'):
        retouch(rgb, px, 'skin_smoothing', 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match='uint8 RGB'):
        retouch(rgb[:, :, 0], px, 'skin_smoothing', 1, np.random.default_rng(0))
