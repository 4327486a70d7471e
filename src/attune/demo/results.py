"""Turning a recorded run into what a person looks at: per-face results, an annotated video and a
contact sheet (no rclpy: reads bags with rosbags)."""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.bag import read_messages
from attune.bag.report import ExpressionFaceStats, bag_report
from attune.expression.observation import ExpressionObservation
from attune.face.drawing import colour_for, draw_faces
from attune.face.types import FaceFrame
from attune.imaging import compressed_to_array, image_to_array, to_rgb8
from attune.ros import msg_expression, msg_faces
from attune.ros.stamps import to_ns

#: What the expression node said of each face in each image: (image stamp ns, face id) -> its Expression.
Expressions = Mapping[tuple[int, str], ExpressionObservation]


@dataclass
class FaceSummary:
    """What the pipeline saw of one face id over a run."""

    id: str
    frames: int = 0
    first_s: float = math.inf
    last_s: float = -math.inf
    confidences: list[float] = field(default_factory=list)
    yaw: list[float] = field(default_factory=list)
    pitch: list[float] = field(default_factory=list)
    roll: list[float] = field(default_factory=list)
    said: ExpressionFaceStats | None = None   # what the expression node said of this face (attune report's)

    def to_dict(self) -> dict[str, Any]:
        def span(values: list[float]) -> list[float] | None:
            return [round(min(values), 1), round(max(values), 1)] if values else None

        finite = [c for c in self.confidences if math.isfinite(c)]
        return {'id': self.id, 'frames': self.frames, 'first_s': round(self.first_s, 3),
                'last_s': round(self.last_s, 3),
                'mean_confidence': round(float(np.mean(finite)), 3) if finite else None,
                'yaw_deg': span(self.yaw), 'pitch_deg': span(self.pitch), 'roll_deg': span(self.roll),
                **self._expression_dict()}

    def _expression_dict(self) -> dict[str, Any]:
        if self.said is None:
            return {'expressions': 0, 'expression_shares': {}, 'calibrated_share': None}
        return {'expressions': self.said.messages,
                'expression_shares': {label: round(share, 4) for label, share in self.said.shares.items()},
                'calibrated_share': round(self.said.calibrated / self.said.messages, 4)}


def face_frames(bag: Path, topic: str = '/attune/faces') -> list[FaceFrame]:
    """Every Faces message of a bag, as core FaceFrames, in stamp order."""
    frames = [msg_faces.from_msg(m.deserialize()) for m in read_messages(bag, [topic])]
    return sorted(frames, key=lambda f: f.stamp_ns)


def expressions(bag: Path, topic: str = '/attune/expression') -> dict[tuple[int, str], ExpressionObservation]:
    """Every Expression of a bag, keyed by its image stamp and face id (the last one where a face has several)."""
    out = {}
    for message in read_messages(bag, [topic]):
        msg = message.deserialize()
        out[to_ns(msg.header.stamp), msg.face_id] = msg_expression.from_msg(msg)
    return out


def expression_stats(bag: Path, topic: str = '/attune/expression') -> dict[str, ExpressionFaceStats]:
    """What `topic` said of each face id of a bag (as `attune report` summarizes it)."""
    return {f.id: f for said in bag_report(bag).expressions if said.topic == topic for f in said.faces}


