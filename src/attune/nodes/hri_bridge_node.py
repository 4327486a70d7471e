"""hri_bridge_node: attune's faces, expressions and affect as REP-155 (ROS4HRI) topics.

ROS4HRI tools (engagement estimation, the person manager, libhri/pyhri, the RViz plugins) read people
from the /humans/ namespace; this node republishes attune's results there. Face ids are attune's
track ids (already valid REP-155 ids; see attune.face.rep155), valid while the face is tracked: a
face's topics are advertised when it appears and withdrawn when it leaves /humans/faces/tracked.

Subscribes:  <faces_topic>       attune/Faces         ids, boxes, landmarks
             <expression_topic>  attune/Expression    expression, valence/arousal, action units
             <affect_topic>      attune/AffectState   valence/arousal (and the expression of faces that
                                                      no Expression source covers)
             <image_topic>       sensor_msgs/Image or CompressedImage, only with publish_cropped
Publishes:   /humans/faces/tracked            hri_msgs/IdsList, one per Faces message (also when empty)
             /humans/faces/<id>/roi           hri_msgs/NormalizedRegionOfInterest2D
             /humans/faces/<id>/landmarks     hri_msgs/FacialLandmarks (70 points; publish_landmarks)
             /humans/faces/<id>/expression    hri_msgs/Expression
             /humans/faces/<id>/facs          hri_msgs/FacialActionUnits (when the Expression has AUs)
             /humans/faces/<id>/cropped       sensor_msgs/Image rgb8 (only with publish_cropped: pixels)
             /diagnostics                     diagnostic_msgs/DiagnosticArray, once per second
Not covered: tf frames (face_<id>, gaze_<id>: no tf2 wheels for the pip path), bodies, voices and
persons (attune has no body tracker, voices or identities); see docs/rep155.md.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CompressedImage, Image

from attune.errors import ImageError
from attune.face.rep155 import cropped_face, face_id
from attune.imaging import DEFAULT_MAX_PIXELS, rgb8_from_compressed, rgb8_from_image
from attune.ros import qos
from attune.ros.diagnostics import node_status
from attune.ros.face_msgs import image_msg
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.rep155_msgs import (
    affect_expression_msg,
    expression_msg,
    facs_msg,
    hri_interfaces,
    landmarks_msg,
    roi_msg,
    tracked_msg,
)
from attune.ros.stamps import to_ns
from attune.ros.throttle import ThrottledReporter

NODE_NAME = 'hri_bridge_node'
FACES_NS = '/humans/faces'
#: Images kept to find the one a Faces message was computed from (publish_cropped).
_IMAGES_KEPT = 30

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('faces_topic', '/attune/faces', 'attune/Faces input.'),
    ParamSpec('expression_topic', '/attune/expression', 'attune/Expression input.'),
    ParamSpec('affect_topic', '/attune/affect', 'attune/AffectState input.'),
    ParamSpec('publish_landmarks', True, 'Publish /humans/faces/<id>/landmarks (70 points from the mesh).',
              dynamic=True),
    ParamSpec('publish_cropped', False, 'Publish /humans/faces/<id>/cropped: face pixels leave the node '
              '(off by default for privacy); subscribes to image_topic.'),
    ParamSpec('image_topic', '/camera/image_raw', 'Camera image topic (only with publish_cropped).'),
    ParamSpec('image_transport', 'raw', 'raw or compressed (only with publish_cropped).',
              choices=('raw', 'compressed')),
    ParamSpec('cropped_size', 128, 'Width and height of the cropped faces in pixels (REP-155 default 128).',
              min=16, max=1024),
    ParamSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'Larger images are rejected (memory and latency guard).',
              min=1, max=2**31 - 1),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class HriBridgeNode(AutostartLifecycleNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self._msgs = attune_msgs()
        self._hri = hri_interfaces()
        self._tracked_pub = self._diag_pub = self._diag_timer = None
        self._subs: list = []
        self._face_pubs: dict[str, dict[str, Any]] = {}   # REP-155 id -> {topic leaf: publisher}
        self._rep_ids: dict[str, str] = {}                # attune track id -> REP-155 id (tracked now)
        self._affect: dict[str, Any] = {}                 # attune track id -> latest AffectState
        self._expression_seen: set[str] = set()           # track ids an Expression source covers
        self._images: deque[tuple[int, Any]] = deque(maxlen=_IMAGES_KEPT)
        self._latency_ms: deque[float] = deque(maxlen=300)
        self._last_input: float | None = None
        self.counts = {'faces_messages': 0, 'expressions': 0, 'facs': 0, 'cropped': 0, 'untracked_dropped': 0}
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)
        self._bad_input = ThrottledReporter(self.get_logger().error)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        self._tracked_pub = self.create_lifecycle_publisher(self._hri.IdsList, f'{FACES_NS}/tracked', qos.RESULTS)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', qos.RESULTS)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)

    def activate(self) -> None:
        p, m = self.params, self._msgs
        self._subs = [
            self.create_subscription(m.Faces, p['faces_topic'], self._on_faces, qos.RESULTS),
            self.create_subscription(m.Expression, p['expression_topic'], self._on_expression, qos.RESULTS),
            self.create_subscription(m.AffectState, p['affect_topic'], self._on_affect, qos.RESULTS),
        ]
        if p['publish_cropped']:
            compressed = p['image_transport'] == 'compressed'
            self._subs.append(self.create_subscription(
                CompressedImage if compressed else Image, p['image_topic'], self._on_image, qos.SENSOR))
        self.get_logger().info(f"REP-155 faces from {p['faces_topic']} on {FACES_NS}/"
                               + (' (with cropped face images)' if p['publish_cropped'] else ''))

    def deactivate(self) -> None:
        for sub in self._subs:
            self.destroy_subscription(sub)
        self._subs = []
        self._forget_faces(set(self._face_pubs))

    def release(self) -> None:
        self.deactivate()
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None
        if self._tracked_pub is not None:
            self.destroy_lifecycle_publisher(self._tracked_pub)
            self._tracked_pub = None
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
            self._diag_pub = None

    # --- per-face publishers -----------------------------------------------------------------------
    def _face_publishers(self, rep_id: str) -> dict[str, Any]:
        pubs = self._face_pubs.get(rep_id)
        if pubs is None:
            hri, base = self._hri, f'{FACES_NS}/{rep_id}'
            pubs = {leaf: self.create_publisher(kind, f'{base}/{leaf}', qos.RESULTS) for leaf, kind in (
                ('roi', hri.NormalizedRegionOfInterest2D), ('landmarks', hri.FacialLandmarks),
                ('expression', hri.Expression), ('facs', hri.FacialActionUnits))}
            if self.params['publish_cropped']:
                pubs['cropped'] = self.create_publisher(Image, f'{base}/cropped', qos.RESULTS)
            self._face_pubs[rep_id] = pubs
        return pubs

    def _forget_faces(self, rep_ids: set[str]) -> None:
        """Withdraw the topics of faces no longer tracked (their ids are no longer valid)."""
        for rep_id in rep_ids:
            for pub in self._face_pubs.pop(rep_id, {}).values():
                self.destroy_publisher(pub)

    # --- callbacks -------------------------------------------------------------------------------
    def _guard(self, kind: str, fn: Any, msg: Any) -> None:
        if self._tracked_pub is None or not self._subs:
            return
        start = time.perf_counter()
        try:
            fn(msg)
        except Exception as exc:  # noqa: BLE001 - a bad message must not take the node down
            self._bad_input.report(kind, f'dropped {kind} message: {type(exc).__name__}: {exc}')
            return
        self._latency_ms.append((time.perf_counter() - start) * 1e3)
        self._last_input = time.monotonic()

    def _on_faces(self, msg: Any) -> None:
        self._guard('faces', self._handle_faces, msg)

    def _on_expression(self, msg: Any) -> None:
        self._guard('expression', self._handle_expression, msg)

    def _on_affect(self, msg: Any) -> None:
        self._guard('affect', self._handle_affect, msg)

    def _on_image(self, msg: Any) -> None:
        self._images.append((to_ns(msg.header.stamp), msg))

    def _handle_faces(self, msg: Any) -> None:
        rep_ids = {face.id: face_id(face.id) for face in msg.faces}
        if len(set(rep_ids.values())) != len(rep_ids):
            raise ValueError(f'face ids are not unique in one Faces message: {sorted(rep_ids)}')
        self._forget_faces(set(self._face_pubs) - set(rep_ids.values()))
        for gone in set(self._rep_ids) - set(rep_ids):
            self._affect.pop(gone, None)
            self._expression_seen.discard(gone)
        self._rep_ids = rep_ids
        self._tracked_pub.publish(tracked_msg(self._hri, msg.header, list(rep_ids.values())))
        rgb = self._image_for(msg) if self.params['publish_cropped'] and msg.faces else None
        for face in msg.faces:
            pubs = self._face_publishers(rep_ids[face.id])
            pubs['roi'].publish(roi_msg(self._hri, msg.header, face))
            if self.params['publish_landmarks']:
                landmarks = landmarks_msg(self._hri, msg.header, face, msg.image_width, msg.image_height)
                if landmarks is not None:
                    pubs['landmarks'].publish(landmarks)
            if rgb is not None and 'cropped' in pubs:
                box = (face.roi.xmin, face.roi.ymin, face.roi.xmax, face.roi.ymax)
                pubs['cropped'].publish(image_msg(cropped_face(rgb, box, self.params['cropped_size']),
                                                  'rgb8', msg.header))
                self.counts['cropped'] += 1
        self.counts['faces_messages'] += 1

    def _image_for(self, faces: Any) -> Any | None:
        """The RGB image the Faces message was computed from (same stamp), if it is still here."""
        stamp = to_ns(faces.header.stamp)
        for image_stamp, image in reversed(self._images):
            if image_stamp == stamp:
                decode = rgb8_from_compressed if isinstance(image, CompressedImage) else rgb8_from_image
                try:
                    return decode(image, max_pixels=self.params['max_image_pixels'])
                except ImageError as exc:
                    self._bad_input.report('image', f'no cropped faces for stamp {stamp} ns: {exc}')
                    return None
        return None

    def _handle_expression(self, msg: Any) -> None:
        rep_id = self._rep_ids.get(msg.face_id)
        if rep_id is None:  # the face is not tracked (any more): its REP-155 id is not valid
            self.counts['untracked_dropped'] += 1
            return
        self._expression_seen.add(msg.face_id)
        pubs = self._face_publishers(rep_id)
        pubs['expression'].publish(expression_msg(self._hri, msg.header, msg, self._affect.get(msg.face_id)))
        self.counts['expressions'] += 1
        facs = facs_msg(self._hri, msg.header, msg)
        if facs is not None:
            pubs['facs'].publish(facs)
            self.counts['facs'] += 1

    def _handle_affect(self, msg: Any) -> None:
        rep_id = self._rep_ids.get(msg.face_id)
        if rep_id is None:
            self.counts['untracked_dropped'] += 1
            return
        self._affect[msg.face_id] = msg
        if msg.face_id not in self._expression_seen and msg.dominant_emotion:
            self._face_publishers(rep_id)['expression'].publish(affect_expression_msg(self._hri, msg.header, msg))
            self.counts['expressions'] += 1

    def _publish_diagnostics(self) -> None:
        self._diag_pub.publish(node_status(
            self, 'REP-155 bridge', working='publishing /humans/faces', idle='no attune input in the last 5 s',
            last_input=self._last_input, processing_ms=self._latency_ms, bad_input=self._bad_input,
            values={'faces_tracked': len(self._rep_ids), **self.counts}))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = HriBridgeNode


def main(args: list[str] | None = None) -> int:
    return run_node(HriBridgeNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
