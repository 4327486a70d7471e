"""The ASD emotion model's inputs from one face: a landmark-aligned grey crop and aligned landmarks (no rclpy).

Crop: the expression CNN's crop (`attune.expression.cnn.prepare_crop`): a fixed square of MediaPipe's
canonical face (brows to chin, ear to ear), cut upright from the image by a similarity fit of the
rigid landmarks, grey, `size` x `size`. Grey because most training images (muxspace) are grey while
cameras are colour: one channel removes that gap between training and use.

Landmarks (the GCN's node features): the 478 FaceMesh points aligned to the canonical face model by
a 3D similarity fit on the rigid landmarks (`attune.expression.action_units.aligned_landmarks`), so
head yaw, pitch, roll, position and face size are removed and what is left is the face's shape and
deformation; in canonical decimetres (x toward the face's left, y up, z out of the face; values
roughly in [-1, 1]). Faces with 468 points (FaceMesh without iris refinement) get the 10 iris points
filled in as the centroid of each eye's contour.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.affect.mesh_graph import (
    LEFT_IRIS_CENTER,
    LEFT_IRIS_RING,
    MESH_POINTS,
    REFINED_POINTS,
    RIGHT_IRIS_CENTER,
    RIGHT_IRIS_RING,
)

#: Nodes of the model's graph (FaceMesh refined).
NUM_NODES = REFINED_POINTS
#: Eye contours (FACEMESH_RIGHT_EYE / FACEMESH_LEFT_EYE points), used to place missing iris points.
RIGHT_EYE = (7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246)
LEFT_EYE = (249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466)
#: Canonical centimetres -> feature units.
FEATURE_SCALE = 0.1
#: Largest RMS residual (canonical cm) of the rigid fit accepted: beyond it the points are no face.
MAX_FIT_RMS_CM = 3.0


class FaceInputError(ValueError):
    """A face from which no model input can be made (missing or NaN landmarks, crop outside the image)."""


def complete_landmarks(landmarks: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(478, 3) float64 landmarks: refined ones as they are, 468 ones with iris points added.

    Raises:
        FaceInputError: not (468 or 478, >=2) finite points.
    """
    if landmarks is None:
        raise FaceInputError('the face has no landmarks (the face node ran without FaceMesh?)')
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] not in (MESH_POINTS, REFINED_POINTS) or points.shape[1] < 2:
        raise FaceInputError(f'expected (468 or 478, 3) landmarks, got {points.shape}')
    if points.shape[1] == 2:
        points = np.concatenate([points, np.zeros((len(points), 1))], axis=1)
    points = points[:, :3]
    if not np.all(np.isfinite(points)):
        raise FaceInputError('the landmarks contain NaN or infinite values')
    if len(points) == MESH_POINTS:
        iris = np.empty((10, 3))
        for center, ring, eye in ((RIGHT_IRIS_CENTER, RIGHT_IRIS_RING, RIGHT_EYE),
                                  (LEFT_IRIS_CENTER, LEFT_IRIS_RING, LEFT_EYE)):
            iris[[center - MESH_POINTS, *(r - MESH_POINTS for r in ring)]] = points[list(eye)].mean(axis=0)
        points = np.concatenate([points, iris])
    return points


def landmark_features(landmarks: npt.NDArray[Any], width: int, height: int) -> npt.NDArray[Any]:
    """The GCN input of one face: (478, 3) float32 aligned landmarks (see the module docstring).

    Raises:
        FaceInputError: missing, NaN or degenerate landmarks.
    """
    from attune.expression.action_units import aligned_landmarks

    points = complete_landmarks(landmarks)
    if width <= 0 or height <= 0:
        raise FaceInputError(f'image size must be positive, got {width}x{height}')
    with np.errstate(all='ignore'):
        aligned, fit = aligned_landmarks(points, width, height)
    if not np.isfinite(fit.scale) or fit.scale <= 0 or not np.all(np.isfinite(aligned)):
        raise FaceInputError('the landmarks span no area (zero-size face)')
    if fit.rms_cm > MAX_FIT_RMS_CM:
        raise FaceInputError(f'the landmarks do not fit a face (rigid-fit RMS {fit.rms_cm:.1f} cm)')
    return (aligned * FEATURE_SCALE).astype(np.float32)


def face_crop(image: npt.NDArray[Any], landmarks: npt.NDArray[Any], size: int) -> npt.NDArray[Any]:
    """The CNN input of one face: a (size, size) uint8 grey crop from an RGB or grey uint8 image.

    Raises:
        FaceInputError: bad landmarks, an empty image, or a crop outside the image.
    """
    from attune.expression.cnn import prepare_crop

    points = complete_landmarks(landmarks)
    try:
        return prepare_crop(image, points, size)
    except ValueError as exc:
        raise FaceInputError(str(exc)) from None


def crop_geometry() -> dict[str, object]:
    """How `face_crop` frames and scales a face (stored in a model's metadata at training; a model made on
    another framing is refused by the runtime): the square of the canonical face it cuts, in centimetres,
    and the pixel scaling of `normalize_crops`."""
    from attune.expression.cnn import CROP_CENTER_CM, CROP_SIDE_CM

    return {'center_cm': [float(v) for v in CROP_CENTER_CM], 'side_cm': float(CROP_SIDE_CM), 'grey': True,
            'scale': 'x / 127.5 - 1'}


def normalize_crops(crops: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(B, S, S) uint8 crops -> (B, 1, S, S) float32 in [-1, 1], the model's `crop` input."""
    x = np.asarray(crops, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    return ((x / 127.5) - 1.0)[:, None]


def _mirror_permutation() -> npt.NDArray[Any]:
    from attune.face.head_pose import canonical_face_model

    model = canonical_face_model()
    mirrored = model * np.array([-1.0, 1.0, 1.0])
    distance = np.linalg.norm(model[:, None] - mirrored[None], axis=2)
    mesh = distance.argmin(axis=1)
    # Iris rings run (image right, up, image left, down) in both eyes: mirroring swaps the eyes and
    # the left/right points of each ring (measured on FaceMesh output, test/affect/test_features.py).
    iris = {468: 473, 469: 476, 470: 475, 471: 474, 472: 477}
    iris.update({v: k for k, v in iris.items()})
    irises = [iris[i] for i in range(MESH_POINTS, REFINED_POINTS)]
    out: npt.NDArray[np.int64] = np.concatenate([mesh, irises]).astype(np.int64)
    return out


#: Index of each landmark's mirror image (left <-> right of the face); an involution.
MIRROR = _mirror_permutation()


def mirror_features(features: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Aligned landmark features (..., 478, 3) of the horizontally mirrored face."""
    out = features[..., MIRROR, :].copy()
    out[..., 0] = -out[..., 0]
    return out
