"""Retouching traces measured against other regions of the same photo (the retouch check's second feature set).

Absolute texture levels vary more between cameras, people and JPEG qualities than a light edit moves
them; these features compare a region an edit touches with one it leaves alone, in the same photo:

- JPEG evidence on the full photo's 8 x 8 grid (the delivered file is re-saved last): the estimated
  quantization step of the low-frequency coefficients (how much texture the encoder itself removed),
  and how many high-frequency coefficients survive quantization on the skin against the ring around
  the face: smoothing empties the skin's blocks, in units of the encoder's own step;
- skin texture against the neck (skin the face tools leave alone: same person, same light);
- small flat discs on the skin (inpainted spots), counted per skin area at a 3 x 3 scale;
- direction of the finest residual: a face-slimming warp moves pixels sideways only, so its linear
  interpolation damps horizontal second differences along the jaw and not vertical ones; an eye
  warp damps the radial direction around the eye. Compared with the same ratio elsewhere in the
  photo, so isotropic processing (downscaling, JPEG, smoothing) cancels.

NaN where a region is empty or cut off (the model reads its training mean).
"""
from __future__ import annotations

import numpy as np

from attune.integrity import face_regions as fr

TRACE_FEATURES: tuple[str, ...] = (
    'jpeg_step', 'skin_dct_active', 'dct_active_ratio', 'neck_fine_ratio', 'neck_mid_ratio',
    'skin_flat_discs', 'skin_flat_fraction_3', 'jaw_anisotropy', 'eye_radial_damping', 'eye_ring_ratio',
)

_LOW_AC = ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0))


def _dct_matrix() -> np.ndarray:
    k = np.arange(8)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / 16) * np.sqrt(2 / 8)
    m[0] /= np.sqrt(2)
    return m


def _blocks_dct(gray: np.ndarray) -> np.ndarray:
    """(BY, BX, 8, 8) orthonormal DCT of the 8 x 8 blocks of `gray` (the JPEG grid from the top left)."""
    h, w = (s - s % 8 for s in gray.shape)
    blocks = gray[:h, :w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3) - 128.0
    d = _dct_matrix()
    return np.einsum('ij,abjk,lk->abil', d, blocks, d)


def _quant_step(coefficients: np.ndarray) -> float:
    """The largest step q (1-40) whose multiples the coefficients sit on (1 when none fits)."""
    c = coefficients[np.abs(coefficients) > 0.75]
    if c.size < 50:
        return float('nan')
    best = 1.0
    for q in range(2, 41):
        if np.mean(np.cos(2 * np.pi * c / q)) > 0.6:
            best = float(q)
    return best


def _jpeg(rgb: np.ndarray, px: np.ndarray) -> dict[str, float]:
    import cv2

    # Only the face and its surroundings, cut on the 8 x 8 grid of the full photo.
    lo, hi = px.min(axis=0), px.max(axis=0)
    margin = 0.35 * (hi - lo)
    x0, y0 = (np.maximum(np.floor(lo - margin), 0).astype(int) // 8) * 8
    x1, y1 = np.minimum(np.ceil(hi + margin), [rgb.shape[1], rgb.shape[0]]).astype(int)
    region, px = rgb[y0:y1, x0:x1], px - [x0, y0]
    y = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_RGB2YCrCb)[:, :, 0].astype(np.float64)
    coef = _blocks_dct(y)
    steps = [_quant_step(coef[:, :, u, v].ravel()) for u, v in _LOW_AC]
    step = float(np.nanmean(steps)) if np.isfinite(steps).any() else float('nan')
    # High-frequency coefficients (u + v >= 5) clearly above rounding noise: the ones quantization kept.
    uu, vv = np.meshgrid(np.arange(8), np.arange(8), indexing='ij')
    active = (np.abs(coef[:, :, (uu + vv) >= 5]) > 1.5).mean(axis=2)
    width = fr.face_width(px)
    skin = fr.skin_mask(region.shape, px)
    oval = fr.polygon_mask(region.shape, px[list(fr.FACE_OVAL)])
    ring = fr.grown(oval, 0.15 * width) & ~fr.grown(oval, 3)
    by, bx = active.shape
    # A block counts for a region when all its pixels are inside.
    skin_b = skin[:by * 8, :bx * 8].reshape(by, 8, bx, 8).all(axis=(1, 3))
    ring_b = ring[:by * 8, :bx * 8].reshape(by, 8, bx, 8).all(axis=(1, 3))
    skin_active = float(active[skin_b].mean()) if skin_b.sum() >= 10 else float('nan')
    ring_active = float(active[ring_b].mean()) if ring_b.sum() >= 10 else float('nan')
    return {'jpeg_step': float(np.log(step)) if np.isfinite(step) else float('nan'),
            'skin_dct_active': float(np.log(skin_active + 1e-3)),
            'dct_active_ratio': float(np.log(skin_active + 1e-3) - np.log(ring_active + 1e-3))}


def _median_log(values: np.ndarray, mask: np.ndarray, minimum: int) -> float:
    picked = values[mask]
    return float(np.log(np.median(picked))) if picked.size >= minimum else float('nan')


