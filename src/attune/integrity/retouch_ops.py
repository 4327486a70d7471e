"""Realistic face retouching at several strengths (training and evaluation data for the retouch check).

Each operation takes an RGB uint8 photo, its FaceMesh landmarks in pixels, a strength (1 light,
2 medium, 3 strong) and a numpy Generator, and returns the retouched photo (same size). The styles
are drawn at random within each strength, so one strength covers a family of tools:

- skin_smoothing: an edge-preserving filter on the skin only (bilateral filter, or frequency
  separation that damps the fine band), blended in with a feathered skin mask;
- blemish_removal: genuine blemishes (compact, isolated dark spots on the skin: moles, spots, pimples)
  are inpainted (cv2.inpaint, Telea or Navier-Stokes); a photo with too few of them raises
  NothingToRetouchError (no sample: there is nothing for the tool to remove);
- eye_enlargement: a radial magnification around each eye;
- face_slimming: the jaw and cheek contour pulled towards the face's midline, smoothly;
- colour_grading: curves (S-curve or lifted blacks), white balance and saturation through 8-bit LUTs.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity import face_regions as fr

STRENGTHS = (1, 2, 3)


def _blend(base: npt.NDArray[Any], edited: npt.NDArray[Any], weight: npt.NDArray[Any]) -> npt.NDArray[Any]:
    w = weight[..., None]
    out: npt.NDArray[np.uint8] = np.clip(base.astype(np.float32) * (1 - w) + edited.astype(np.float32) * w + 0.5,
                                         0, 255).astype(np.uint8)
    return out


def skin_smoothing(rgb: npt.NDArray[Any], px: npt.NDArray[Any], strength: int,
                   rng: np.random.Generator) -> npt.NDArray[Any]:
    import cv2

    width = fr.face_width(px)
    mask = fr.soft(fr.skin_mask(rgb.shape, px, shrink=0.02), 0.02 * width)
    opacity = (0.45, 0.7, 0.95)[strength - 1] * rng.uniform(0.85, 1.0)
    if rng.random() < 0.5:
        d = int(round(width * (0.02, 0.03, 0.045)[strength - 1])) | 1
        sigma_colour = (18, 30, 50)[strength - 1] * rng.uniform(0.8, 1.25)
        edited = cv2.bilateralFilter(rgb, min(d, 25), sigma_colour, d / 2)
    else:  # frequency separation: keep the low band, damp the detail band
        sigma = width * rng.uniform(0.006, 0.012)
        low = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), sigma)
        keep = (0.5, 0.3, 0.1)[strength - 1]
        detail = rgb.astype(np.float32) - low
        edited = np.clip(low + keep * cv2.GaussianBlur(detail, (0, 0), 0.6 * strength), 0, 255)
    return _blend(rgb, edited, mask * opacity)


#: Least black-hat contrast (gray levels) of a spot worth removing: about twice a just-noticeable lightness step.
SPOT_CONTRAST = 12.0
#: Spots removed at strength 1-3 (the most contrasted first), and how many a photo needs for that strength.
SPOTS_REMOVED = (2, 5, 12)
SPOTS_NEEDED = (1, 3, 6)


class NothingToRetouchError(ValueError):
    """The operation does not apply to this photo (blemish removal on skin without blemishes)."""


def spot_radius(px: npt.NDArray[Any]) -> int:
    return max(2, int(round(fr.face_width(px) * 0.012)))


def blemish_candidates(rgb: npt.NDArray[Any], px: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(K, 3) x, y, contrast of genuine blemishes (moles, spots, pimples), most contrasted first.

    A candidate is a black-hat peak of at least SPOT_CONTRAST gray levels on the skin away from eyes,
    brows, nostrils and lips (lashes and lid shadows are not blemishes); compact (its half-contrast blob
    no larger than a disc of 1.5 spot radii and no more than twice as long as wide: creases and hairs are
    long); and isolated (at most two weaker dark peaks within 5 radii: stubble and pores come in crowds).
    """
    import cv2

    r = spot_radius(px)
    allowed = fr.skin_mask(rgb.shape, px) & ~fr.feature_mask(rgb.shape, px, grow=0.07)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * r + 1, 4 * r + 1))
    response = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel).astype(np.float32)
    response[~allowed] = 0
    local_max = response == cv2.dilate(response, kernel)
    weak_y, weak_x = np.nonzero(local_max & (response > 6))
    found = []
    for y, x in zip(*np.nonzero(local_max & (response >= SPOT_CONTRAST)), strict=True):
        peak = response[y, x]
        if np.sum((weak_x - x) ** 2 + (weak_y - y) ** 2 <= (5 * r) ** 2) - 1 > 2:
            continue
        y0, x0 = max(0, y - 3 * r), max(0, x - 3 * r)
        _, labels = cv2.connectedComponents((response[y0:y + 3 * r + 1, x0:x + 3 * r + 1] >= peak / 2).astype(np.uint8))
        blob = labels == labels[y - y0, x - x0]
        if blob.sum() > np.pi * (1.5 * r) ** 2:
            continue
        m = cv2.moments(blob.astype(np.uint8), True)
        spread = np.linalg.eigvalsh(np.array([[m['mu20'], m['mu11']], [m['mu11'], m['mu02']]]) / max(m['m00'], 1))
        if spread[0] <= 0 or spread[1] > 4 * spread[0]:
            continue
        found.append((float(x), float(y), float(peak)))
    found.sort(key=lambda spot: -spot[2])
    return np.array(found, np.float64).reshape(-1, 3)


