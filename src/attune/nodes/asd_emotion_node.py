"""asd_emotion_node: attune/Faces + camera images in, attune/AffectState per face out (pure perception).

A thin lifecycle node over attune.affect: the ASD emotion model (ResNet on the face crop + GCN on the
FaceMesh landmarks, ONNX) runs per tracked face at most `rate_hz` times per second, on images matched
to their Faces by exact header stamp; outputs are calibrated per child (neutral baseline) and smoothed
per track. The name-call protocol, which uses these estimates for the affect after a call, runs in
the interaction node (attune.behavior.protocol; docs/asd_emotion.md).

Subscribes:  <faces_topic>    attune/Faces (reliable, depth 30)
             <image_topic>    sensor_msgs/Image or CompressedImage (image_transport)
             <person_matches_topic>  attune/PersonMatches (identity_node): a known child's baseline
                              follows them across track loss (a returning child's new track reuses it)
Publishes:   /attune/affect   attune/AffectState (source "asd_emotion"): one per classified face
             /diagnostics     diagnostic_msgs/DiagnosticArray, once per second
Writes:      <session_log_dir>/asd_calibration_<time>[_<session_name>].jsonl (neutral baselines) when set
"""
from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from attune.affect.estimator import AffectEstimator, EstimatorOptions
from attune.face.types import FaceFrame
from attune.identity.face_people import PERSON_KEY_PREFIX, FacePeople
from attune.jsonl_log import JsonlLog
from attune.ros import msg_affect_state, msg_person_matches, qos
from attune.ros.faces_join import FacesJoinNode, faces_join_parameters
from attune.ros.image_input import image_input_parameters
from attune.ros.msg_person_matches import person_matches_parameter
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import FAILED, Diagnostics
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from typing import TypeAlias

    from sensor_msgs.msg import CompressedImage, Image

    from attune.face.types import TrackedFace
    from attune.msg import Faces, PersonMatches

    #: What the node offers the join for a Faces message: the message, its frame and its faces due.
    _JoinItem: TypeAlias = tuple[Faces, FaceFrame, list[TrackedFace]]

NODE_NAME = 'asd_emotion_node'


class CalibrationLog(JsonlLog):
    """asd_calibration_<time>[_<session>].jsonl: session_start, one record per completed baseline."""

    PREFIX = 'asd_calibration'

PARAMETERS: tuple[ParamSpec, ...] = (
    *faces_join_parameters(),
    *image_input_parameters(topic_help='Camera image topic the Faces were computed from.', queue_depth=5),
    ParamSpec('model_path', '', "The model's ONNX file; '' = the shipped asd_emotion.onnx."),
    ParamSpec('threads', 1, 'onnxruntime threads.', min=1, max=16),
    ParamSpec('teacher_fusion', True, "Pool the network's output with its teacher's (the expression head) as "
              'the model file says (docs/asd_emotion.md); false: the network alone.'),
    ParamSpec('rate_hz', 5.0, 'Most model runs per face track and second (image stamps); faces in between '
              'are not classified.', min=0.1, max=60.0, dynamic=True),
    ParamSpec('smoothing_tau_s', 0.5, 'Time constant of the per-track exponential average of the emotion '
              'probabilities (0: no smoothing).', min=0.0, max=60.0, dynamic=True),
    ParamSpec('max_abs_yaw_deg', 60.0, 'Faces turned further (yaw or pitch) are not classified.', min=0.0,
              max=90.0, dynamic=True),
    ParamSpec('calibration_s', 5.0, "Per-child neutral baseline: collected over a face track's first seconds "
              '(the child settled and relaxed), then outputs are corrected toward a neutral adult face; 0: off.',
              min=0.0, max=600.0),
    ParamSpec('calibration_max_gain', 4.0, 'Largest correction factor per emotion of the calibration.',
              min=1.0, max=100.0),
    ParamSpec('session_log_dir', '', "Folder of the JSONL calibration log (each child's neutral baseline); '' = "
              'no log.'),
    ParamSpec('session_name', '', 'Added to the calibration log file name (e.g. a session or child code).'),
    person_matches_parameter("a known child's neutral baseline follows them across track loss"),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

#: Faces in: reliable, a second of a 30 fps stream (every frame can be due for classification).
FACES_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=30, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)

def estimator_options(p: dict[str, Any]) -> EstimatorOptions:
    return EstimatorOptions(rate_hz=p['rate_hz'], smoothing_tau_s=p['smoothing_tau_s'],
                            max_abs_yaw_deg=p['max_abs_yaw_deg'], calibration_s=p['calibration_s'],
                            calibration_max_gain=p['calibration_max_gain'], model_path=p['model_path'],
                            threads=p['threads'], teacher_fusion=p['teacher_fusion'])


