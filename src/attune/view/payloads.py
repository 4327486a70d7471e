"""Foxglove payloads built from attune's ROS-free types (no rclpy).

Two kinds of channel feed the live view (`attune view`):
  * Foxglove's own schemas (protobuf, encoded by foxglove-sdk) where a Foxglove panel draws them:
    the camera (`foxglove.RawImage` / `foxglove.CompressedImage`) and the faces on it
    (`foxglove.ImageAnnotations`: box, landmarks and a label per face, stamped like the image so the
    Image panel overlays them on the right frame);
  * JSON with a JSON schema for attune's own results, flat and with named keys so that the Plot panel
    can draw any number (`/attune/expression.valence`, `.probabilities.happy`, `.action_units.AU12`),
    filtered per person with Foxglove's message-path filters (`/attune/affect{face_id=="f1"}.valence`).

Unknown values (NaN) become null: the JSON stays strict and plots leave a gap instead of a zero.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from foxglove.messages import (
    Color,
    CompressedImage,
    ImageAnnotations,
    Point2,
    PointsAnnotation,
    PointsAnnotationType,
    RawImage,
    TextAnnotation,
    Timestamp,
)

from attune.affect.observation import AffectObservation
from attune.behavior.commands import Command
from attune.behavior.outcome import PersonSign, ProtocolResult
from attune.behavior.state import PersonState
from attune.expression.observation import ExpressionObservation
from attune.face.types import FaceFrame

if TYPE_CHECKING:
    import array
    from typing import TypeAlias

    #: Image bytes: a ROS uint8[] field (rclpy reads it as array.array('B')) or bytes (rosbags, tests).
    ImageBytes: TypeAlias = bytes | bytearray | memoryview | array.array[int]

#: Face colours (RGB, 0-1), picked per face id so a person keeps one colour in every panel.
PALETTE = ((0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
           (0.58, 0.4, 0.74), (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.09, 0.75, 0.81))
#: foxglove.RawImage encodings that can pass through unchanged (sensor_msgs/Image names).
RAW_ENCODINGS = ('rgb8', 'rgba8', 'bgr8', 'bgra8', 'mono8', 'mono16', '8UC1', '8UC3', '16UC1', '32FC1',
                 'yuv422', 'uyvy', 'yuyv', 'yuv422_yuy2')


def num(x: float | None) -> float | None:
    """A finite float, rounded for the wire, or None (NaN, inf, None)."""
    if x is None:
        return None
    x = float(x)
    return round(x, 5) if math.isfinite(x) else None


def timestamp(stamp_ns: int) -> Timestamp:
    return Timestamp(sec=int(stamp_ns) // 1_000_000_000, nsec=int(stamp_ns) % 1_000_000_000)


def stamp_dict(stamp_ns: int) -> dict[str, int]:
    """A JSON timestamp as Foxglove reads it ({sec, nsec})."""
    return {'sec': int(stamp_ns) // 1_000_000_000, 'nsec': int(stamp_ns) % 1_000_000_000}


def face_color(face_id: str, alpha: float = 1.0) -> Color:
    """The stable colour of a face id (the same in every view and run)."""
    index = hashlib.blake2s(face_id.encode(), digest_size=2).digest()[0] % len(PALETTE)
    r, g, b = PALETTE[index]
    return Color(r=r, g=g, b=b, a=alpha)


# --- camera and faces (Foxglove schemas) ------------------------------------------------------------
def raw_image(*, stamp_ns: int, frame_id: str, width: int, height: int, encoding: str, step: int,
              data: ImageBytes) -> RawImage:
    """The camera frame as foxglove.RawImage (the pixels are passed through, not converted).

    Raises:
        ValueError: an encoding Foxglove cannot show, or a buffer shorter than step x height.
    """
    if encoding not in RAW_ENCODINGS:
        raise ValueError(f'image encoding {encoding!r} cannot be shown by Foxglove (supported: '
                         f'{", ".join(RAW_ENCODINGS)})')
    if width <= 0 or height <= 0 or step < width or len(data) < step * height:
        raise ValueError(f'image buffer of {len(data)} bytes does not hold {height} rows of {step} bytes '
                         f'({width}x{height})')
    return RawImage(timestamp=timestamp(stamp_ns), frame_id=frame_id, width=width, height=height,
                    encoding=encoding, step=step, data=bytes(data))


def compressed_image(*, stamp_ns: int, frame_id: str, data: ImageBytes, format: str) -> CompressedImage:
    """The camera frame as foxglove.CompressedImage (format 'jpeg' or 'png', as the camera sent it)."""
    fmt = format.lower()
    fmt = 'png' if 'png' in fmt else 'jpeg' if ('jpeg' in fmt or 'jpg' in fmt or not fmt) else fmt
    return CompressedImage(timestamp=timestamp(stamp_ns), frame_id=frame_id, data=bytes(data), format=fmt)


def face_annotations(frame: FaceFrame, labels: Mapping[str, str] | None = None, *,
                     landmarks: bool = True) -> ImageAnnotations:
    """Boxes, landmarks and a label per face, in the pixels of the frame's image.

    Stamped with the frame's stamp (the source image's), which is how Foxglove's Image panel pairs
    annotations with the image they belong to. `labels` ({face id: 'happy 0.82'}) adds words after
    the id.
    """
    labels = labels or {}
    w, h = float(frame.width), float(frame.height)
    stamp = timestamp(frame.stamp_ns)
    points, texts = [], []
    for face in frame.faces:
        box = face.box
        color = face_color(face.id)
        corners = [(box.xmin, box.ymin), (box.xmax, box.ymin), (box.xmax, box.ymax), (box.xmin, box.ymax)]
        points.append(PointsAnnotation(timestamp=stamp, type=PointsAnnotationType.LineLoop, thickness=2.0,
                                       outline_color=color,
                                       points=[Point2(x=x * w, y=y * h) for x, y in corners]))
        marks = face.observation.landmarks
        if landmarks and marks is not None and len(marks):
            xy = np.asarray(marks, dtype=np.float64)[:, :2] * (w, h)
            points.append(PointsAnnotation(timestamp=stamp, type=PointsAnnotationType.Points, thickness=2.0,
                                           outline_color=face_color(face.id, 0.8),
                                           points=[Point2(x=float(x), y=float(y)) for x, y in xy]))
        words = f'{face.id} {labels[face.id]}' if labels.get(face.id) else face.id
        texts.append(TextAnnotation(timestamp=stamp, position=Point2(x=box.xmin * w, y=max(0.0, box.ymin * h - 4)),
                                    text=words, font_size=14.0, text_color=Color(r=1, g=1, b=1, a=1),
                                    background_color=face_color(face.id, 0.7)))
    return ImageAnnotations(points=points, texts=texts)


# --- attune's results (JSON) ---------------------------------------------------------------------
def expression_payload(expression: ExpressionObservation, action_units: Mapping[str, float] | None = None,
                       stamp_ns: int = 0) -> dict[str, Any]:
    """One face's Expression: label, confidence, valence, arousal, probabilities and AUs by name."""
    return {'timestamp': stamp_dict(stamp_ns), 'face_id': expression.face_id, 'source': expression.source,
            'label': expression.label, 'confidence': num(expression.confidence),
            'valence': num(expression.valence), 'arousal': num(expression.arousal),
            'probabilities': {k: num(p) for k, p in zip(expression.labels, expression.probabilities)},
            'action_units': {k: num(v) for k, v in (action_units or {}).items()}}


