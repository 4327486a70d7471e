"""The live view's Foxglove WebSocket server and its channels (foxglove-sdk; no rclpy).

`LiveView` owns one foxglove Context (its own channels, so several views or tests in one process
stay apart) and one WebSocket server. Callers hand it attune's ROS-free types; it builds the
payloads (attune.view.payloads) and logs them on the channels below. A channel nobody subscribes to
costs nothing: payloads are only built while a client listens.

Privacy: camera pixels go to connected clients only, from memory. Nothing is written to disk, and
`camera=None` keeps pixels off the wire entirely (boxes and landmarks still go out).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import foxglove
from foxglove.channels import CompressedImageChannel, ImageAnnotationsChannel, RawImageChannel

from attune.affect.observation import AffectObservation
from attune.behavior.commands import Command
from attune.behavior.outcome import PersonSign, ProtocolResult
from attune.behavior.ratings import Rating
from attune.behavior.state import PersonState
from attune.expression.observation import ExpressionObservation
from attune.face.types import FaceFrame
from attune.view import payloads

#: The view's topics (what the layout in config/foxglove_layout.json refers to).
CAMERA_TOPIC = '/attune/view/camera'
ANNOTATIONS_TOPIC = '/attune/view/face_annotations'
EXPRESSION_TOPIC = '/attune/expression'
AFFECT_TOPIC = '/attune/affect'
STATE_TOPIC = '/attune/interaction_state'
COMMAND_TOPIC = '/attune/behavior/command'
SIGN_TOPIC = '/attune/sign'
DIAGNOSTICS_TOPIC = '/diagnostics'
RATING_TOPIC = '/attune/session/rating'

_NUM = {'type': ['number', 'null']}
_STAMP = {'type': 'object', 'properties': {'sec': {'type': 'integer'}, 'nsec': {'type': 'integer'}}}
_NUM_MAP = {'type': 'object', 'additionalProperties': _NUM}


def _schema(title: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {'title': title, 'type': 'object', 'properties': {'timestamp': _STAMP, **properties}}


#: topic -> (schema name, JSON schema) of the JSON channels.
JSON_CHANNELS: dict[str, tuple[str, dict[str, Any]]] = {
    EXPRESSION_TOPIC: ('attune.view.Expression', _schema('Expression of one face', {
        'face_id': {'type': 'string'}, 'source': {'type': 'string'}, 'label': {'type': 'string'},
        'confidence': _NUM, 'valence': _NUM, 'arousal': _NUM, 'probabilities': _NUM_MAP,
        'action_units': _NUM_MAP})),
    AFFECT_TOPIC: ('attune.view.AffectState', _schema('Affect of one face (and name-call protocol state)', {
        'face_id': {'type': 'string'}, 'source': {'type': 'string'}, 'dominant_emotion': {'type': 'string'},
        'valence': _NUM, 'arousal': _NUM, 'engagement': _NUM, 'probabilities': _NUM_MAP,
        'protocol': {'type': ['object', 'null'], 'properties': {
            'name': {'type': 'string'}, 'status': {'type': 'string'}, 'latency_s': _NUM, 'head_turn_deg': _NUM,
            'emotion': {'type': 'string'}, 'valence': _NUM}}})),
    STATE_TOPIC: ('attune.view.InteractionState', _schema('Fused state of one person', {
        'person_id': {'type': 'string'}, 'present': {'type': 'boolean'}, 'attention': _NUM, 'engagement': _NUM,
        'valence': _NUM, 'arousal': _NUM, 'distress': _NUM, 'robot_speaking': {'type': 'boolean'},
        'summary': {'type': 'string'},
        'contributions': {'type': 'array', 'items': {'type': 'object', 'properties': {
            'modality': {'type': 'string'}, 'source': {'type': 'string'}, 'quantity': {'type': 'string'},
            'value': _NUM, 'weight': _NUM, 'age_s': _NUM}}}})),
    COMMAND_TOPIC: ('attune.view.BehaviorCommand', _schema('A robot command with its rule and reason', {
        'action': {'type': 'string'}, 'priority': {'type': 'string'}, 'target_id': {'type': 'string'},
        'describe': {'type': 'string'}, 'rule': {'type': 'string'}, 'reason': {'type': 'string'},
        'text': {'type': 'string'}, 'speech_rate': _NUM, 'volume': _NUM, 'animation': {'type': 'string'},
        'duration_s': _NUM, 'velocity': _NUM})),
    SIGN_TOPIC: ('attune.view.Sign', _schema('A recognized sign', {
        'person_id': {'type': 'string'}, 'gloss': {'type': 'string'}, 'confidence': _NUM,
        'source': {'type': 'string'}, 'sequence': {'type': 'array', 'items': {'type': 'string'}}})),
    DIAGNOSTICS_TOPIC: ('attune.view.Diagnostics', _schema("The nodes' health (diagnostic_msgs/DiagnosticArray)", {
        'status': {'type': 'array', 'items': {'type': 'object', 'properties': {
            'name': {'type': 'string'}, 'level': {'type': 'integer'}, 'level_name': {'type': 'string'},
            'message': {'type': 'string'}, 'hardware_id': {'type': 'string'},
            'values': {'type': 'object', 'additionalProperties': {'type': 'string'}}}}}})),
    RATING_TOPIC: ('attune.view.SessionRating', _schema("An operator's rating (1-7)", {
        'engagement': {'type': ['integer', 'null']}, 'comfort': {'type': ['integer', 'null']},
        'note': {'type': 'string'}, 'rater': {'type': 'string'}})),
}


class LiveView:
    """A Foxglove WebSocket server relaying attune's results.

    Args:
        host, port: where to listen (port 0: any free port; see `port`).
        camera: how camera pixels are relayed on CAMERA_TOPIC: 'raw' (foxglove.RawImage), 'compressed'
            (foxglove.CompressedImage, as the camera compressed them), or None (boxes and landmarks only).
        max_image_hz: most camera frames per second sent (the rest are dropped; 0 = all).
        clock: monotonic seconds (tests).
    """

    def __init__(self, host: str = '127.0.0.1', port: int = 8765, *, camera: str | None = 'raw',
                 max_image_hz: float = 15.0, name: str = 'attune', clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.context = foxglove.Context()
        self.camera = camera
        self.max_image_hz = max_image_hz
        self._clock = clock
        self._last_image = -float('inf')
        self._labels: dict[str, str] = {}
        self.sent: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        ctx = self.context
        if camera not in ('raw', 'compressed', None):
            raise ValueError(f"camera must be 'raw', 'compressed' or None, got {camera!r}")
        self._raw = RawImageChannel(CAMERA_TOPIC, context=ctx) if camera == 'raw' else None
        self._compressed = CompressedImageChannel(CAMERA_TOPIC, context=ctx) if camera == 'compressed' else None
        self._annotations = ImageAnnotationsChannel(ANNOTATIONS_TOPIC, context=ctx)
        self._json = {topic: foxglove.Channel(topic, context=ctx, message_encoding='json', schema=foxglove.Schema(
            name=name_, encoding='jsonschema', data=json.dumps(schema).encode()))
            for topic, (name_, schema) in JSON_CHANNELS.items()}
        # The SDK's default backlog (1024 messages per client) holds a gigabyte of camera frames for a
        # slow viewer; 100 keeps it near 100 MB at 640x480 and still rides out a short stall.
        self.server = foxglove.start_server(name=name, host=host, port=port, context=ctx, message_backlog_size=100)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f'ws://{self.host}:{self.port}'

    def app_url(self) -> str | None:
        """The link that opens this server in the Foxglove app."""
        return self.server.app_url()

    def close(self) -> None:
        self.server.stop()

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def listening(self, topic: str) -> bool:
        """Whether a client subscribes to one of the view's topics (callers skip converting otherwise)."""
        channel = {CAMERA_TOPIC: self._raw or self._compressed,
                   ANNOTATIONS_TOPIC: self._annotations}.get(topic) or self._json.get(topic)
        return channel is not None and channel.has_sinks()

    # --- helpers -----------------------------------------------------------------------------------
    def _count(self, topic: str) -> None:
        self.sent[topic] = self.sent.get(topic, 0) + 1

    def _image_due(self, channel: Any) -> bool:
        if channel is None or not channel.has_sinks():
            return False
        now = self._clock()
        # 10 % early still counts: a 30 fps camera's jitter must not halve a 15 Hz view
        if self.max_image_hz > 0 and now - self._last_image < 0.9 / self.max_image_hz:
            self.dropped['camera'] = self.dropped.get('camera', 0) + 1
            return False
        self._last_image = now
        return True

    def _log_json(self, topic: str, build: Callable[[], dict[str, Any]], stamp_ns: int) -> bool:
        channel = self._json[topic]
        if not channel.has_sinks():
            return False
        channel.log(json.dumps(build(), allow_nan=False, separators=(',', ':')), log_time=_log_time(stamp_ns))
        self._count(topic)
        return True

    # --- inputs ------------------------------------------------------------------------------------
    def raw_image(self, *, stamp_ns: int, frame_id: str, width: int, height: int, encoding: str, step: int,
                  data: payloads.ImageBytes) -> bool:
        """Relay a camera frame (uncompressed). Returns whether it was sent.

        Raises:
            ValueError: an encoding Foxglove cannot show or a short buffer.
        """
        channel = self._raw
        if channel is None or not self._image_due(channel):
            return False
        msg = payloads.raw_image(stamp_ns=stamp_ns, frame_id=frame_id, width=width, height=height,
                                 encoding=encoding, step=step, data=data)
        channel.log(msg, log_time=_log_time(stamp_ns))
        self._count(CAMERA_TOPIC)
        return True

    def compressed_image(self, *, stamp_ns: int, frame_id: str, data: payloads.ImageBytes, format: str) -> bool:
        """Relay a camera frame as the camera compressed it (JPEG/PNG). Returns whether it was sent."""
        channel = self._compressed
        if channel is None or not self._image_due(channel):
            return False
        msg = payloads.compressed_image(stamp_ns=stamp_ns, frame_id=frame_id, data=data, format=format)
        channel.log(msg, log_time=_log_time(stamp_ns))
        self._count(CAMERA_TOPIC)
        return True

    def faces(self, frame: FaceFrame) -> bool:
        """Relay a frame's faces as image annotations, labelled with each face's latest expression."""
        if not self._annotations.has_sinks():
            return False
        self._annotations.log(payloads.face_annotations(frame, self._labels), log_time=_log_time(frame.stamp_ns))
        self._count(ANNOTATIONS_TOPIC)
        return True

    def expression(self, expression: ExpressionObservation, action_units: Mapping[str, float] | None = None,
                   stamp_ns: int = 0) -> bool:
        if expression.source == 'ensemble' and expression.label:  # the label drawn beside the face
            self._labels[expression.face_id] = f'{expression.label} {expression.confidence:.2f}'
            if len(self._labels) > 64:
                self._labels.pop(next(iter(self._labels)))
        return self._log_json(EXPRESSION_TOPIC,
                              lambda: payloads.expression_payload(expression, action_units, stamp_ns), stamp_ns)

    def affect(self, affect: AffectObservation, protocol: ProtocolResult | None = None, stamp_ns: int = 0) -> bool:
        return self._log_json(AFFECT_TOPIC, lambda: payloads.affect_payload(affect, protocol, stamp_ns), stamp_ns)

    def state(self, state: PersonState) -> bool:
        return self._log_json(STATE_TOPIC, lambda: payloads.state_payload(state), state.stamp_ns)

    def command(self, command: Command) -> bool:
        return self._log_json(COMMAND_TOPIC, lambda: payloads.command_payload(command), command.stamp_ns)

    def sign(self, sign: PersonSign) -> bool:
        return self._log_json(SIGN_TOPIC, lambda: payloads.sign_payload(sign), sign.stamp_ns)

    def diagnostics(self, stamp_ns: int, statuses: list[dict[str, Any]]) -> bool:
        return self._log_json(DIAGNOSTICS_TOPIC, lambda: payloads.diagnostics_payload(stamp_ns, statuses), stamp_ns)

    def rating(self, rating: Rating, stamp_ns: int = 0) -> bool:
        return self._log_json(RATING_TOPIC, lambda: {'timestamp': payloads.stamp_dict(stamp_ns),
                                                     **rating.to_record()}, stamp_ns)


def _log_time(stamp_ns: int) -> int:
    """The message's own stamp (so the image and its annotations line up), or now when it has none."""
    return int(stamp_ns) if stamp_ns > 0 else time.time_ns()
