"""MediaPipe landmark lists (protobuf messages) -> numpy, fast.

Why our own: the solutions API hands back a NormalizedLandmarkList, and reading its 478 landmarks
attribute by attribute in Python costs ~0.3 ms per face, every frame. Serialising the message is done
in C (upb) and, for landmarks that carry only x, y and z (FaceMesh's), gives fixed 17-byte records that
numpy reads directly (~0.03 ms). Anything else (visibility or presence set, another layout, a list
over 255 bytes per landmark) takes the attribute path, so the result never depends on the path.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# One `repeated NormalizedLandmark landmark = 1` entry holding only its three fixed32 floats:
# 0x0A (field 1, length-delimited), length 15, then 0x0D x, 0x15 y, 0x1D z (fields 1-3, fixed32).
_RECORD = np.dtype([('key', 'u1'), ('size', 'u1'), ('kx', 'u1'), ('x', '<f4'), ('ky', 'u1'), ('y', '<f4'),
                    ('kz', 'u1'), ('z', '<f4')])
_EXPECTED = {'key': 0x0A, 'size': 15, 'kx': 0x0D, 'ky': 0x15, 'kz': 0x1D}


def landmark_array(landmark_list: Any) -> npt.NDArray[np.float32]:
    """(N, 3) float32 x, y, z of a MediaPipe (Normalized)LandmarkList."""
    data = landmark_list.SerializeToString()
    count = len(landmark_list.landmark)
    if count and len(data) == count * _RECORD.itemsize:
        records = np.frombuffer(data, dtype=_RECORD)
        if all(bool(np.all(records[name] == value)) for name, value in _EXPECTED.items()):
            out: npt.NDArray[np.float32] = np.stack([records['x'], records['y'], records['z']], axis=1)
            return out
    return np.array([(p.x, p.y, p.z) for p in landmark_list.landmark], dtype=np.float32).reshape(-1, 3)
