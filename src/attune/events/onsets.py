"""Expression onsets from photo pairs: a person's neutral photo morphed into their smiling one.

An event camera sees change, and the change that carries an expression is its onset. The London
set has a neutral and a smiling photo of each person; this module turns such a pair into the frames
a camera would have seen while the face moved from one to the other:

1. FaceMesh landmarks on both photos (attune.events.face_labels.find_faces);
2. for a morph amount alpha, the face shape is the landmark blend (1 - alpha) N + alpha S; both
   photos are warped onto it piecewise-affinely (a Delaunay triangulation of the landmarks plus
   fixed points on the border, each triangle mapped by its own affine map) and cross-dissolved
   (Beier & Neely 1992; Seitz & Dyer 1996);
3. a sequence is a curve alpha(t) at the camera's frame rate (hold, smoothstep ramp, hold), each
   frame blended from the two nearest precomputed morphs, then through the event emulator with
   the node's face window and saccades (attune.events.emulated_windows).

The teacher labels every precomputed morph (its landmarks are the blended ones), so a window's
target is what the frame-based teacher says about the face the window ends on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import numpy.typing as npt
from scipy.spatial import Delaunay

from attune.events.emulated_windows import face_region_transform
from attune.events.errors import EventError
from attune.events.face_labels import FaceRecord
from attune.geometry import BoundingBox

if TYPE_CHECKING:
    from attune.expression.teacher import ExpressionTeacher

#: Morph amounts precomputed per pair (frames in between are blended from the two nearest).
ALPHA_STEPS = 17


@dataclass(frozen=True)
class OnsetCurve:
    """alpha(t) of one sequence: `hold_s` at `start`, a smoothstep ramp of `ramp_s` to `stop`, then
    `after_s` at `stop` (onset: 0 -> peak; offset: peak -> 0)."""

    hold_s: float
    ramp_s: float
    after_s: float
    start: float = 0.0
    stop: float = 1.0

    @property
    def kind(self) -> str:
        return 'onset' if self.stop > self.start else 'offset'

    def alphas(self, fps: float) -> npt.NDArray[Any]:
        n = int(round((self.hold_s + self.ramp_s + self.after_s) * fps)) + 1
        t = np.arange(n) / fps
        u = np.clip((t - self.hold_s) / max(self.ramp_s, 1e-6), 0.0, 1.0)
        return self.start + (self.stop - self.start) * (u * u * (3 - 2 * u))


@dataclass
class MorphPair:
    """One person's precomputed morphs: grey frames (ALPHA_STEPS, R, R) uint8 of the face region,
    the face box in that region at alpha 0 and 1, and the teacher's (ALPHA_STEPS, 7) soft labels
    (None until labelled)."""

    subject: str
    alphas: npt.NDArray[Any]
    gray: npt.NDArray[Any]
    rgb: npt.NDArray[Any]
    landmarks: npt.NDArray[Any]
    box0: BoundingBox
    box1: BoundingBox
    teacher: npt.NDArray[Any] | None = None

    def frame(self, alpha: float) -> npt.NDArray[Any]:
        """The grey region at morph amount alpha (float32), blended from the two nearest morphs."""
        pos = float(np.clip(alpha, 0.0, 1.0)) * (len(self.alphas) - 1)
        i = min(int(pos), len(self.alphas) - 2)
        f = np.float32(pos - i)
        g0, g1 = self.gray[i].astype(np.float32), self.gray[i + 1].astype(np.float32)
        out: npt.NDArray[np.float32] = (1 - f) * g0 + f * g1
        return out

    def box(self, alpha: float) -> BoundingBox:
        a = float(np.clip(alpha, 0.0, 1.0))
        b0, b1 = self.box0, self.box1
        return BoundingBox(*((1 - a) * v0 + a * v1 for v0, v1 in zip(
            (b0.xmin, b0.ymin, b0.xmax, b0.ymax), (b1.xmin, b1.ymin, b1.xmax, b1.ymax))))

    def teacher_at(self, alpha: float) -> npt.NDArray[Any]:
        """The teacher's soft labels at alpha, interpolated between the two nearest morphs."""
        if self.teacher is None:
            raise EventError(f'morphs of {self.subject} have no teacher labels yet')
        pos = float(np.clip(alpha, 0.0, 1.0)) * (len(self.alphas) - 1)
        i = min(int(pos), len(self.alphas) - 2)
        f = pos - i
        out: npt.NDArray[np.float32] = ((1 - f) * self.teacher[i] + f * self.teacher[i + 1]).astype(np.float32)
        return out


def _border_points(size: int, per_side: int = 4) -> npt.NDArray[Any]:
    s = float(size - 1)
    ticks = np.linspace(0.0, s, per_side + 1)[:-1]
    zero, full = np.zeros_like(ticks), np.full_like(ticks, s)
    return np.concatenate([np.stack([ticks, zero], 1), np.stack([full, ticks], 1), np.stack([s - ticks, full], 1),
                           np.stack([zero, s - ticks], 1)])


