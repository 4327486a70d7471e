"""Onset synthesis: the piecewise-affine warp is exact on affine motion and the identity on no motion,
a morph starts at the neutral photo and ends at the smiling one, and onset curves hold, ramp and hold."""
from __future__ import annotations

import numpy as np
import pytest

from attune.events.errors import EventError
from attune.events.face_labels import FaceRecord
from attune.events.onsets import OnsetCurve, morph_pair, piecewise_affine_maps
from attune.geometry import BoundingBox


def _grid_points(n: int = 6, size: int = 40) -> np.ndarray:
    v = np.linspace(2, size - 3, n)
    xs, ys = np.meshgrid(v, v)
    return np.stack([xs.ravel(), ys.ravel()], 1)


def test_warp_is_the_identity_when_nothing_moves() -> None:
    points = np.concatenate([_grid_points(), [[0, 0], [39, 0], [39, 39], [0, 39]]])
    ((mx, my),) = piecewise_affine_maps(points, [points], (40, 40))
    ys, xs = np.mgrid[0:40, 0:40]
    np.testing.assert_allclose(mx, xs, atol=1e-4)
    np.testing.assert_allclose(my, ys, atol=1e-4)


def test_warp_reproduces_an_affine_motion_exactly_inside_the_points() -> None:
    shape = _grid_points()
    affine = np.array([[1.05, 0.1], [-0.05, 0.95]])
    source = shape @ affine.T + (1.5, -2.0)
    ((mx, my),) = piecewise_affine_maps(shape, [source], (40, 40))
    for x, y in [(10, 10), (20, 25), (30, 12)]:
        expected = affine @ (x, y) + (1.5, -2.0)
        assert (mx[y, x], my[y, x]) == pytest.approx(tuple(expected), abs=1e-3)


def test_onset_curve_holds_ramps_smoothly_and_holds() -> None:
    alphas = OnsetCurve(hold_s=1.0, ramp_s=0.4, after_s=0.5).alphas(30.0)
    assert len(alphas) == 58 and alphas[:31].max() == 0.0 and alphas[-15:].min() == 1.0
    assert np.all(np.diff(alphas) >= 0) and alphas[36] == pytest.approx(0.5, abs=0.05)
    offset = OnsetCurve(1.0, 0.4, 0.5, start=0.8, stop=0.0)
    assert offset.kind == 'offset' and offset.alphas(30.0)[0] == pytest.approx(0.8)


def _face(width: int, shift: float = 0.0) -> tuple[np.ndarray, FaceRecord]:
    rng = np.random.default_rng(0)
    marks = np.concatenate([_grid_points(8, 100) / 200 + 0.25, np.zeros((64, 1))], 1)
    marks = np.concatenate([marks, np.tile(marks[:1], (478 - 64, 1))]).astype(np.float32)
    marks[:64, 1] += shift
    image = rng.integers(0, 255, (width, width, 3)).astype(np.uint8)
    return image, FaceRecord(BoundingBox(0.25, 0.25, 0.75, 0.75), marks)


def test_morph_starts_at_the_neutral_photo_and_ends_at_the_smiling_one() -> None:
    neutral_rgb, neutral = _face(200)
    smile_rgb, smile = _face(200, shift=0.01)
    smile_rgb = 255 - neutral_rgb
    pair = morph_pair('p', neutral_rgb, smile_rgb, neutral, smile, pixels=80, steps=5)
    assert pair.gray.shape[0] == 5 and pair.rgb.shape[1:] == (pair.gray.shape[1], pair.gray.shape[2], 3)
    middle = pair.gray.shape[1] // 2
    first, last = pair.gray[0].astype(float), pair.gray[-1].astype(float)
    assert abs(first[middle, middle] + last[middle, middle] - 255) < 40  # inverted photo: they sum to ~255
    moved = pair.landmarks[-1][:64, 1] - pair.landmarks[0][:64, 1]
    assert moved.mean() > 0 and np.allclose(moved, moved.mean(), atol=1e-5)  # the smile's shift, uniformly
    assert pair.frame(0.0) == pytest.approx(first) and pair.frame(1.0) == pytest.approx(last)
    with pytest.raises(EventError, match='landmarks'):
        morph_pair('q', neutral_rgb, smile_rgb, neutral, FaceRecord(smile.box, None))
