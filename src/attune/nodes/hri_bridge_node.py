"""hri_bridge_node: attune's faces, expressions and affect as REP-155 (ROS4HRI) topics.

ROS4HRI tools (engagement estimation, the person manager, libhri/pyhri, the RViz plugins) read people
from the /humans/ namespace; this node republishes attune's results there. Face ids are attune's
track ids (already valid REP-155 ids; see attune.face.rep155), valid while the face is tracked: a
face's topics are advertised when it appears and withdrawn when it leaves /humans/faces/tracked.

Subscribes:  <faces_topic>       attune/Faces         ids, boxes, landmarks
             <expression_topic>  attune/Expression    expression, valence/arousal, action units
             <affect_topic>      attune/AffectState   valence/arousal (and the expression of faces that
                                                      no Expression source covers)
             <person_matches_topic>  attune/PersonMatches  who each face is (identity_node)
             <image_topic>       sensor_msgs/Image or CompressedImage, only with publish_cropped
Publishes:   /humans/faces/tracked            hri_msgs/IdsList, one per Faces message (also when empty)
             /humans/faces/<id>/roi           hri_msgs/NormalizedRegionOfInterest2D
             /humans/faces/<id>/landmarks     hri_msgs/FacialLandmarks (70 points; publish_landmarks)
             /humans/faces/<id>/expression    hri_msgs/Expression
             /humans/faces/<id>/facs          hri_msgs/FacialActionUnits (when the Expression has AUs)
             /humans/faces/<id>/cropped       sensor_msgs/Image rgb8 (only with publish_cropped: pixels)
             /humans/persons/...              enrolled people matched to tracked faces (attune.ros.rep155_persons)
             /humans/candidate_matches        hri_msgs/IdsMatch, face -> person
             /diagnostics                     diagnostic_msgs/DiagnosticArray, once per second
Not covered: tf frames (face_<id>, gaze_<id>: no tf2 wheels for the pip path), bodies and voices
(attune has no body tracker and no audio); see docs/rep155.md.
"""
from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rclpy.publisher import Publisher
from sensor_msgs.msg import CompressedImage, Image

from attune.affect.observation import AffectObservation
from attune.errors import AttuneError, ImageError
from attune.face.rep155 import cropped_face, face_id
from attune.ros import msg_affect_state, msg_expression, msg_person_matches, qos
from attune.ros.image_input import decoder_for, image_input_parameters
from attune.ros.images import image_msg
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
from attune.ros.rep155_persons import Persons
from attune.ros.shell import FAILED, Diagnostics, NodeShell
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt
    from hri_msgs.msg import IdsList

    from attune.msg import AffectState, Expression, Faces, PersonMatches