def blemish_removal(rgb: npt.NDArray[Any], px: npt.NDArray[Any], strength: int,
                    rng: np.random.Generator) -> npt.NDArray[Any]:
    """Inpaint the SPOTS_REMOVED[strength] most contrasted genuine blemishes; NothingToRetouchError when
    the photo has fewer than SPOTS_NEEDED[strength] (the tool would change nothing a retoucher would)."""
    import cv2

    spots = blemish_candidates(rgb, px)
    if len(spots) < SPOTS_NEEDED[strength - 1]:
        needed = SPOTS_NEEDED[strength - 1]
        raise NothingToRetouchError(f'{len(spots)} blemishes; strength {strength} needs {needed}')
    radius = spot_radius(px)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    for x, y, _ in spots[:SPOTS_REMOVED[strength - 1]]:
        cv2.circle(mask, (int(x), int(y)), int(round(radius * rng.uniform(1.3, 1.8))), (255,), -1)
    method = cv2.INPAINT_TELEA if rng.random() < 0.5 else cv2.INPAINT_NS
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    return np.ascontiguousarray(cv2.inpaint(bgr, mask, radius + 1, method)[:, :, ::-1])


def _remap(rgb: npt.NDArray[Any], map_x: npt.NDArray[Any], map_y: npt.NDArray[Any]) -> npt.NDArray[Any]:
    import cv2

    return cv2.remap(rgb, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)


def eye_enlargement(rgb: npt.NDArray[Any], px: npt.NDArray[Any], strength: int,
                    rng: np.random.Generator) -> npt.NDArray[Any]:
    h, w = rgb.shape[:2]
    out = rgb.copy()
    amount = (0.10, 0.18, 0.28)[strength - 1] * rng.uniform(0.85, 1.15)
    for centre, eye_w in zip(fr.eye_centres(px), fr.eye_widths(px), strict=True):
        radius = eye_w * rng.uniform(1.1, 1.5)
        x0, y0 = (max(0, int(c - radius - 2)) for c in centre)
        x1, y1 = min(w, int(centre[0] + radius + 3)), min(h, int(centre[1] + radius + 3))
        if x1 <= x0 or y1 <= y0:
            continue
        xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        dx, dy = xs - centre[0], ys - centre[1]
        r2 = (dx * dx + dy * dy) / (radius * radius)
        # Sample closer to the centre inside the radius: a bulge that fades to nothing at its edge.
        factor = np.where(r2 < 1, 1 - amount * (1 - np.minimum(r2, 1)) ** 2, 1.0)
        out[y0:y1, x0:x1] = _remap(out, centre[0] + dx * factor, centre[1] + dy * factor)
    return out