def summarize(frames: list[FaceFrame], images: int,
              said: Mapping[str, ExpressionFaceStats] | None = None) -> dict[str, Any]:
    """Per-face results and the detection rate (images with a face / images sent); with `said`
    (expression_stats), each face's expression labels, their shares, and how many were calibrated."""
    start = min((f.stamp_ns for f in frames), default=0)
    faces: dict[str, FaceSummary] = {}
    for frame in frames:
        t = (frame.stamp_ns - start) * 1e-9
        for face in frame.faces:
            s = faces.setdefault(face.id, FaceSummary(face.id))
            s.frames += 1
            s.first_s, s.last_s = min(s.first_s, t), max(s.last_s, t)
            s.confidences.append(face.observation.confidence)
            if face.head_pose is not None:
                s.yaw.append(face.head_pose.yaw)
                s.pitch.append(face.head_pose.pitch)
                s.roll.append(face.head_pose.roll)
    for face_id, s in faces.items():
        s.said = (said or {}).get(face_id)
    with_face = sum(1 for f in frames if f.faces)
    return {'images': images, 'faces_messages': len(frames), 'images_with_face': with_face,
            'detection_rate': round(with_face / images, 3) if images else None,
            'faces': [s.to_dict() for s in faces.values()]}


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"{summary['images']} images, {summary['faces_messages']} Faces messages, a face in "
             f"{summary['images_with_face']} ({(summary['detection_rate'] or 0):.0%})",
             f"{'face':<8}{'frames':>7}{'from s':>8}{'to s':>7}{'conf':>6}  {'yaw deg':>12}{'pitch deg':>12}"
             f"{'roll deg':>12}  {'expression (share of its frames)':<34}{'calibrated':>10}"]
    for f in summary['faces']:
        def span(v: list[float] | None) -> str:
            return f'{v[0]:+.0f}..{v[1]:+.0f}' if v else '-'
        conf = f"{f['mean_confidence']:.2f}" if f['mean_confidence'] is not None else '-'
        shares = f.get('expression_shares') or {}
        expression = ' '.join(f'{label} {share:.0%}' for label, share in list(shares.items())[:3]) or '-'
        calibrated = f"{f['calibrated_share']:.0%}" if f.get('calibrated_share') is not None else '-'
        lines.append(f"{f['id']:<8}{f['frames']:>7}{f['first_s']:>8.2f}{f['last_s']:>7.2f}{conf:>6}  "
                     f"{span(f['yaw_deg']):>12}{span(f['pitch_deg']):>12}{span(f['roll_deg']):>12}  "
                     f"{expression:<34}{calibrated:>10}")
    return '\n'.join(lines)


def bag_images(bag: Path, topic: str) -> Iterator[tuple[int, npt.NDArray[Any]]]:
    """(stamp ns, RGB array) of every Image or CompressedImage on `topic`."""
    for message in read_messages(bag, [topic]):
        msg = message.deserialize()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        if message.msgtype.endswith('CompressedImage'):
            array, encoding = compressed_to_array(msg)
        else:
            array, encoding = image_to_array(msg), msg.encoding
        yield stamp, to_rgb8(array, encoding)


def draw_expressions(out: npt.NDArray[Any], frame: FaceFrame, expressed: Expressions) -> None:
    """Each face's expression label and confidence under its box (in place); '*' marks a calibrated one."""
    height, width = out.shape[:2]
    scale = max(0.4, min(width, height) / 900)
    thickness = max(1, round(min(width, height) / 300))
    for face in frame.faces:
        expression = expressed.get((frame.stamp_ns, face.id))
        if expression is None:
            continue
        x0, _, _, y1 = face.box.to_pixels(width, height)
        text = f"{expression.label} {expression.confidence:.2f}{'*' if expression.calibrated else ''}"
        cv2.putText(out, text, (x0, min(height - 4, y1 + round(30 * scale))), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    colour_for(face.id), thickness, cv2.LINE_AA)


def write_annotated(images: Iterator[tuple[int, npt.NDArray[Any]]], frames: list[FaceFrame], video: Path,
                    sheet: Path, fps: float, sheet_tiles: int = 8, expressed: Expressions | None = None) -> int:
    """An annotated MP4 of every image (faces drawn where a Faces message matches its stamp, with their
    expression where `expressed` has one) and a contact sheet of `sheet_tiles` evenly spaced frames.
    Returns the number of frames written."""
    by_stamp = {f.stamp_ns: f for f in frames}
    writer = None
    annotated: list[npt.NDArray[Any]] = []
    count = 0
    for stamp, rgb in images:
        frame = by_stamp.get(stamp)
        out = draw_faces(rgb, frame) if frame is not None else rgb.copy()
        if frame is not None and expressed:
            draw_expressions(out, frame, expressed)
        if frame is None:
            cv2.putText(out, 'no result', (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 80, 80), 2)
        if writer is None:
            video.parent.mkdir(parents=True, exist_ok=True)
            writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*'mp4v'), fps,
                                     (out.shape[1], out.shape[0]))
        writer.write(cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
        annotated.append(cv2.resize(out, (320, round(320 * out.shape[0] / out.shape[1]))))
        count += 1
    if writer is not None:
        writer.release()
    if annotated:
        picks = [annotated[round(i * (len(annotated) - 1) / max(1, sheet_tiles - 1))] for i in range(sheet_tiles)]
        rows = [np.hstack(picks[i:i + 4]) for i in range(0, len(picks), 4)]
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
        cv2.imwrite(str(sheet), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return count
