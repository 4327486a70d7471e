"""Reading a photo file as RGB, shrunk to a longest side (enrolment, datasets, benches; no rclpy)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ImageError


def read_photo(path: Path, max_side: int) -> npt.NDArray[Any]:
    """The image file as contiguous RGB uint8, its longer side shrunk to at most `max_side` (never grown).

    Raises:
        ImageError: the file cannot be read as an image.
    """
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageError(f'cannot read image {path}')
    scale = max_side / max(bgr.shape[:2])
    if scale < 1:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(bgr[:, :, ::-1])
