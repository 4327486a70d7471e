"""attune.face.landmark_list reads MediaPipe landmark lists exactly as attribute access does."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from mediapipe.framework.formats import landmark_pb2

from attune.face.landmark_list import landmark_array

coordinate = st.floats(width=32, allow_nan=True, allow_infinity=True)
point = st.tuples(coordinate, coordinate, coordinate)


def by_attribute(landmark_list) -> np.ndarray:
    return np.array([(p.x, p.y, p.z) for p in landmark_list.landmark], dtype=np.float32).reshape(-1, 3)


def landmark_list(points, visibility: float | None = None, list_type=landmark_pb2.NormalizedLandmarkList):
    out = list_type()
    for x, y, z in points:
        landmark = out.landmark.add(x=x, y=y, z=z)
        if visibility is not None:
            landmark.visibility = visibility
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(point, max_size=40), st.one_of(st.none(), st.floats(0, 1, width=32)))
def test_same_values_as_attribute_access(points, visibility) -> None:
    for list_type in (landmark_pb2.NormalizedLandmarkList, landmark_pb2.LandmarkList):
        landmarks = landmark_list(points, visibility, list_type)
        fast = landmark_array(landmarks)
        assert fast.dtype == np.float32 and fast.shape == (len(points), 3)
        np.testing.assert_array_equal(fast, by_attribute(landmarks))


def test_a_facemesh_sized_list_and_unset_fields() -> None:
    points = np.random.default_rng(0).random((478, 3)).astype(np.float32)
    np.testing.assert_array_equal(landmark_array(landmark_list(points.tolist())), points)
    partial = landmark_pb2.NormalizedLandmarkList()
    partial.landmark.add(x=0.5, y=0.25)  # z unset: another layout, read by attribute as 0
    partial.landmark.add(x=0.1, y=0.2, z=0.3)
    np.testing.assert_array_equal(landmark_array(partial), np.array([[0.5, 0.25, 0], [0.1, 0.2, 0.3]], np.float32))
    assert landmark_array(landmark_pb2.NormalizedLandmarkList()).shape == (0, 3)
