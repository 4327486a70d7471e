"""Array encodings several attune messages share: flat x, y, z point fields (Face, Hand) and numeric
array fields read without copying (EventPacket)."""
from __future__ import annotations

import array
from typing import Any

import numpy as np
import numpy.typing as npt


def flat_points(points: npt.NDArray[Any] | None) -> array.array[float]:
    """(N, 3) points -> the flat float32 array of a message field (x0, y0, z0, x1, ...)."""
    if points is None:
        return array.array('f')
    return array.array('f', np.ascontiguousarray(points, dtype=np.float32).tobytes())


def points_from_flat(values: Any) -> npt.NDArray[np.float32] | None:
    """A flat x, y, z message field -> (N, 3) float32, or None when empty.

    Raises:
        ValueError: the length is not a multiple of 3.
    """
    points = np.asarray(values, dtype=np.float32)
    if points.size == 0:
        return None
    if points.size % 3:
        raise ValueError(f'a flat landmark array must hold x, y, z triplets; got {points.size} values')
    return points.reshape(-1, 3)


def as_numpy(values: Any, dtype: type) -> npt.NDArray[Any]:
    """A message array field (array.array, numpy array, list) as numpy, without copying when possible."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, array.array):
        return np.frombuffer(values, dtype=values.typecode) if len(values) else np.zeros(0, dtype)
    return np.asarray(values, dtype=dtype)


def typed_array(values: npt.NDArray[Any], typecode: str, dtype: type) -> array.array[Any]:
    """A numpy array as the array.array rclpy keeps a numeric sequence field in."""
    return array.array(typecode, np.ascontiguousarray(values, dtype).tobytes())