NODE_NAME = 'hri_bridge_node'
FACES_NS = '/humans/faces'
#: Images kept to find the one a Faces message was computed from (publish_cropped).
_IMAGES_KEPT = 30
#: The message type of an input callback.
_Msg = TypeVar('_Msg')

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('faces_topic', '/attune/faces', 'attune/Faces input.'),
    ParamSpec('expression_topic', '/attune/expression', 'attune/Expression input.'),
    ParamSpec('affect_topic', '/attune/affect', 'attune/AffectState input.'),
    ParamSpec('person_matches_topic', '/attune/person_matches', 'attune/PersonMatches input (identity_node): '
              'persons under /humans/persons; \'\' = no persons.'),
    ParamSpec('publish_landmarks', True, 'Publish /humans/faces/<id>/landmarks (70 points from the mesh).',
              dynamic=True),
    ParamSpec('publish_cropped', False, 'Publish /humans/faces/<id>/cropped: face pixels leave the node '
              '(off by default for privacy); subscribes to image_topic.'),
    *image_input_parameters(topic_help='Camera image topic the Faces were computed from (only with '
                            'publish_cropped).', queue_depth=5),
    ParamSpec('cropped_size', 128, 'Width and height of the cropped faces in pixels (REP-155 default 128).',
              min=16, max=1024),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class HriBridgeNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('REP-155 bridge', working='publishing /humans/faces',
                              idle='no attune input in the last {s:g} s')
    COUNTERS: ClassVar[tuple[str, ...]] = ('faces_messages', 'expressions', 'facs', 'cropped', 'person_matches',
                                           'untracked_dropped')

    def __init__(self, **kwargs: Any) -> None:
        self._hri = hri_interfaces()
        self._tracked_pub: Publisher[IdsList] | None = None
        self._persons: Persons | None = None
        self._face_pubs: dict[str, dict[str, Any]] = {}   # REP-155 id -> {topic leaf: publisher}
        self._rep_ids: dict[str, str] = {}                # attune track id -> REP-155 id (tracked now)
        self._affect: dict[str, AffectObservation] = {}           # attune track id -> latest AffectState
        self._expression_seen: set[str] = set()           # track ids an Expression source covers
        self._images: deque[tuple[int, Image | CompressedImage]] = deque(maxlen=_IMAGES_KEPT)
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        self._tracked_pub = self.add_publisher(self._hri.IdsList, f'{FACES_NS}/tracked', qos.RESULTS)
        if self.params['person_matches_topic']:
            self._persons = Persons(self, self._hri)

    def activate(self) -> None:
        p, m = self.params, self._msgs
        self.add_subscription(m.Faces, p['faces_topic'], self._on_faces, qos.RESULTS)
        self.add_subscription(m.Expression, p['expression_topic'], self._on_expression, qos.RESULTS)
        self.add_subscription(m.AffectState, p['affect_topic'], self._on_affect, qos.RESULTS)
        if self._persons is not None:
            self.add_subscription(m.PersonMatches, p['person_matches_topic'], self._on_person_matches, qos.RESULTS)
        if p['publish_cropped']:
            compressed = p['image_transport'] == 'compressed'
            image_type: type[Image | CompressedImage] = CompressedImage if compressed else Image
            self.add_subscription(image_type, p['image_topic'], self._on_image,
                                  qos.image_input(p['reliable_input'], p['input_queue_depth']))
        self.get_logger().info(f"REP-155 faces from {p['faces_topic']} on {FACES_NS}/"
                               + (' (with cropped face images)' if p['publish_cropped'] else ''))

    def deactivate(self) -> None:
        # Per-face publishers come and go with the faces, so the shell does not track them.
        self._forget_faces(set(self._face_pubs))
        self._rep_ids, self._affect, self._expression_seen = {}, {}, set()
        self._images.clear()

    def release(self) -> None:
        self.deactivate()
        self._tracked_pub = None
        if self._persons is not None:
            self._persons.close()
            self._persons = None

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
    def _guard(self, kind: str, step: Callable[[_Msg], None], msg: _Msg) -> None:
        if self._tracked_pub is None:
            return
        start = time.perf_counter()
        if self.attempt(kind, f'dropped {kind} message', step, msg) is not FAILED:
            self.processed(start)

    def _on_faces(self, msg: Faces) -> None:
        self._guard('faces', self._handle_faces, msg)

    def _on_expression(self, msg: Expression) -> None:
        self._guard('expression', self._handle_expression, msg)

    def _on_affect(self, msg: AffectState) -> None:
        self._guard('affect', self._handle_affect, msg)

    def _on_person_matches(self, msg: PersonMatches) -> None:
        self._guard('person_matches', self._handle_person_matches, msg)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        self._images.append((to_ns(msg.header.stamp), msg))

    def _handle_faces(self, msg: Faces) -> None:
        if self._tracked_pub is None:  # _guard passes messages on only once configured
            raise AttuneError('Faces reached the hri bridge before it was configured')
        rep_ids = {face.id: face_id(face.id) for face in msg.faces}
        if len(set(rep_ids.values())) != len(rep_ids):
            raise ValueError(f'face ids are not unique in one Faces message: {sorted(rep_ids)}')
        self._forget_faces(set(self._face_pubs) - set(rep_ids.values()))
        for gone in set(self._rep_ids) - set(rep_ids):
            self._affect.pop(gone, None)
            self._expression_seen.discard(gone)
        self._rep_ids = rep_ids
        self._tracked_pub.publish(tracked_msg(self._hri, msg.header, list(rep_ids.values())))
        if self._persons is not None:
            self._persons.faces(msg.header, set(rep_ids.values()))
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
                self.count('cropped')
        self.count('faces_messages')

    def _image_for(self, faces: Faces) -> npt.NDArray[Any] | None:
        """The RGB image the Faces message was computed from (same stamp), if it is still here."""
        stamp = to_ns(faces.header.stamp)
        for image_stamp, image in reversed(self._images):
            if image_stamp == stamp:
                try:
                    return decoder_for(image)(image, max_pixels=self.params['max_image_pixels'])
                except ImageError as exc:
                    self.bad_input.report('image', f'no cropped faces for stamp {stamp} ns: {exc}')
                    return None
        return None

    def _handle_expression(self, msg: Expression) -> None:
        rep_id = self._rep_ids.get(msg.face_id)
        if rep_id is None:  # the face is not tracked (any more): its REP-155 id is not valid
            self.count('untracked_dropped')
            return
        self._expression_seen.add(msg.face_id)
        pubs = self._face_publishers(rep_id)
        expression = msg_expression.from_msg(msg)
        pubs['expression'].publish(expression_msg(self._hri, msg.header, expression, self._affect.get(msg.face_id)))
        self.count('expressions')
        facs = facs_msg(self._hri, msg.header, expression)
        if facs is not None:
            pubs['facs'].publish(facs)
            self.count('facs')

    def _handle_person_matches(self, msg: PersonMatches) -> None:
        if self._persons is None:  # subscribed to only when person_matches_topic made them
            raise AttuneError('PersonMatches reached the hri bridge without a person_matches_topic')
        self._persons.matches(msg.header, msg_person_matches.from_msg(msg), self._rep_ids)
        self.count('person_matches')

    def _handle_affect(self, msg: AffectState) -> None:
        rep_id = self._rep_ids.get(msg.face_id)
        if rep_id is None:
            self.count('untracked_dropped')
            return
        affect = self._affect[msg.face_id] = msg_affect_state.from_msg(msg)
        if msg.face_id not in self._expression_seen and affect.dominant:
            self._face_publishers(rep_id)['expression'].publish(affect_expression_msg(self._hri, msg.header, affect))
            self.count('expressions')

    def diagnostic_values(self) -> dict[str, Any]:
        return {'faces_tracked': len(self._rep_ids), **self.counts}


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = HriBridgeNode


def main(args: list[str] | None = None) -> int:
    return run_node(HriBridgeNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
