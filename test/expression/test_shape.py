"""Landmark shape features of the expression head: aligned, expressive, and the same on both code paths."""
from __future__ import annotations

import numpy as np

from attune.expression.action_units import ActionUnitEstimator
from attune.expression.shape import SHAPE_SIZE, landmark_shape, shape_of_aligned


def test_shape_ignores_position_size_and_roll_but_sees_a_smile(london) -> None:
    neutral, smiling = london[0], next(p for p in london if p.smiling and p.person == london[0].person)
    h, w = neutral.rgb.shape[:2]
    base = landmark_shape(neutral.landmarks, w, h)
    assert base.shape == (SHAPE_SIZE,) and base.dtype == np.float32
    # the same face moved, shrunk and rolled by 10 degrees in the image: the same shape
    xy = neutral.landmarks[:, :2] * (w, h)
    a = np.deg2rad(10.0)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    moved = neutral.landmarks.copy()
    moved[:, :2] = ((0.7 * (xy - xy.mean(0)) @ rot.T + xy.mean(0) + (40, -25)) / (w, h))
    moved[:, 2] *= 0.7
    np.testing.assert_allclose(landmark_shape(moved, w, h), base, atol=0.02)
    # a smile moves the lip corners (landmarks 61 and 291) by millimetres, more than the move above
    assert np.abs(landmark_shape(smiling.landmarks, w, h) - base).max() > 0.2


def test_shape_from_the_action_units_alignment_equals_a_fresh_fit(london) -> None:
    photo = london[3]
    h, w = photo.rgb.shape[:2]
    au = ActionUnitEstimator().estimate(photo.landmarks, w, h)
    np.testing.assert_allclose(shape_of_aligned(au.aligned), landmark_shape(photo.landmarks, w, h), atol=1e-6)