def affect_payload(affect: AffectObservation, protocol: ProtocolResult | None = None,
                   stamp_ns: int = 0) -> dict[str, Any]:
    """One face's AffectState (emotion distribution, valence, arousal, engagement), or a protocol (name
    call) state or result for that face (an InteractionEvent; its affect fields empty)."""
    out: dict[str, Any] = {
        'timestamp': stamp_dict(stamp_ns), 'face_id': affect.face_id, 'source': affect.source,
        'dominant_emotion': affect.dominant, 'valence': num(affect.valence), 'arousal': num(affect.arousal),
        'engagement': num(affect.engagement),
        'probabilities': {k: num(p) for k, p in zip(affect.emotions, affect.probabilities)},
        'protocol': None}
    if protocol is not None:
        out['protocol'] = {'name': protocol.name, 'status': protocol.status, 'latency_s': num(protocol.latency_s),
                           'head_turn_deg': num(protocol.head_turn_deg), 'emotion': protocol.emotion,
                           'valence': num(protocol.valence)}
    return out


def state_payload(state: PersonState) -> dict[str, Any]:
    """One person's fused InteractionState, with what contributed to it."""
    return {'timestamp': stamp_dict(state.stamp_ns), 'person_id': state.person_id, 'present': state.present,
            'attention': num(state.attention), 'engagement': num(state.engagement), 'valence': num(state.valence),
            'arousal': num(state.arousal), 'distress': num(state.distress), 'robot_speaking': state.robot_speaking,
            'summary': state.summary,
            'contributions': [{'modality': c.modality, 'source': c.source, 'quantity': c.quantity,
                               'value': num(c.value), 'weight': num(c.weight), 'age_s': num(c.age_s)}
                              for c in state.contributions]}


def command_payload(command: Command) -> dict[str, Any]:
    """A BehaviorCommand: the action, its fields, and the rule and reason behind it."""
    fields = command.to_dict()
    return {'timestamp': stamp_dict(command.stamp_ns), 'describe': command.describe(),
            **{k: (num(v) if isinstance(v, float) else v) for k, v in fields.items()}}


def sign_payload(sign: PersonSign) -> dict[str, Any]:
    return {'timestamp': stamp_dict(sign.stamp_ns), 'person_id': sign.person_id, 'gloss': sign.gloss,
            'confidence': num(sign.confidence), 'source': sign.source, 'sequence': list(sign.sequence)}


#: DiagnosticStatus levels by number.
DIAGNOSTIC_LEVELS = {0: 'OK', 1: 'WARN', 2: 'ERROR', 3: 'STALE'}


def diagnostics_payload(stamp_ns: int, statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """A DiagnosticArray as JSON ({name, level, message, hardware_id, values: {key: value}} per status),
    with the level also in words (level_name) for the State Transitions panel."""
    out = []
    for s in statuses:
        level = int(s.get('level', 0))
        out.append({'name': str(s.get('name', '')), 'level': level, 'level_name': DIAGNOSTIC_LEVELS.get(level, '?'),
                    'message': str(s.get('message', '')), 'hardware_id': str(s.get('hardware_id', '')),
                    'values': {str(k): str(v) for k, v in dict(s.get('values', {})).items()}})
    return {'timestamp': stamp_dict(stamp_ns), 'status': out}