def piecewise_affine_maps(shape_points: npt.NDArray[Any], sources: list[npt.NDArray[Any]], size: tuple[int, int]
                          ) -> list[tuple[npt.NDArray[Any], npt.NDArray[Any]]]:
    """cv2.remap maps (map_x, map_y) that pull each source's image onto `shape_points`: every pixel
    of a Delaunay triangle of shape_points takes the affine image of its position in the
    corresponding source triangle. Pixels outside the triangulation stay where they are.

    The triangles are rasterized into an index image (cv2.fillConvexPoly), then one affine map per
    triangle is applied to its pixels (exact, and far faster than a point-location query per pixel)."""
    h, w = size
    tri = Delaunay(shape_points)
    index = np.full((h, w), -1, np.int32)
    for k, simplex in enumerate(tri.simplices):
        cv2.fillConvexPoly(index, np.round(shape_points[simplex] * 16).astype(np.int32), (k,), cv2.LINE_8, 4)
    ys, xs = np.mgrid[0:h, 0:w]
    homogeneous = np.stack([xs, ys, np.ones_like(xs)], -1).reshape(-1, 3).astype(np.float64)
    label = index.ravel()
    inside = label >= 0
    dst = np.concatenate([shape_points[tri.simplices], np.ones((len(tri.simplices), 3, 1))], axis=2)  # (T, 3, 3)
    pinv = np.linalg.pinv(dst)                                                                          # (T, 3, 3)
    maps = []
    for src in sources:
        affine = pinv @ src[tri.simplices]                                   # (T, 3, 2): [x, y, 1] -> source xy
        mapped = homogeneous[:, :2].copy()
        mapped[inside] = np.einsum('nk,nkd->nd', homogeneous[inside], affine[label[inside]])
        maps.append((mapped[:, 0].reshape(h, w).astype(np.float32), mapped[:, 1].reshape(h, w).astype(np.float32)))
    return maps


def morph_pair(subject: str, neutral_rgb: npt.NDArray[Any], smile_rgb: npt.NDArray[Any], neutral: FaceRecord,
               smile: FaceRecord, pixels: int = 160, steps: int = ALPHA_STEPS) -> MorphPair:
    """The precomputed morphs of one person (region of twice the neutral face box, `pixels` square).

    Raises:
        EventError: a photo has no landmarks.
    """
    if neutral.landmarks is None or smile.landmarks is None:
        raise EventError(f'{subject}: both photos need FaceMesh landmarks for a morph')
    h, w = neutral_rgb.shape[:2]
    if smile_rgb.shape[:2] != (h, w):
        smile_rgb = cv2.resize(smile_rgb, (w, h), interpolation=cv2.INTER_AREA)  # normalized landmarks still fit
    region_n, box0, (x0, y0, scale) = face_region_transform(neutral_rgb, neutral.box, pixels)
    rh, rw = region_n.shape[:2]
    crop = smile_rgb[int(y0):int(y0) + int(round(rh / scale)), int(x0):int(x0) + int(round(rw / scale))]
    region_s = cv2.resize(crop, (rw, rh), interpolation=cv2.INTER_AREA)

    def to_region(marks: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return (marks[:, :2] * (w, h) - (x0, y0)) * scale

    def box_to_region(b: BoundingBox) -> BoundingBox:
        (ax, ay), (bx, by) = to_region(np.array([[b.xmin, b.ymin], [b.xmax, b.ymax]]))
        return BoundingBox(ax / rw, ay / rh, bx / rw, by / rh)

    border = _border_points(max(rw, rh))
    border = border[(border[:, 0] <= rw - 1) & (border[:, 1] <= rh - 1)]
    pts_n = np.concatenate([to_region(neutral.landmarks), border])
    pts_s = np.concatenate([to_region(smile.landmarks), border])
    z = (neutral.landmarks[:, 2], smile.landmarks[:, 2])
    alphas = np.linspace(0.0, 1.0, steps)
    grays, rgbs, marks = [], [], []
    fn, fs = region_n.astype(np.float32), region_s.astype(np.float32)
    for a in alphas:
        shape = (1 - a) * pts_n + a * pts_s
        (mnx, mny), (msx, msy) = piecewise_affine_maps(shape, [pts_n, pts_s], (rh, rw))
        wn = cv2.remap(fn, mnx, mny, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        ws = cv2.remap(fs, msx, msy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        rgb = np.clip((1 - a) * wn + a * ws, 0, 255).astype(np.uint8)
        rgbs.append(rgb)
        grays.append(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        face = shape[:len(neutral.landmarks)] / (rw, rh)
        marks.append(np.concatenate([face, ((1 - a) * z[0] + a * z[1])[:, None]], 1).astype(np.float32))
    return MorphPair(subject, alphas, np.stack(grays), np.stack(rgbs), np.stack(marks), box0,
                     box_to_region(smile.box))


def label_morphs(pairs: list[MorphPair], teacher: ExpressionTeacher) -> None:
    """Teacher soft labels for every precomputed morph of every pair (in place). `teacher` is an
    attune.expression.teacher.ExpressionTeacher; a morph it cannot analyze gets its neighbour's labels."""
    for pair in pairs:
        rows: list[npt.NDArray[Any] | None] = []
        for rgb, marks in zip(pair.rgb, pair.landmarks):
            try:
                rows.append(teacher.soft_labels(rgb, marks))
            except ValueError:
                rows.append(rows[-1] if rows else None)
        first = next((r for r in rows if r is not None), None)
        if first is None:
            raise EventError(f'the teacher could not analyze any morph of {pair.subject}')
        pair.teacher = np.stack([first if r is None else r for r in rows]).astype(np.float32)