class AsdEmotionNode(FacesJoinNode):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('ASD emotion', working='estimating', idle='no faces in the last {s:g} s')
    COUNTERS = ('faces_messages', 'affect_published')
    FACES_QOS = FACES_QOS
    UNMATCHED_FACES_TOLERANCE = 30  # a few are normal (images dropped by sensor QoS)

    def __init__(self, **kwargs: Any) -> None:
        self._estimator: AffectEstimator | None = None
        self._log: CalibrationLog | None = None
        self._people = FacePeople()
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        p = self.params
        self._estimator = AffectEstimator(estimator_options(p))
        if p['session_log_dir']:
            self._log = CalibrationLog(p['session_log_dir'], p['session_name'], self._log_header())
        self._affect_pub = self.add_publisher(self._msgs.AffectState, '/attune/affect', qos.RESULTS)
        if self._log is not None:
            self.get_logger().info(f'session log: {self._log.path}')

    def activate(self) -> None:
        p = self.params
        self.subscribe_faces()
        self.subscribe_images()
        if p['person_matches_topic']:
            self.add_subscription(self._msgs.PersonMatches, p['person_matches_topic'], self._on_matches, qos.RESULTS)
        self.get_logger().info(f"affect from {p['faces_topic']} and {p['image_transport']} images on "
                               f"{p['image_topic']}")

    def release(self) -> None:
        self._estimator = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_header(self) -> dict[str, Any]:
        p = self.params
        estimator = self._estimator
        model = {'path': str(estimator.model.path), **dataclasses.asdict(estimator.model.info)} if estimator else {}
        return {'node': self.get_name(), 'model': model,
                'affect': {name: p[name] for name in ('rate_hz', 'smoothing_tau_s', 'max_abs_yaw_deg',
                                                      'calibration_s', 'calibration_max_gain', 'teacher_fusion')}}

    # --- parameters ------------------------------------------------------------------------------
    def parameters_changed(self, names: set[str]) -> None:
        if self._estimator is not None and names & {'rate_hz', 'smoothing_tau_s', 'max_abs_yaw_deg'}:
            self._estimator.set_options(estimator_options(self.params))

    # --- inputs ----------------------------------------------------------------------------------
    def on_faces(self, msg: Faces) -> None:
        if self._sync is None or self._estimator is None:
            return
        stamp = to_ns(msg.header.stamp)
        frame = self.decode_faces(msg)
        if frame is None:
            return
        self.count('faces_messages')
        self.last_input = time.monotonic()
        due, _ = self._estimator.due(frame)
        item = (msg, frame, due)
        image = self.join_faces(stamp, item)
        if image is not None:
            self._classify(item, image)

    def process_joined(self, faces: _JoinItem, image: Image | CompressedImage) -> None:
        self._classify(faces, image)

    def _on_matches(self, msg: PersonMatches) -> None:
        """A track first identified as a known child shares the child's baseline: it adopts theirs, or
        gives them its own (attune.affect.calibration.NeutralCalibration.link)."""
        if self._estimator is None:
            return
        for track, key in self._people.update(msg_person_matches.from_msg(msg), to_ns(msg.header.stamp) * 1e-9):
            reused = self._estimator.calibration.link(track, key) is not None
            self._log_write({'type': 'calibration_link', 'face_id': track,
                             'person_id': key.removeprefix(PERSON_KEY_PREFIX), 'baseline_shared': reused})

    # --- work ------------------------------------------------------------------------------------
    def _classify(self, faces_item: _JoinItem, image_msg: Image | CompressedImage) -> None:
        faces_msg, frame, due = faces_item
        estimator = self._estimator
        if estimator is None or not due:
            return
        start = time.perf_counter()
        stamp = frame.stamp_ns
        rgb = self.decode(image_msg, stamp, size=(frame.width, frame.height))
        if rgb is None:
            return
        outcome = self.attempt('processing', f'dropped frame (stamp {stamp} ns)', estimator.estimate, rgb, frame, due)
        if outcome is FAILED:
            return
        estimates, skipped = outcome
        for face in skipped:
            self.bad_input.report('bad_face', f'skipped face {face.track} (stamp {stamp} ns): {face.reason}')
        for track, baseline in estimator.completed:
            self.get_logger().info(f'face {track}: neutral baseline from {baseline.samples} outputs')
            person = self._people.key(track).removeprefix(PERSON_KEY_PREFIX) if self._people.match(track) else ''
            self._log_write({'type': 'calibration', 'face_id': track, 'person_id': person or None,
                             'samples': baseline.samples,
                             'start_ns': baseline.start_ns, 'end_ns': baseline.end_ns,
                             'baseline': [round(float(x), 4) for x in baseline.probabilities]})
        for estimate in estimates:
            self._affect_pub.publish(msg_affect_state.to_msg(msg_affect_state.from_estimate(estimate.track, estimate),
                                                             faces_msg.header))
            self.count('affect_published')
        self.processing_ms.append((time.perf_counter() - start) * 1e3)

    def _log_write(self, record: dict[str, Any]) -> None:
        if self._log is None:
            return
        try:
            self._log.write(record)
        except (OSError, ValueError) as exc:
            self.bad_input.report('session_log', f'session log not written: {exc}')

    def diagnostic_values(self) -> dict[str, Any]:
        values = super().diagnostic_values()
        if self._log is not None:
            values['session_log'] = str(self._log.path)
        return values


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = AsdEmotionNode


def main(args: list[str] | None = None) -> int:
    return run_node(AsdEmotionNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
