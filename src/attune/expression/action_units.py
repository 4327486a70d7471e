"""Facial action units (FACS) from MediaPipe FaceMesh landmarks: geometric estimates (no rclpy).

Pipeline, per face:
  1. Normalization. The normalized landmarks are put on one metric-like scale (x * width,
     y * height, z * width: MediaPipe's z is on the x scale), flipped to model-like axes, and
     aligned to MediaPipe's canonical face model by a similarity transform (rotation, uniform
     scale, translation; Umeyama) fitted on landmarks that expressions do not move
     (`attune.face.head_pose.RIGID_LANDMARKS`). Head yaw, pitch and roll and the face's size in
     the image are removed; what is left is the face's deformation, in the canonical model's
     centimetres (x toward the face's left, y up, z out of the face).
  2. Measures. A few distances in that frame (`MEASURES`, see docs/action_units.md for the
     landmarks of each): brow heights, eye opening, cheek and lid height, nose-wing height,
     upper-lip height, lip-corner elevation, mouth width, red-lip thickness, lip gap, jaw
     opening, chin height.
  3. Intensities. Each AU is the change of one measure (or a combination) from a neutral
     reference, divided by the change that counts as maximal, clipped to [0, 1]. The reference is
     the population neutral face (`POPULATION_NEUTRAL`) or, with per-track calibration
     (`NeutralBaseline`), a running baseline of the person's own relaxed face.

Geometry cannot see texture: wrinkles (AU9's nose wrinkles, AU17's chin dimpling) and some AUs
that move little are weaker here than in appearance-based estimators (OpenFace, Py-Feat); these
are geometric proxies, named after the FACS AU they follow.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.face.head_pose import RIGID_LANDMARKS, canonical_face_model

#: The action units estimated, in the order of every intensity vector.
AU_NAMES: tuple[str, ...] = ('AU1', 'AU2', 'AU4', 'AU5', 'AU6', 'AU7', 'AU9', 'AU10', 'AU12', 'AU14',
                             'AU15', 'AU17', 'AU20', 'AU23', 'AU25', 'AU26', 'AU45')
AU_INDEX = {name: i for i, name in enumerate(AU_NAMES)}

#: Landmark groups (FaceMesh indices). "r" is the person's right side (the image's left).
LANDMARKS = {
    'inner_brow_r': (55, 107, 65, 66), 'inner_brow_l': (285, 336, 295, 296),
    'outer_brow_r': (46, 70, 53, 63), 'outer_brow_l': (276, 300, 283, 293),
    'eye_outer_r': (33,), 'eye_inner_r': (133,), 'eye_outer_l': (263,), 'eye_inner_l': (362,),
    'upper_lid_r': (159, 158, 160), 'lower_lid_r': (145, 144, 153),
    'upper_lid_l': (386, 385, 387), 'lower_lid_l': (374, 380, 373),
    'cheek_r': (50, 101, 118, 117), 'cheek_l': (280, 330, 347, 346),
    'nose_wing_r': (64, 98, 129), 'nose_wing_l': (294, 327, 358),
    'subnasale': (2,), 'upper_lip_top': (0, 37, 267), 'upper_lip_inner': (13, 82, 312),
    'lower_lip_inner': (14, 87, 317), 'lower_lip_bottom': (17, 84, 314),
    'mouth_corner_r': (61,), 'mouth_corner_l': (291,), 'chin': (152, 175, 199),
}

#: The measures, in the order of every measure vector; units: canonical-model centimetres.
MEASURES: tuple[str, ...] = (
    'inner_brow_height',   # inner brow above the inner eye corner (AU1 up, AU4 down)
    'outer_brow_height',   # outer brow above the outer eye corner (AU2)
    'brow_gap',            # distance between the inner brows (AU4: drawn together)
    'eye_opening',         # upper lid above lower lid (AU5 up; AU7, AU45 down)
    'lower_lid_height',    # lower lid above the eye-corner line (AU6, AU7: raised)
    'cheek_height',        # cheek points above the eye-corner line (AU6: raised)
    'nose_wing_height',    # nose wings below the inner eye corners (AU9: smaller)
    'upper_lip_height',    # upper lip below the subnasale (AU10: smaller)
    'corner_elevation_r',  # right mouth corner above the lip-centre line (AU12 up, AU15 down)
    'corner_elevation_l',  # left mouth corner above the lip-centre line
    'mouth_width',         # corner to corner (AU12, AU20 wider; AU14, AU23 narrower)
    'lip_thickness',       # red-lip height, upper plus lower (AU23 thinner)
    'lip_gap',             # inner lips apart (AU25)
    'jaw_opening',         # subnasale to chin (AU26)
    'chin_height',         # lower lip to chin (AU17 smaller)
)
MEASURE_INDEX = {name: i for i, name in enumerate(MEASURES)}


@cache
def _group_weights() -> npt.NDArray[Any]:
    """(len(LANDMARKS), 468) weights whose product with (468, 3) points is every group's mean point.
    Why a matrix: one product per face instead of 24 small numpy means (~0.5 ms of Python overhead)."""
    weights = np.zeros((len(LANDMARKS), 468))
    for row, indices in enumerate(LANDMARKS.values()):
        weights[row, list(indices)] = 1.0 / len(indices)
    return weights


def measure(aligned: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The MEASURES vector (float64) of aligned landmarks (N >= 468, 3) in canonical centimetres."""
    p = aligned
    means = dict(zip(LANDMARKS, _group_weights() @ np.asarray(p[:468], dtype=np.float64)))
    y = {g: float(point[1]) for g, point in means.items()}
    eye_line_r = (y['eye_outer_r'] + y['eye_inner_r']) / 2
    eye_line_l = (y['eye_outer_l'] + y['eye_inner_l']) / 2
    lip_centre = (y['upper_lip_inner'] + y['lower_lip_inner']) / 2
    inner_eyes = (y['eye_inner_r'] + y['eye_inner_l']) / 2
    out = np.empty(len(MEASURES))
    out[0] = ((y['inner_brow_r'] - y['eye_inner_r']) + (y['inner_brow_l'] - y['eye_inner_l'])) / 2
    out[1] = ((y['outer_brow_r'] - y['eye_outer_r']) + (y['outer_brow_l'] - y['eye_outer_l'])) / 2
    out[2] = float(np.linalg.norm(means['inner_brow_r'] - means['inner_brow_l']))
    out[3] = ((y['upper_lid_r'] - y['lower_lid_r']) + (y['upper_lid_l'] - y['lower_lid_l'])) / 2
    out[4] = ((y['lower_lid_r'] - eye_line_r) + (y['lower_lid_l'] - eye_line_l)) / 2
    out[5] = ((y['cheek_r'] - eye_line_r) + (y['cheek_l'] - eye_line_l)) / 2
    out[6] = inner_eyes - (y['nose_wing_r'] + y['nose_wing_l']) / 2
    out[7] = y['subnasale'] - y['upper_lip_top']
    out[8] = y['mouth_corner_r'] - lip_centre
    out[9] = y['mouth_corner_l'] - lip_centre
    out[10] = float(np.linalg.norm(p[LANDMARKS['mouth_corner_r'][0]] - p[LANDMARKS['mouth_corner_l'][0]]))
    out[11] = (y['upper_lip_top'] - y['upper_lip_inner']) + (y['lower_lip_inner'] - y['lower_lip_bottom'])
    out[12] = max(0.0, y['upper_lip_inner'] - y['lower_lip_inner'])
    out[13] = y['subnasale'] - y['chin']
    out[14] = y['lower_lip_bottom'] - y['chin']
    return out


