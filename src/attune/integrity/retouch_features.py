"""Features of one face photo for the retouch check: texture, resampling, geometry and colour evidence.

Computed on a crop around the face scaled so that the face is at most FACE_WIDTH pixels wide (photos
of any resolution measure alike). Residuals: fine band = gray - blur(1 px), mid band = blur(1) -
blur(3); their local standard deviation (7 x 7 window) is compared between regions of the same photo,
so camera noise and JPEG quality largely cancel:

- skin vs the ring around the face (hair, background, neck): smoothing flattens only the skin;
- the low tail of skin texture: inpainted spots are small flat patches;
- around the eyes and along the jaw vs the forehead: warps resample (interpolate) those pixels only;
- geometry against the population: eye size, iris size and jaw width relative to face width;
- colour: skin saturation and tint, contrast, clipping and histogram combs (8-bit curves leave gaps).

A region that is empty or cut off by the image border gives NaN (the model reads its training mean).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity import face_regions as fr

FACE_WIDTH = 320.0

FEATURES: tuple[str, ...] = (
    'skin_fine', 'skin_mid', 'fine_ratio', 'mid_ratio', 'skin_fine_over_mid', 'skin_low_tail',
    'skin_flat_fraction', 'eye_resampling', 'jaw_resampling', 'eye_width', 'eye_area', 'iris_size',
    'jaw_width', 'lower_face_width', 'skin_saturation', 'skin_a', 'skin_b', 'contrast', 'clipped',
    'histogram_comb', 'red_green', 'blue_green',
)


def _local_std(band: npt.NDArray[Any]) -> npt.NDArray[Any]:
    import cv2

    variance: npt.NDArray[Any] = cv2.boxFilter(band * band, -1, (7, 7))
    out: npt.NDArray[Any] = np.sqrt(np.maximum(variance, 1e-6))
    return out


def _median_log(values: npt.NDArray[Any], mask: npt.NDArray[Any], minimum: int = 200) -> float:
    picked = values[mask]
    return float(np.log(np.median(picked))) if picked.size >= minimum else float('nan')


def _crop(rgb: npt.NDArray[Any], px: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The face and a margin of 35 % of its size around it, scaled to FACE_WIDTH; landmarks moved along."""
    import cv2

    lo, hi = px.min(axis=0), px.max(axis=0)
    margin = 0.35 * (hi - lo)
    x0, y0 = np.maximum(np.floor(lo - margin), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(hi + margin), [rgb.shape[1], rgb.shape[0]]).astype(int)
    crop, local = rgb[y0:y1, x0:x1], px - [x0, y0]
    scale = min(1.0, FACE_WIDTH / max(fr.face_width(local), 1.0))
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        local = local * scale
    return np.ascontiguousarray(crop), local


