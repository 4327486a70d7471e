"""How visible is a retouching edit? Colour difference to the unedited photo, on the face.

CIE76 colour difference (Delta E in CIELAB): about 2.3 is a just-noticeable difference (JND) side by
side. An edit counts as visible when the face pixels it changes by more than a JND cover at least
VISIBLE_FRACTION of the face oval: 0.05 % is about one removed spot of a 800-pixel portrait. An edit
under that is invisible even next to the original, so it is no attack on enrolment and no detector that
sees only the edited photo can be asked to find it: the bench reports such copies but also the
numbers without them.
"""
from __future__ import annotations

import numpy as np

from attune.integrity import face_regions as fr

JND = 2.3
VISIBLE_FRACTION = 0.0005


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel CIE76 colour difference of two RGB uint8 images of the same size."""
    import cv2

    lab = [cv2.cvtColor(im.astype(np.float32) / 255, cv2.COLOR_RGB2LAB) for im in (a, b)]
    return np.linalg.norm(lab[0] - lab[1], axis=2)


def face_delta_e(original: np.ndarray, edited: np.ndarray, px: np.ndarray) -> np.ndarray:
    """Delta E of the pixels inside the FaceMesh face oval (landmarks `px` of the original, in pixels)."""
    return delta_e(original, edited)[fr.polygon_mask(original.shape, px[list(fr.FACE_OVAL)])]


def changed_fraction(original: np.ndarray, edited: np.ndarray, px: np.ndarray) -> float:
    """Fraction of the face's pixels changed by more than a JND."""
    de = face_delta_e(original, edited, px)
    return float(np.mean(de > JND)) if de.size else 0.0


def is_visible(changed: np.ndarray | float) -> np.ndarray:
    return np.asarray(changed) >= VISIBLE_FRACTION
