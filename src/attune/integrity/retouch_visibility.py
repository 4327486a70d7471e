"""How visible is a retouching edit? Colour difference to the unedited photo, on the face.

CIE76 colour difference (Delta E in CIELAB): about 2.3 is a just-noticeable difference (JND) side by
side. An edit counts as visible when the face pixels it changes by more than a JND cover at least
VISIBLE_FRACTION of the face oval: 0.05 % is about one removed spot of a 800-pixel portrait. An edit
under that is invisible even next to the original, so it is no attack on enrolment and no detector that
sees only the edited photo can be asked to find it: the bench reports such copies but also the
numbers without them.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity import face_regions as fr

JND = 2.3
VISIBLE_FRACTION = 0.0005


def delta_e(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Per-pixel CIE76 colour difference of two RGB uint8 images of the same size."""
    import cv2

    lab = [cv2.cvtColor(im.astype(np.float32) / 255, cv2.COLOR_RGB2LAB) for im in (a, b)]
    difference: npt.NDArray[np.float32] = np.linalg.norm(lab[0] - lab[1], axis=2)
    return difference


def face_delta_e(original: npt.NDArray[Any], edited: npt.NDArray[Any], px: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Delta E of the pixels inside the FaceMesh face oval (landmarks `px` of the original, in pixels)."""
    inside: npt.NDArray[np.float32] = delta_e(original, edited)[fr.polygon_mask(original.shape, px[list(fr.FACE_OVAL)])]
    return inside


def changed_fraction(original: npt.NDArray[Any], edited: npt.NDArray[Any], px: npt.NDArray[Any]) -> float:
    """Fraction of the face's pixels changed by more than a JND."""
    de = face_delta_e(original, edited, px)
    return float(np.mean(de > JND)) if de.size else 0.0


def is_visible(changed: npt.NDArray[Any] | float) -> npt.NDArray[np.bool_]:
    visible: npt.NDArray[np.bool_] = np.asarray(changed) >= VISIBLE_FRACTION
    return visible