# --- normalization -------------------------------------------------------------------------------
_TO_MODEL_AXES = np.array([1.0, -1.0, -1.0])  # image axes (x right, y down, z away) -> model-like


@cache
def _canonical_cm() -> npt.NDArray[Any]:
    return canonical_face_model() * 100.0


@dataclass(frozen=True)
class Alignment:
    """A similarity transform from image-scaled landmarks to the canonical face model.

    rotation (3, 3), scale, translation (3,): model = scale * rotation @ image + translation.
    rms_cm: RMS residual on the rigid landmarks, in canonical centimetres (fit quality).
    """

    rotation: npt.NDArray[Any]
    scale: float
    translation: npt.NDArray[Any]
    rms_cm: float


def image_scaled(landmarks: npt.NDArray[Any], width: int, height: int) -> npt.NDArray[Any]:
    """Normalized landmarks (N, 3) -> one isotropic scale (x*W, y*H, z*W) in model-like axes."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :3] * (width, height, width)
    out: npt.NDArray[Any] = points * _TO_MODEL_AXES
    return out


def align(points: npt.NDArray[Any], rigid: tuple[int, ...] = RIGID_LANDMARKS) -> Alignment:
    """Umeyama similarity fit of `points` (model-like axes) to the canonical model on `rigid`."""
    src = points[list(rigid)]
    dst = _canonical_cm()[list(rigid)]
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    variance = float((s ** 2).sum() / len(src))
    scale = float((sigma * sign).sum() / variance) if variance > 0 else float('nan')
    translation = mu_d - scale * rotation @ mu_s
    residual = scale * src @ rotation.T + translation - dst
    rms = float(np.sqrt((residual ** 2).sum(axis=1).mean()))
    return Alignment(rotation, scale, translation, rms)


def aligned_landmarks(landmarks: npt.NDArray[Any], width: int, height: int) -> tuple[npt.NDArray[Any], Alignment]:
    """Landmarks in the canonical frame (centimetres), and the alignment used."""
    points = image_scaled(landmarks, width, height)
    a = align(points)
    return a.scale * points @ a.rotation.T + a.translation, a


# --- intensities ---------------------------------------------------------------------------------
@cache
def canonical_measures() -> npt.NDArray[Any]:
    """The MEASURES of MediaPipe's canonical (neutral) face model."""
    return measure(_canonical_cm())


