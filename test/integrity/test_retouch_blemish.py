"""Blemish removal removes genuine blemishes only, and a photo without any gives no retouched copy;
the visibility measure behind the bench's `visible` block."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.integrity import face_regions as fr
from attune.integrity import retouch_data as rd
from attune.integrity.retouch_ops import (
    SPOTS_NEEDED,
    SPOTS_REMOVED,
    NothingToRetouchError,
    blemish_candidates,
    retouch,
    spot_radius,
)
from attune.integrity.retouch_visibility import JND, VISIBLE_FRACTION, changed_fraction, is_visible
from test.integrity.retouch_fixtures import photo_with_landmarks

SPOTTY = '019_03.jpg'  # a London photo with more than SPOTS_NEEDED[2] genuine blemishes


def _clear_skin(rgb: np.ndarray, px: np.ndarray) -> np.ndarray:
    """The photo with its skin replaced by a heavy blur of itself: no spot left anywhere on it."""
    import cv2

    skin = fr.grown(fr.skin_mask(rgb.shape, px), 4)
    out = rgb.copy()
    out[skin] = cv2.GaussianBlur(rgb, (0, 0), 6)[skin]
    return out


def _cheek(px: np.ndarray) -> tuple[int, int]:
    """A point on the right cheek, halfway between the nose tip (4) and the face contour (234)."""
    x, y = (px[4] + px[234]) / 2
    return int(x), int(y)


def test_spots_are_removed_where_they_were_found_and_more_with_strength() -> None:
    rgb, px = photo_with_landmarks(SPOTTY)
    spots = blemish_candidates(rgb, px)
    assert len(spots) >= SPOTS_NEEDED[2]
    near = np.zeros(rgb.shape[:2], bool)
    yy, xx = np.ogrid[:rgb.shape[0], :rgb.shape[1]]
    for x, y, _ in spots:
        near |= (xx - x) ** 2 + (yy - y) ** 2 <= (3 * spot_radius(px)) ** 2
    changed = []
    for strength in (1, 2, 3):
        edited = retouch(rgb, px, 'blemish_removal', strength, np.random.default_rng(0))
        moved = np.abs(edited.astype(int) - rgb.astype(int)).max(axis=2) > 0
        assert moved.any() and not (moved & ~near).any(), strength
        changed.append(moved.sum())
        left = blemish_candidates(edited, px)
        assert len(left) <= len(spots) - min(SPOTS_REMOVED[strength - 1], len(spots)) + 1, strength
    assert changed[0] < changed[1] < changed[2]


def test_a_photo_without_blemishes_gives_no_blemish_copy() -> None:
    rgb, px = photo_with_landmarks()
    clear = _clear_skin(rgb, px)
    assert len(blemish_candidates(clear, px)) == 0
    with pytest.raises(NothingToRetouchError):
        retouch(clear, px, 'blemish_removal', 1, np.random.default_rng(0))
    photo = rd.Photo('001', Path('001_03.jpg'))
    made = list(rd.variants(photo, clear, px, seed=0, originals=1, operations=['blemish_removal', 'colour_grading'],
                            strengths=[1, 2]))
    assert [(op, s) for op, s, _, _ in made] == [('original', 0), ('colour_grading', 1), ('colour_grading', 2)]


def test_a_mole_is_a_candidate_and_a_crease_or_a_crowd_of_pores_is_not() -> None:
    import cv2

    rgb, px = photo_with_landmarks()
    clear = _clear_skin(rgb, px)
    x, y = _cheek(px)
    r = spot_radius(px)
    mole = clear.copy()
    cv2.circle(mole, (x, y), r, (90, 60, 50), -1)
    found = blemish_candidates(mole, px)
    assert len(found) == 1 and np.hypot(found[0, 0] - x, found[0, 1] - y) <= r
    crease = clear.copy()
    cv2.line(crease, (x - 8 * r, y - 2 * r), (x + 8 * r, y + 2 * r), (90, 60, 50), 2)
    assert len(blemish_candidates(crease, px)) == 0
    pores = clear.copy()
    for dx in range(-8, 9, 4):
        for dy in range(-8, 9, 4):
            cv2.circle(pores, (x + dx * r // 2, y + dy * r // 2), 1, (90, 60, 50), -1)
    assert len(blemish_candidates(pores, px)) == 0


def test_visibility_counts_face_pixels_changed_by_more_than_a_jnd() -> None:
    rgb, px = photo_with_landmarks()
    assert changed_fraction(rgb, rgb, px) == 0.0
    brighter = np.clip(rgb.astype(int) + 12, 0, 255).astype(np.uint8)
    assert changed_fraction(rgb, brighter, px) > 0.9
    assert pytest.approx(2.3) == JND
    assert list(is_visible(np.array([0.0, VISIBLE_FRACTION / 2, VISIBLE_FRACTION, 0.3]))) == [False, False, True, True]