def face_slimming(rgb: npt.NDArray[Any], px: npt.NDArray[Any], strength: int,
                  rng: np.random.Generator) -> npt.NDArray[Any]:
    h, w = rgb.shape[:2]
    width = fr.face_width(px)
    amount = (0.025, 0.045, 0.07)[strength - 1] * rng.uniform(0.85, 1.15) * width
    midline = (px[fr.MID_BROW, 0] + px[fr.CHIN, 0]) / 2
    sigma = width * rng.uniform(0.12, 0.18)
    # Work on a coarse grid (the field is smooth) and upsample: a full-resolution RBF sum is slow.
    step = 4
    gx, gy = np.meshgrid(np.arange(0, w, step, dtype=np.float32), np.arange(0, h, step, dtype=np.float32))
    shift = np.zeros_like(gx)
    weight = np.zeros_like(gx)
    top = px[fr.LOWER_CONTOUR[0], 1]
    bottom = px[fr.CHIN, 1]
    for index in fr.LOWER_CONTOUR:
        x, y = px[index]
        side = np.sign(x - midline)
        along = np.clip((y - top) / max(bottom - top, 1.0), 0, 1)
        push = amount * np.sin(np.pi * min(0.15 + along, 1.0)) * side  # most at the jaw, none at the chin
        g = np.exp(-((gx - x) ** 2 + (gy - y) ** 2) / (2 * sigma * sigma))
        shift += g * push
        weight += g
    field = shift / np.maximum(weight, 1e-6) * np.minimum(weight, 1.0)
    import cv2

    field = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    # Output pixel x shows the source at x + shift: the contour appears moved inwards by `shift`.
    return _remap(rgb, xs + field, ys)


def _curve(strength: int, rng: np.random.Generator) -> npt.NDArray[Any]:
    x = np.arange(256, dtype=np.float64) / 255
    s = (0.35, 0.7, 1.2)[strength - 1] * rng.uniform(0.8, 1.2)
    # An S-curve (more contrast) or a faded look (lifted blacks, softened highlights).
    y = x - s * 0.08 * np.sin(2 * np.pi * x) if rng.random() < 0.6 else s * 0.08 + x * (1 - s * 0.14)
    return np.clip(y * 255 + 0.5, 0, 255)


def colour_grading(rgb: npt.NDArray[Any], px: npt.NDArray[Any], strength: int,
                   rng: np.random.Generator) -> npt.NDArray[Any]:
    import cv2

    curve = _curve(strength, rng)
    warmth = (0.03, 0.06, 0.10)[strength - 1] * rng.choice([-1.0, 1.0]) * rng.uniform(0.7, 1.3)
    gains = np.array([1 + warmth, 1.0, 1 - warmth])
    luts = [np.clip(curve * g, 0, 255).astype(np.uint8) for g in gains]
    graded = np.stack([cv2.LUT(np.ascontiguousarray(rgb[:, :, c]), luts[c]) for c in range(3)], axis=2)
    saturation = 1 + (0.08, 0.18, 0.32)[strength - 1] * rng.uniform(0.7, 1.3) * (1 if rng.random() < 0.8 else -1)
    hsv = cv2.cvtColor(graded, cv2.COLOR_RGB2HSV)
    hsv[:, :, 1] = cv2.LUT(hsv[:, :, 1], np.clip(np.arange(256) * saturation, 0, 255).astype(np.uint8))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


Operation = Callable[[npt.NDArray[Any], npt.NDArray[Any], int, np.random.Generator], npt.NDArray[Any]]

#: The operations by name, in report order.
OPERATIONS: dict[str, Operation] = {
    'skin_smoothing': skin_smoothing,
    'blemish_removal': blemish_removal,
    'eye_enlargement': eye_enlargement,
    'face_slimming': face_slimming,
    'colour_grading': colour_grading,
}


def retouch(rgb: npt.NDArray[Any], px: npt.NDArray[Any], operation: str, strength: int,
            rng: np.random.Generator) -> npt.NDArray[Any]:
    """`operation` (a key of OPERATIONS) at `strength` (1-3) applied to an RGB uint8 photo whose face has
    FaceMesh landmarks `px` (pixels)."""
    if operation not in OPERATIONS:
        raise ValueError(f'unknown retouching operation {operation!r}; known: {", ".join(OPERATIONS)}')
    if strength not in STRENGTHS:
        raise ValueError(f'strength must be one of {STRENGTHS}, got {strength}')
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}')
    return OPERATIONS[operation](np.ascontiguousarray(rgb), px, strength, rng)
