"""expression_node: attune/Faces + camera images in, attune/Expression per face out.

A thin lifecycle node over attune.expression: action units from the FaceMesh landmarks (normalized
for head pose and face size), EMFACS rules, the FER2013 CNN on a landmark-aligned face crop, attune's
expression head over AUs + CNN features (the default output, calibrated per person), the continual
learner, and their weighted ensemble. Faces and images are matched by exact header stamp
(attune.expression.sync; bounded buffers, drops counted in /diagnostics). With `cnn` false the node
needs no images and works from Faces alone.

Subscribes:  <faces_topic>   attune/Faces (reliable)
             <image_topic>   sensor_msgs/Image or CompressedImage (image_transport), when `cnn`
             <teach_topic>   attune/ExpressionTeach: "this face, now, is <label>" for the learner, or
                             "neutral now" (calibrate) for per-person calibration
             <person_matches_topic>  attune/PersonMatches (identity_node): a known person's calibration
                             follows them across track loss (a returning person's new track reuses it)
Publishes:   /attune/expression           attune/Expression per analyzed face, source 'ensemble'
             /attune/expression/<source>  the same per source (rules, cnn, head, learner), when publish_sources
             /diagnostics                 diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.errors import AttuneError
from attune.expression.analyzer import SOURCES, AnalyzerOptions, ExpressionAnalyzer, FaceInput, load_learner
from attune.expression.calibration import CalibrationOptions
from attune.expression.learner import ContinualLearner
from attune.expression.lessons import CandidateFace, LessonCollector
from attune.face.types import FaceFrame
from attune.identity.face_people import FacePeople
from attune.ros import msg_expression, msg_expression_teach, msg_person_matches, qos
from attune.ros.faces_join import FacesJoinNode, JoinedFaces, faces_join_parameters
from attune.ros.image_input import image_input_parameters
from attune.ros.msg_person_matches import person_matches_parameter
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import FAILED, Diagnostics
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from rclpy.publisher import Publisher
    from sensor_msgs.msg import CompressedImage, Image

    from attune.expression.lessons import Lesson
    from attune.msg import Expression, ExpressionTeach, Faces, PersonMatches

NODE_NAME = 'expression_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    *faces_join_parameters(),
    *image_input_parameters(topic_help='Camera image topic the Faces were computed from (for the CNN).',
                            queue_depth=5),
    ParamSpec('cnn', True, 'Run the FER2013 CNN (needs images); false: AUs and rules from Faces alone.'),
    ParamSpec('model_path', '', "The CNN's ONNX file; '' = the shipped fer_minixception.onnx."),
    ParamSpec('cnn_threads', 1, 'onnxruntime threads for the CNN.', min=1, max=16),
    ParamSpec('head_path', '', "The expression head's ONNX file; '' = the shipped expression_head.onnx."),
    ParamSpec('rules_weight', 0.0, 'Ensemble weight of the rule-based (AU) expression.', min=0.0, max=10.0,
              dynamic=True),
    ParamSpec('cnn_weight', 0.0, 'Ensemble weight of the FER CNN alone.', min=0.0, max=10.0, dynamic=True),
    ParamSpec('head_weight', 1.0, 'Ensemble weight of the expression head (AUs + CNN features; the default '
              'model).', min=0.0, max=10.0, dynamic=True),
    ParamSpec('learner_weight', 1.0, 'Ensemble weight of the continual learner (used once it knows two '
              'classes).', min=0.0, max=10.0, dynamic=True),
    ParamSpec('neutral_calibration', False, 'Per-track neutral baseline: AUs relative to the person\'s own '
              'relaxed face once it has been seen (instead of the population neutral).'),
    ParamSpec('person_calibration', True, 'Per-person neutral calibration: learn each face\'s neutral from its '
              'first relaxed, frontal seconds in view (or an operator\'s "neutral now" on teach_topic) and report '
              'expression relative to it (Expression.calibrated says when).'),
    ParamSpec('calibration_warmup_s', 3.0, 'Seconds after a face appears in which its neutral frames are '
              'collected (longer if too few looked neutral).', min=0.0, max=600.0),
    ParamSpec('calibration_min_frames', 5, 'Neutral-looking frontal frames needed before results are '
              'calibrated.', min=1, max=1000),
    ParamSpec('calibration_max_abs_yaw_deg', 20.0, 'Only faces turned less than this (yaw and pitch) count as '
              'frontal for calibration.', min=0.0, max=90.0),
    ParamSpec('calibration_recheck_s', 12.0, 'Until this many seconds after a face appears, its latest 30 '
              'neutral-looking frames replace its reference when clearly less expressive (a closed-mouth '
              'greeting smile the neutral gate let through; 0: never).', min=0.0, max=3600.0),
    ParamSpec('calibration_fallback_s', 10.0, 'Seconds after a face appears after which a face none of whose '
              'frames looked neutral (a resting face read as smiling, lips apart at rest) is calibrated on its '
              'least expressive frontal frames; frames that look neutral later replace that (0: never).',
              min=0.0, max=3600.0),
    ParamSpec('max_abs_yaw_deg', 60.0, 'Faces turned further (yaw or pitch) are not analyzed.', min=0.0,
              max=90.0, dynamic=True),
    ParamSpec('publish_sources', False, 'Also publish each source on /attune/expression/<source>.', dynamic=True),
    ParamSpec('teach_topic', '/attune/expression/teach', 'attune/ExpressionTeach topic for personalization.'),
    ParamSpec('learner_path', '', "Learner file (.npz) loaded at start and saved after each lesson; '' = "
              'in memory only.'),
    ParamSpec('learner_shrinkage', 0.1, "Shrinkage of the learner's shared covariance toward the identity "
              '(streaming LDA; more for fewer taught frames).', min=0.0, max=0.99),
    person_matches_parameter('per-person calibration follows a known person across track loss'),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def analyzer_options(p: dict[str, Any]) -> AnalyzerOptions:
    calibration = (CalibrationOptions(warmup_s=p['calibration_warmup_s'], min_frames=p['calibration_min_frames'],
                                      max_frames=max(90, p['calibration_min_frames']),
                                      fallback_s=p['calibration_fallback_s'], recheck_s=p['calibration_recheck_s'])
                   if p['person_calibration'] else None)
    return AnalyzerOptions(cnn=p['cnn'], calibration=p['neutral_calibration'], model_path=p['model_path'],
                           head_path=p['head_path'], threads=p['cnn_threads'], weights=ensemble_weights(p),
                           person_calibration=calibration)


def ensemble_weights(p: dict[str, Any]) -> dict[str, float]:
    return {s: float(p[f'{s}_weight']) for s in SOURCES}


class ExpressionNode(FacesJoinNode):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('expression', working='analyzing', idle='no faces analyzed in the last {s:g} s')
    COUNTERS = ('frames_processed', 'expressions_published', 'faces_skipped_pose', 'faces_without_landmarks')

    def __init__(self, **kwargs: Any) -> None:
        self._analyzer: ExpressionAnalyzer | None = None
        self._lessons = LessonCollector()
        self._pending_calibration: Lesson | None = None   # a "neutral now" waiting for its face
        self._people = FacePeople()
        self._source_pubs: dict[str, Publisher[Expression]] = {}
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        p = self.params
        learner = load_learner(Path(p['learner_path']).expanduser()) if p['learner_path'] else None
        if learner is None:
            learner = ContinualLearner(shrinkage=p['learner_shrinkage'])
        self._analyzer = ExpressionAnalyzer(analyzer_options(p), learner)
        self._expr_pub = self.add_publisher(self._msgs.Expression, '/attune/expression', qos.RESULTS)
        self._source_pubs = {s: self.add_publisher(self._msgs.Expression, f'/attune/expression/{s}', qos.RESULTS)
                             for s in SOURCES}

    def activate(self) -> None:
        p = self.params
        self.subscribe_faces()
        self.add_subscription(self._msgs.ExpressionTeach, p['teach_topic'], self._on_teach, qos.RESULTS)
        if p['cnn']:
            self.subscribe_images()
        if p['person_matches_topic']:
            self.add_subscription(self._msgs.PersonMatches, p['person_matches_topic'], self._on_matches, qos.RESULTS)
        self.get_logger().info(f"expressions from {p['faces_topic']}"
                               + (f" and {p['image_transport']} images on {p['image_topic']}" if p['cnn'] else
                                  ' (no CNN: AUs and rules only)'))

    def release(self) -> None:
        self._analyzer = None
        self._source_pubs = {}

    # --- parameters ------------------------------------------------------------------------------
    def parameters_changed(self, names: set[str]) -> None:
        if self._analyzer is not None and any(name.endswith('_weight') for name in names):
            self._analyzer.set_weights(ensemble_weights(self.params))

    # --- callbacks -------------------------------------------------------------------------------
    def on_faces(self, msg: Faces) -> None:
        if self._sync is None:
            return
        frame = self.decode_faces(msg)
        if frame is None:
            return
        if not self.params['cnn']:
            self._process(msg, frame, None)
            return
        image = self.join_faces(to_ns(msg.header.stamp), JoinedFaces(msg, frame))
        if image is not None and msg.faces:  # an empty Faces only frees its waiting image: nothing to analyze
            self._process(msg, frame, image)

    def process_joined(self, faces: JoinedFaces, image: Image | CompressedImage) -> None:
        self._process(faces.msg, faces.frame, image)

    def _on_teach(self, msg: ExpressionTeach) -> None:
        try:
            lesson = msg_expression_teach.from_msg(msg)
        except ValueError as exc:
            self.bad_input.report('teach', f'ignored ExpressionTeach: {exc}')
            return
        if not self.params['cnn']:
            self.bad_input.report('teach', 'ignored ExpressionTeach: the learner and calibration need the CNN '
                                  '(cnn: true)')
            return
        if lesson.label == 'neutral' and self._analyzer is not None and self._analyzer.calibrator is not None:
            self._pending_calibration = lesson
            self.get_logger().info(f"calibrating face '{lesson.face_id or 'largest'}' to its neutral face for "
                                   f'{lesson.duration_ns / 1e9:g} s')
        elif lesson.calibrate_only:
            self.bad_input.report('teach', 'ignored "neutral now": person_calibration is off')
        if lesson.calibrate_only:
            return
        previous = self._lessons.start(lesson.face_id, lesson.label, lesson.start_ns, lesson.duration_ns)
        if previous is not None:
            self._finish_lesson(previous)
        self.get_logger().info(f"learning '{lesson.label}' from face '{lesson.face_id or 'largest'}' for "
                               f'{lesson.duration_ns / 1e9:g} s')

    def _on_matches(self, msg: PersonMatches) -> None:
        """Who each face is: a track first identified as a known person moves its calibration to the
        person, or reuses the person's when they had one (attune.identity.face_people)."""
        moved = self._people.update(msg_person_matches.from_msg(msg), to_ns(msg.header.stamp) * 1e-9)
        calibrator = self._analyzer.calibrator if self._analyzer is not None else None
        for track, key in moved:
            if calibrator is not None:
                calibrator.rekey(track, key)

    def _start_calibration(self, inputs: list[FaceInput], areas: list[float]) -> None:
        """Hand a pending "neutral now" to the calibrator, for its face or (no id) the largest one in view."""
        lesson = self._pending_calibration
        if lesson is None:
            return
        key = lesson.face_id or (inputs[int(max(range(len(areas)), key=areas.__getitem__))].track if inputs else '')
        key = self._people.key(key) if key else ''
        if key and self._analyzer is not None and self._analyzer.calibrator is not None:
            self._analyzer.calibrator.teach(key, lesson.start_ns, lesson.duration_ns)
            self._pending_calibration = None

    def _process(self, faces_msg: Faces, frame: FaceFrame, image_msg: Image | CompressedImage | None) -> None:
        analyzer = self._analyzer
        if analyzer is None:
            return
        start = time.perf_counter()
        stamp = to_ns(faces_msg.header.stamp)
        rgb = None
        if image_msg is not None:
            rgb = self.decode(image_msg, stamp, size=(faces_msg.image_width, faces_msg.image_height))
            if rgb is None:
                return
        limit, frontal_limit = self.params['max_abs_yaw_deg'], self.params['calibration_max_abs_yaw_deg']
        inputs, boxes = [], []
        for face in frame.faces:
            if face.observation.landmarks is None:
                self.count('faces_without_landmarks')  # the face node runs without landmarks or did not publish them
                continue
            pose = face.head_pose
            if pose is not None and (abs(pose.yaw) > limit or abs(pose.pitch) > limit):
                self.count('faces_skipped_pose')
                continue
            frontal = pose is None or (abs(pose.yaw) <= frontal_limit and abs(pose.pitch) <= frontal_limit)
            key = self._people.key(face.id)
            inputs.append(FaceInput(face.id, face.observation.landmarks, frontal=frontal, key=key))
            boxes.append(face.box.width * face.box.height)
        if self._pending_calibration is not None:
            self._start_calibration(inputs, boxes)
        results = self.attempt('processing', f'dropped frame (stamp {stamp} ns)', analyzer.analyze, rgb, inputs,
                               frame.width, frame.height, stamp)
        if results is FAILED:
            return
        candidates = []
        for face_input, area, result in zip(inputs, boxes, results):
            if isinstance(result, ValueError):
                self.bad_input.report('bad_face', f'skipped face {face_input.track} (stamp {stamp} ns): {result}')
                continue
            self._expr_pub.publish(msg_expression.to_msg(msg_expression.from_face_expression(result),
                                                         faces_msg.header))
            if self.params['publish_sources']:
                for source in result.sources:
                    self._source_pubs[source].publish(msg_expression.to_msg(
                        msg_expression.from_face_expression(result, source), faces_msg.header))
            candidates.append(CandidateFace(face_input.track, area, result.features))
            self.count('expressions_published')
        finished = self._lessons.offer(stamp, candidates)
        if finished is not None:
            self._finish_lesson(finished)
        self.processed(start, 'frames_processed')

    def _finish_lesson(self, lesson: Lesson) -> None:
        learner = self._analyzer.learner if self._analyzer is not None else None
        if learner is None:
            return
        if len(lesson.samples) < 2:
            self.get_logger().warning(f"lesson '{lesson.label}' collected {len(lesson.samples)} frame(s) of face "
                                      f"'{lesson.face_id or lesson.face_seen or 'largest'}'; at least 2 are needed, "
                                      'nothing learned')
            return
        try:
            import numpy as np

            learner.learn(lesson.label, np.stack(lesson.samples))
            path = self.params['learner_path']
            if path:
                learner.save(Path(path).expanduser())
        except (ValueError, AttuneError) as exc:
            self.get_logger().error(f"lesson '{lesson.label}' not learned: {exc}")
            return
        self.get_logger().info(f"learned '{lesson.label}' from {len(lesson.samples)} frames; classes: "
                               f"{', '.join(learner.labels)}")

    def diagnostic_values(self) -> dict[str, Any]:
        values = super().diagnostic_values()
        if self._analyzer is not None and self._analyzer.learner is not None:
            values['learner_classes'] = ','.join(self._analyzer.learner.labels)
        if self._analyzer is not None and self._analyzer.calibrator is not None:
            values['calibrated_faces'] = self._analyzer.calibrator.calibrated_keys()
        return values


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = ExpressionNode


def main(args: list[str] | None = None) -> int:
    return run_node(ExpressionNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