#: The population neutral face: MEASURES of relaxed faces as FaceMesh places them. The canonical
#: model is a neutral face, but FaceMesh's landmarks on real relaxed faces differ from it (wider-open
#: eyes, closed lips, thicker red lips, a shorter chin). Each value is the median of four neutral
#: faces: the canonical model and the first frames of the three videos in
#: ../shared/data/video/faces (which the evaluation does not use), except brow heights, brow gap,
#: jaw opening and chin height, where two of the three video faces are far from the canonical model
#: and the values were set by hand between the canonical model and the neutral faces of
#: ../shared/data/faces (so these five are not independent of the evaluation sets). People differ
#: by up to ~0.4 cm in brow height: per-track calibration (NeutralBaseline) removes that. Centimetres.
POPULATION_NEUTRAL: dict[str, float] = {
    'inner_brow_height': 2.15, 'outer_brow_height': 1.65, 'brow_gap': 4.25, 'eye_opening': 0.90,
    'lower_lid_height': -0.28, 'cheek_height': -2.40, 'nose_wing_height': 3.98, 'upper_lip_height': 1.45,
    'corner_elevation_r': -0.15, 'corner_elevation_l': -0.15, 'mouth_width': 4.87, 'lip_thickness': 1.64,
    'lip_gap': 0.0, 'jaw_opening': 6.3, 'chin_height': 2.7,
}

#: The change of a measure (centimetres, in the direction the AU acts) that counts as full intensity:
#: about the 95th percentile of that change over the expressive frames of the same three videos.
FULL_SCALE: dict[str, float] = {
    'inner_brow_height': 0.5, 'outer_brow_height': 0.4, 'brow_gap': 0.4, 'eye_opening': 0.35,
    'lower_lid_height': 0.2, 'cheek_height': 0.3, 'nose_wing_height': 0.4, 'upper_lip_height': 0.5,
    'corner_elevation': 0.5, 'corner_depression': 0.3, 'corner_asymmetry': 0.4, 'mouth_width': 1.2,
    'lip_thickness': 0.5, 'lip_gap': 1.5, 'lip_gap_threshold': 0.15, 'jaw_opening': 1.0, 'chin_height': 0.5,
}


@dataclass(frozen=True)
class AuResult:
    """Action units of one face.

    intensities: (len(AU_NAMES),) float32 in [0, 1].
    measures: (len(MEASURES),) float64, the raw geometry (canonical centimetres).
    reference: the neutral MEASURES the intensities were computed against.
    fit_rms_cm: residual of the normalization on rigid landmarks; large values mean the landmarks
        do not look like a face (or the head is turned so far that FaceMesh is guessing).
    aligned: the (N, 3) landmarks in the canonical frame (centimetres) the measures were taken on.
    """

    intensities: npt.NDArray[Any]
    measures: npt.NDArray[Any]
    reference: npt.NDArray[Any]
    fit_rms_cm: float
    aligned: npt.NDArray[Any]

    def as_dict(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(AU_NAMES, self.intensities)}

    def __getitem__(self, name: str) -> float:
        return float(self.intensities[AU_INDEX[name]])