def _bands(gray: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    import cv2

    blur1 = cv2.GaussianBlur(gray, (0, 0), 1.0)
    blur3 = cv2.GaussianBlur(gray, (0, 0), 3.0)
    return _local_std(gray - blur1), _local_std(blur1 - blur3)


def _texture(gray: npt.NDArray[Any], px: npt.NDArray[Any], skin: npt.NDArray[Any]) -> dict[str, float]:
    fine, mid = _bands(gray)
    shape, width = gray.shape, fr.face_width(px)
    oval = fr.polygon_mask(shape, px[list(fr.FACE_OVAL)])
    ring = fr.grown(oval, 0.15 * width) & ~fr.grown(oval, 2.5)
    skin_fine, skin_mid = _median_log(fine, skin), _median_log(mid, skin)
    values = fine[skin]
    median = np.median(values) if values.size else np.nan
    forehead = skin & (np.arange(shape[0])[:, None] < px[list(fr.RIGHT_BROW + fr.LEFT_BROW), 1].min())
    eyes = np.zeros(shape, bool)
    for centre, eye_w in zip(fr.eye_centres(px), fr.eye_widths(px), strict=True):
        yy, xx = np.ogrid[:shape[0], :shape[1]]
        eyes |= (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 < (1.3 * eye_w) ** 2
    eyes &= ~fr.polygon_mask(shape, px[list(fr.RIGHT_EYE)]) & ~fr.polygon_mask(shape, px[list(fr.LEFT_EYE)])
    import cv2

    jaw = np.zeros(shape, np.uint8)
    cv2.polylines(jaw, [np.round(px[list(fr.LOWER_CONTOUR)]).astype(np.int32).reshape(-1, 1, 2)], False, (1,),
                  thickness=max(3, int(round(0.12 * width))))
    jaw = jaw.astype(bool) & ~(np.arange(shape[0])[:, None] > px[fr.CHIN, 1] - 0.05 * width)
    forehead_fine = _median_log(fine, forehead, 100)
    return {
        'skin_fine': skin_fine, 'skin_mid': skin_mid,
        'fine_ratio': skin_fine - _median_log(fine, ring), 'mid_ratio': skin_mid - _median_log(mid, ring),
        'skin_fine_over_mid': skin_fine - skin_mid,
        'skin_low_tail': float(np.log(np.percentile(values, 3) / median)) if values.size >= 200 else float('nan'),
        'skin_flat_fraction': float(np.mean(values < 0.4 * median)) if values.size >= 200 else float('nan'),
        'eye_resampling': _median_log(fine, eyes, 50) - forehead_fine,
        'jaw_resampling': _median_log(fine, jaw, 100) - forehead_fine,
    }


def _polygon_area(points: npt.NDArray[Any]) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _geometry(px: npt.NDArray[Any]) -> dict[str, float]:
    width = fr.face_width(px)
    eye_w = float(np.mean(fr.eye_widths(px)))
    area = (_polygon_area(px[list(fr.RIGHT_EYE)]) + _polygon_area(px[list(fr.LEFT_EYE)])) / 2
    iris = float('nan')
    if len(px) >= 478:  # refined landmarks: iris rings 469-472 and 474-477
        iris = float(np.mean([np.linalg.norm(px[469] - px[471]), np.linalg.norm(px[474] - px[476])])) / width
    return {'eye_width': eye_w / width, 'eye_area': float(np.sqrt(area)) / width, 'iris_size': iris,
            'jaw_width': float(np.linalg.norm(px[172] - px[397])) / width,
            'lower_face_width': float(np.linalg.norm(px[150] - px[379])) / width}


def _colour(rgb: npt.NDArray[Any], skin: npt.NDArray[Any]) -> dict[str, float]:
    import cv2

    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    combs = []
    for c in range(3):
        hist = np.bincount(rgb[:, :, c].ravel(), minlength=256).astype(np.float64)
        cdf = np.cumsum(hist) / hist.sum()
        lo, hi = int(np.searchsorted(cdf, 0.02)), int(np.searchsorted(cdf, 0.98))
        if hi - lo >= 8:
            h = hist[lo:hi + 1]
            combs.append(np.mean(np.abs(h[1:-1] - (h[:-2] + h[2:]) / 2)) / max(np.mean(h), 1e-9))
    means = rgb.reshape(-1, 3).mean(axis=0) + 1.0
    has_skin = skin.sum() >= 200
    return {
        'skin_saturation': float(hsv[:, :, 1][skin].mean() / 255) if has_skin else float('nan'),
        'skin_a': float(lab[:, :, 1][skin].mean() - 128) if has_skin else float('nan'),
        'skin_b': float(lab[:, :, 2][skin].mean() - 128) if has_skin else float('nan'),
        'contrast': float(lab[:, :, 0].std() / 255),
        'clipped': float(np.log10(np.mean((rgb <= 1) | (rgb >= 254)) + 1e-4)),
        'histogram_comb': float(np.log(np.mean(combs) + 1e-4)) if combs else float('nan'),
        'red_green': float(np.log(means[0] / means[1])), 'blue_green': float(np.log(means[2] / means[1])),
    }


def retouch_features(rgb: npt.NDArray[Any], px: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The FEATURES of an RGB uint8 photo whose face has FaceMesh landmarks `px` (pixels), float64."""
    import cv2

    crop, local = _crop(rgb, px)
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    skin = fr.skin_mask(crop.shape, local)
    values = _texture(gray, local, skin)
    values.update(_geometry(local))
    values.update(_colour(crop, skin))
    return np.array([values[name] for name in FEATURES], dtype=np.float64)
