"""Per-frame content evidence for the stream guard.

A live camera delivers raw frames with fresh sensor noise each frame; a replayed or injected
stream delivers decoded video (noise removed by the codec, static blocks copied frame to frame),
re-encoded JPEG frames, or the same picture again. What one frame yields:
- a 64-bit difference hash (dHash) of a 9x8 thumbnail, for repeats and loops;
- a high-pass residual of a central gray crop (a small, fixed-size sample), for the noise level
  and, against the previous frame, the temporal noise floor (fresh noise vs copied pixels);
- JPEG 8x8 blockiness: gradient energy on the 8-pixel grid against off the grid.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

CROP = 128          # side of the central crop the noise is measured on (pixels, full resolution)
NOISE_BLOCK = 16    # block side for the noise floor (low percentile of block-wise std)


@dataclass(frozen=True)
class FrameContent:
    """What one frame says about its source (see module docstring)."""

    dhash: int
    residual: npt.NDArray[Any]        # float32 CROP x CROP high-pass residual of the central crop
    crop: npt.NDArray[Any]            # float32 CROP x CROP gray crop (for the temporal difference)
    residual_std: float         # robust std of the residual (noise plus fine texture), gray levels
    blockiness: float           # >1: edges line up with an 8x8 grid (JPEG / block codec)


def gray_of(rgb: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)


def dhash(gray: npt.NDArray[Any]) -> int:
    """64-bit difference hash: the sign of horizontal steps in a 9x8 area-averaged thumbnail."""
    thumb = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA)
    bits = (thumb[:, 1:] > thumb[:, :-1]).ravel()
    return int(np.packbits(bits).view('>u8')[0])


def hamming(a: int, b: int) -> int:
    return int(bin(a ^ b).count('1'))


def high_pass(gray: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The image minus its 3x3 box blur: mostly sensor noise plus fine texture."""
    return gray - cv2.blur(gray, (3, 3), borderType=cv2.BORDER_REFLECT)


def robust_std(x: npt.NDArray[Any]) -> float:
    """Std estimated from the median absolute deviation (edges do not inflate it)."""
    flat = x.ravel()
    return float(1.4826 * np.median(np.abs(flat - np.median(flat))))


def central_crop(gray: npt.NDArray[Any], side: int = CROP) -> npt.NDArray[Any]:
    h, w = gray.shape
    side = min(side, h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return gray[top:top + side, left:left + side]


def blockiness(gray: npt.NDArray[Any]) -> float:
    """Mean absolute horizontal and vertical step on the 8-pixel grid over the mean step elsewhere
    (1.0 for raw frames; above 1 for block-coded ones). Measured at every grid phase, the phase
    with the largest ratio wins, so a crop that moved the grid is still found."""
    dx = np.abs(np.diff(gray, axis=1)).mean(axis=0)
    dy = np.abs(np.diff(gray, axis=0)).mean(axis=1)
    best = 0.0
    for phase in range(8):
        on = np.concatenate([dx[phase::8], dy[phase::8]]).mean()
        off_x = np.delete(dx, np.s_[phase::8])
        off_y = np.delete(dy, np.s_[phase::8])
        off = np.concatenate([off_x, off_y]).mean()
        best = max(best, float(on / max(off, 1e-6)))
    return best


def frame_content(rgb: npt.NDArray[Any]) -> FrameContent:
    """The content evidence of one rgb8 frame."""
    gray = gray_of(rgb)
    crop = central_crop(gray).copy()
    residual = high_pass(crop)
    return FrameContent(dhash=dhash(gray), residual=residual, crop=crop, residual_std=robust_std(residual),
                        blockiness=blockiness(crop))


def noise_floor(prev: FrameContent, cur: FrameContent) -> float:
    """The 10th percentile of block-wise std of the high-passed frame difference: near 0 where
    pixels were copied (codec skip blocks, repeated frames), about sqrt(2)*sigma for fresh noise."""
    if prev.crop.shape != cur.crop.shape:
        return float('nan')
    diff = high_pass(cur.crop - prev.crop)
    n = diff.shape[0] // NOISE_BLOCK
    blocks = diff[:n * NOISE_BLOCK, :n * NOISE_BLOCK].reshape(n, NOISE_BLOCK, n, NOISE_BLOCK)
    stds = blocks.std(axis=(1, 3)).ravel()
    return float(np.percentile(stds, 10))


def residual_correlation(prev: FrameContent, cur: FrameContent) -> float:
    """Correlation of consecutive residuals: fresh noise keeps it low; copied pixels push it to 1."""
    if prev.residual.shape != cur.residual.shape:
        return float('nan')
    a, b = prev.residual.ravel(), cur.residual.ravel()
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 1e-9 else 1.0