def _clip01(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _ramp(delta: float, full: float) -> float:
    return _clip01(delta / full)


def intensities_from_measures(m: npt.NDArray[Any], reference: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """AU intensities (float32, AU_NAMES order) from measures and a neutral reference."""
    # Plain floats: these ~40 scalar steps cost several times more as numpy scalars.
    d = (np.asarray(m, dtype=np.float64) - reference).tolist()
    mv = np.asarray(m, dtype=np.float64).tolist()
    k = MEASURE_INDEX
    f = FULL_SCALE
    ref_open = max(float(reference[k['eye_opening']]), 1e-3)
    corner = (d[k['corner_elevation_r']] + d[k['corner_elevation_l']]) / 2
    width = d[k['mouth_width']]
    closure = 1.0 - mv[k['eye_opening']] / ref_open        # 0 open as neutral, 1 closed
    au = [0.0] * len(AU_NAMES)
    au[AU_INDEX['AU1']] = _ramp(d[k['inner_brow_height']], f['inner_brow_height'])
    au[AU_INDEX['AU2']] = _ramp(d[k['outer_brow_height']], f['outer_brow_height'])
    au[AU_INDEX['AU4']] = _clip01(0.6 * _ramp(-d[k['inner_brow_height']], f['inner_brow_height'])
                                  + 0.6 * _ramp(-d[k['brow_gap']], f['brow_gap']))
    au[AU_INDEX['AU5']] = _ramp(d[k['eye_opening']], f['eye_opening'])
    cheek = _ramp(d[k['cheek_height']], f['cheek_height'])
    lid_raise = _ramp(d[k['lower_lid_height']], f['lower_lid_height'])
    narrowing = _clip01(closure / 0.5)
    au[AU_INDEX['AU6']] = _clip01(0.7 * cheek + 0.3 * lid_raise)
    au[AU_INDEX['AU7']] = _clip01(narrowing * (1 - _clip01((closure - 0.6) / 0.2)) * (1 - 0.5 * cheek))
    au[AU_INDEX['AU9']] = _ramp(-d[k['nose_wing_height']], f['nose_wing_height'])
    au[AU_INDEX['AU10']] = _ramp(-d[k['upper_lip_height']], f['upper_lip_height'])
    up = _ramp(corner, f['corner_elevation'])
    au[AU_INDEX['AU12']] = _clip01(0.7 * up + 0.3 * _ramp(width, f['mouth_width']) * (corner > 0))
    au[AU_INDEX['AU14']] = _ramp(abs(d[k['corner_elevation_r']] - d[k['corner_elevation_l']]),
                                 f['corner_asymmetry'])
    au[AU_INDEX['AU15']] = _ramp(-corner, f['corner_depression'])
    apart = _clip01(mv[k['lip_gap']] / 0.5)          # 0 closed lips, 1 clearly open mouth
    au[AU_INDEX['AU17']] = _ramp(-d[k['chin_height']], f['chin_height']) * (1 - apart)
    au[AU_INDEX['AU20']] = _ramp(width, f['mouth_width']) * (1 - up)
    au[AU_INDEX['AU23']] = _clip01(0.6 * _ramp(-d[k['lip_thickness']], f['lip_thickness'])
                                   + 0.4 * _ramp(-width, f['mouth_width']))
    au[AU_INDEX['AU25']] = _ramp(mv[k['lip_gap']] - f['lip_gap_threshold'], f['lip_gap'])
    au[AU_INDEX['AU26']] = _ramp(d[k['jaw_opening']], f['jaw_opening']) * apart
    au[AU_INDEX['AU45']] = _clip01((closure - 0.6) / 0.3)
    return np.array(au, dtype=np.float32)


class NeutralBaseline:
    """Per-track running baseline of a person's relaxed face (neutral calibration).

    A track's baseline is the exponential moving average of its measures over the frames that look
    relaxed against the current reference (summed AU intensity below `relaxed_sum`); before
    `min_frames` such frames it blends toward the population neutral, so a new face starts from
    the population and moves to its own neutral. A person who never relaxes keeps the population
    reference. At most `max_tracks` tracks are remembered (the least recently seen is forgotten).
    """

    def __init__(self, population: npt.NDArray[Any], *, rate: float = 0.05, min_frames: int = 15,
                 relaxed_sum: float = 1.0, max_tracks: int = 64) -> None:
        self.population = np.asarray(population, dtype=np.float64)
        self.rate = rate
        self.min_frames = min_frames
        self.relaxed_sum = relaxed_sum
        self.max_tracks = max_tracks
        self._tracks: OrderedDict[str, tuple[npt.NDArray[Any], int]] = OrderedDict()

    def reference(self, track: str) -> npt.NDArray[Any]:
        """The neutral reference of a track (the population until it has relaxed frames)."""
        state = self._tracks.get(track)
        if state is None:
            return self.population
        mean, n = state
        w = min(1.0, n / self.min_frames)
        return w * mean + (1 - w) * self.population

    def update(self, track: str, measures: npt.NDArray[Any], intensities: npt.NDArray[Any]) -> None:
        """Feed one frame of a track (call after computing its intensities)."""
        if float(np.sum(intensities)) > self.relaxed_sum:
            if track in self._tracks:
                self._tracks.move_to_end(track)
            return
        mean, n = self._tracks.pop(track, (np.asarray(measures, dtype=np.float64).copy(), 0))
        rate = max(self.rate, 1.0 / (n + 1))  # a plain mean over the first 1/rate frames
        mean = mean + rate * (measures - mean)
        self._tracks[track] = (mean, n + 1)
        while len(self._tracks) > self.max_tracks:
            self._tracks.popitem(last=False)

    def frames(self, track: str) -> int:
        """Relaxed frames seen for a track."""
        return self._tracks.get(track, (None, 0))[1]

    def forget(self, track: str | None = None) -> None:
        if track is None:
            self._tracks.clear()
        else:
            self._tracks.pop(track, None)


@dataclass
class ActionUnitEstimator:
    """Landmarks -> AuResult. Stateless unless calibration is on (then per track).

    calibration: keep a NeutralBaseline per track id and use it as the reference.
    """

    calibration: bool = False
    baseline: NeutralBaseline = field(init=False)

    def __post_init__(self) -> None:
        self.baseline = NeutralBaseline(population_reference())

    def estimate(self, landmarks: npt.NDArray[Any], width: int, height: int, track: str = '') -> AuResult:
        """Action units of one face.

        Args:
            landmarks: (N >= 468, 3) FaceMesh landmarks, x and y normalized by width and height.
            width, height: the image size in pixels (the landmarks' aspect ratio).
            track: the face's track id (used for calibration).

        Raises:
            ValueError: too few landmarks, or NaN/inf among them, or a degenerate (zero-size) face.
        """
        landmarks = np.asarray(landmarks)
        if landmarks.ndim != 2 or landmarks.shape[0] < 468 or landmarks.shape[1] < 3:
            raise ValueError(f'expected (468 or 478, 3) landmarks, got {landmarks.shape}')
        if not np.all(np.isfinite(landmarks[:468, :3])):
            raise ValueError('landmarks contain NaN or infinite values')
        if width <= 0 or height <= 0:
            raise ValueError(f'image size must be positive, got {width}x{height}')
        aligned, alignment = aligned_landmarks(landmarks, width, height)
        if not np.isfinite(alignment.scale) or alignment.scale <= 0:
            raise ValueError('degenerate landmarks (zero-size face)')
        m = measure(aligned)
        reference = self.baseline.reference(track) if self.calibration and track else self.baseline.population
        au = intensities_from_measures(m, reference)
        if self.calibration and track:
            self.baseline.update(track, m, au)
        return AuResult(au, m, reference, alignment.rms_cm, aligned)

    def population_intensities(self, result: AuResult) -> npt.NDArray[Any]:
        """result's AU intensities against the population neutral (itself when it was the reference)."""
        if result.reference is self.baseline.population:
            return result.intensities
        return intensities_from_measures(result.measures, self.baseline.population)


def population_reference() -> npt.NDArray[Any]:
    """POPULATION_NEUTRAL as a MEASURES vector (the canonical model's measures where not given)."""
    ref = canonical_measures().copy()
    for name, value in POPULATION_NEUTRAL.items():
        ref[MEASURE_INDEX[name]] = value
    return ref