def _local_energy(band: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return np.maximum(cv2.boxFilter(band * band, -1, (size, size)), 1e-6)


def _neck(shape: tuple[int, ...], px: np.ndarray) -> np.ndarray:
    """Below the chin, between the jaw corners: the neck (or collar, when the photo shows one)."""
    width = fr.face_width(px)
    x0, x1 = sorted((px[172, 0], px[397, 0]))
    inset = 0.15 * (x1 - x0)
    y0 = px[fr.CHIN, 1] + 0.08 * width
    yy, xx = np.ogrid[:shape[0], :shape[1]]
    return (xx > x0 + inset) & (xx < x1 - inset) & (yy > y0) & (yy < y0 + 0.25 * width)


def _texture(gray: np.ndarray, px: np.ndarray, skin: np.ndarray) -> dict[str, float]:
    import cv2

    blur1 = cv2.GaussianBlur(gray, (0, 0), 1.0)
    fine = np.sqrt(_local_energy(gray - blur1, 7))
    mid = np.sqrt(_local_energy(blur1 - cv2.GaussianBlur(gray, (0, 0), 3.0), 7))
    neck = _neck(gray.shape, px)
    fine3 = np.sqrt(_local_energy(gray - blur1, 3))
    values = fine3[skin]
    out = {'neck_fine_ratio': _median_log(fine, skin, 200) - _median_log(fine, neck, 200),
           'neck_mid_ratio': _median_log(mid, skin, 200) - _median_log(mid, neck, 200),
           'skin_flat_discs': float('nan'), 'skin_flat_fraction_3': float('nan')}
    if values.size >= 200:
        flat = skin & (fine3 < 0.3 * np.median(values))
        out['skin_flat_fraction_3'] = float(np.log(flat.sum() / values.size + 1e-4))
        _, _, stats, _ = cv2.connectedComponentsWithStats(flat.astype(np.uint8), connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        # Discs of radius 2-7 px at FACE_WIDTH scale: inpainted spots, not the large flat areas of smooth skin.
        discs = int(np.sum((areas >= 12) & (areas <= 160)))
        out['skin_flat_discs'] = float(np.log((discs + 0.5) / values.size * 1e4))
    return out


def _direction(gray: np.ndarray, px: np.ndarray, skin: np.ndarray) -> dict[str, float]:
    """Horizontal against vertical second-difference energy (log), per region, relative to the photo."""
    exx = np.zeros_like(gray)
    eyy = np.zeros_like(gray)
    exx[:, 1:-1] = gray[:, 2:] - 2 * gray[:, 1:-1] + gray[:, :-2]
    eyy[1:-1, :] = gray[2:, :] - 2 * gray[1:-1, :] + gray[:-2, :]
    ex, ey = _local_energy(exx, 7), _local_energy(eyy, 7)
    log_ratio = np.log(ex) - np.log(ey)
    shape, width = gray.shape, fr.face_width(px)
    import cv2

    jaw = np.zeros(shape, np.uint8)
    cv2.polylines(jaw, [np.round(px[list(fr.LOWER_CONTOUR)]).astype(np.int32).reshape(-1, 1, 2)], False, 1,
                  thickness=max(3, int(round(0.2 * width))))
    jaw = jaw.astype(bool)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    eyes = np.zeros(shape, bool)
    radial = np.zeros(shape)
    rings = np.zeros(shape, bool)
    for centre, eye_w in zip(fr.eye_centres(px), fr.eye_widths(px), strict=True):
        dx, dy = xx - centre[0], yy - centre[1]
        r = np.hypot(dx, dy)
        disk = r < 1.3 * eye_w
        eyes |= disk
        rings |= (r > 1.7 * eye_w) & (r < 2.4 * eye_w)
        # Where the warp moves pixels sideways (|dx| > |dy|) it damps horizontal detail, else vertical.
        radial[disk] = np.where(np.abs(dx) > np.abs(dy), -log_ratio, log_ratio)[disk]
    eyes &= ~fr.polygon_mask(shape, px[list(fr.RIGHT_EYE)]) & ~fr.polygon_mask(shape, px[list(fr.LEFT_EYE)])
    rest = ~jaw & ~fr.grown(eyes, 3)
    reference = float(np.median(log_ratio[rest])) if rest.sum() >= 500 else float('nan')
    jaw_ratio = float(np.median(log_ratio[jaw])) if jaw.sum() >= 200 else float('nan')
    fine = np.sqrt(ex + ey)
    eye_skin, ring_skin = eyes & skin, rings & skin
    return {'jaw_anisotropy': reference - jaw_ratio,
            'eye_radial_damping': float(np.median(radial[eyes])) if eyes.sum() >= 100 else float('nan'),
            'eye_ring_ratio': _median_log(fine, eye_skin, 50) - _median_log(fine, ring_skin, 50)}


def trace_features(rgb: np.ndarray, px: np.ndarray, crop_gray: np.ndarray, crop_px: np.ndarray,
                   crop_skin: np.ndarray) -> dict[str, float]:
    """TRACE_FEATURES by name: JPEG evidence on the full photo (`rgb`, landmarks `px`), the rest on
    the face crop the other retouch features use (gray float32, its landmarks and skin mask)."""
    values = _jpeg(rgb, px)
    values.update(_texture(crop_gray, crop_px, crop_skin))
    values.update(_direction(crop_gray, crop_px, crop_skin))
    return values
