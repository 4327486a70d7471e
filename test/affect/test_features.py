"""Model inputs from real faces: aligned landmarks (pose- and size-free), crops, mirroring, bad landmarks."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from attune.affect import features
from attune.affect.features import FaceInputError, complete_landmarks, face_crop, landmark_features, mirror_features
from test.conftest import shared_data


@pytest.fixture(scope='module')
def face() -> tuple[np.ndarray, np.ndarray]:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    bgr = cv2.imread(str(shared_data('faces', 'london_ccby', 'neutral', '001_03.jpg')))
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True)) as analyzer:
        (found,) = analyzer.process(rgb)
    return rgb, found.landmarks


def test_iris_points_sit_in_their_own_eye_in_the_order_the_mirror_assumes(face) -> None:
    _, lm = face
    for center, ring, eye in ((468, range(469, 473), features.RIGHT_EYE), (473, range(474, 478), features.LEFT_EYE)):
        contour = lm[list(eye), :2]
        assert contour[:, 0].min() < lm[center, 0] < contour[:, 0].max()
        offsets = lm[list(ring), :2] - lm[center, :2]
        # image right, up, image left, down
        assert offsets[0, 0] > 0 and offsets[1, 1] < 0 and offsets[2, 0] < 0 and offsets[3, 1] > 0


def test_mirror_is_an_involution_that_maps_the_face_onto_its_mirror_image(face) -> None:
    rgb, lm = face
    height, width = rgb.shape[:2]
    assert np.array_equal(features.MIRROR[features.MIRROR], np.arange(478))
    flipped = lm.copy()
    flipped[:, 0] = 1.0 - flipped[:, 0]
    flipped[:, 2] = lm[:, 2]
    mirrored_image = landmark_features(flipped[features.MIRROR], width, height)
    # the mirror of a real face is close to, not equal to, the face's features mirrored (faces are not
    # symmetric), and far closer than without the permutation
    mirrored = mirror_features(landmark_features(lm, width, height))
    assert np.abs(mirrored_image - mirrored).max() < 1e-3
    assert np.array_equal(mirror_features(mirrored), landmark_features(lm, width, height))


def test_features_do_not_depend_on_where_and_how_large_the_face_is(face) -> None:
    rgb, lm = face
    height, width = rgb.shape[:2]
    reference = landmark_features(lm, width, height)
    assert reference.shape == (478, 3) and reference.dtype == np.float32
    assert np.abs(reference).max() < 1.5  # canonical decimetres
    angle = math.radians(20)
    pixels = lm[:, :2] * (width, height)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = (pixels - pixels.mean(axis=0)) @ rotation.T * 0.5 + (300, 420)
    other = lm.copy()
    other[:, :2] = moved / (width, height)
    other[:, 2] = lm[:, 2] * 0.5
    assert np.abs(landmark_features(other, width, height) - reference).max() < 1e-3


def test_468_landmarks_get_iris_points_from_the_eye_contours(face) -> None:
    rgb, lm = face
    completed = complete_landmarks(lm[:468])
    assert completed.shape == (478, 3)
    assert np.allclose(completed[468], lm[list(features.RIGHT_EYE)].mean(axis=0), atol=1e-6)
    assert np.linalg.norm(completed[473, :2] - lm[473, :2]) < 0.01  # near the real iris centre
    assert landmark_features(lm[:468], rgb.shape[1], rgb.shape[0]).shape == (478, 3)


def test_crop_is_grey_and_of_the_requested_size(face) -> None:
    rgb, lm = face
    crop = face_crop(rgb, lm, 48)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8 and crop.std() > 10


@pytest.mark.parametrize(('landmarks', 'message'), [
    (None, 'no landmarks'),
    (np.zeros((10, 3)), '468 or 478'),
    (np.full((478, 3), np.nan), 'NaN'),
    (np.full((478, 3), 0.5), 'no area'),
])
def test_bad_landmarks_raise_face_input_error(landmarks, message) -> None:
    with pytest.raises(FaceInputError, match=message):
        landmark_features(landmarks, 640, 480)
    if landmarks is not None and landmarks.shape[0] == 478:
        with pytest.raises(FaceInputError):
            face_crop(np.zeros((480, 640, 3), np.uint8), landmarks, 64)
