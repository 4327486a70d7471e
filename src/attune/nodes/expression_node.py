"""expression_node: attune/Faces + camera images in, attune/Expression per face out.

A thin lifecycle node over attune.expression: action units from the FaceMesh landmarks (normalized
for head pose and face size), EMFACS rules, the FER2013 CNN on a landmark-aligned face crop, attune's
expression head over AUs + CNN features (the default output), the continual learner, and their
weighted ensemble. Faces and images are matched by exact header stamp
(attune.expression.sync; bounded buffers, drops counted in /diagnostics). With `cnn` false the node
needs no images and works from Faces alone.

Subscribes:  <faces_topic>   attune/Faces (reliable)
             <image_topic>   sensor_msgs/Image or CompressedImage (image_transport), when `cnn`
             <teach_topic>   attune/ExpressionTeach: "this face, now, is <label>" for the learner
Publishes:   /attune/expression           attune/Expression per analyzed face, source 'ensemble'
             /attune/expression/<source>  the same per source (rules, cnn, head, learner), when publish_sources
             /diagnostics                 diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CompressedImage, Image

from attune.errors import AttuneError, ImageError
from attune.expression.analyzer import SOURCES, AnalyzerOptions, ExpressionAnalyzer, FaceInput, load_learner
from attune.expression.calibration import CalibrationOptions
from attune.expression.learner import ContinualLearner
from attune.expression.lessons import CandidateFace, LessonCollector
from attune.expression.sync import ExactStampSynchronizer
from attune.imaging import DEFAULT_MAX_PIXELS, rgb8_from_compressed, rgb8_from_image
from attune.ros import qos
from attune.ros.diagnostics import node_status
from attune.ros.expression_msgs import expression_to_msg, lesson_from_msg
from attune.ros.face_msgs import faces_from_msg
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.stamps import to_ns
from attune.ros.throttle import ThrottledReporter

NODE_NAME = 'expression_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('faces_topic', '/attune/faces', 'attune/Faces topic (the face node\'s output).'),
    ParamSpec('image_topic', '/camera/image_raw', 'Camera image topic the Faces were computed from (for the CNN).'),
    ParamSpec('image_transport', 'raw', 'raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage.',
              choices=('raw', 'compressed')),
    ParamSpec('reliable_input', False, 'Subscribe to images reliably instead of with sensor QoS (bag processing).'),
    ParamSpec('input_queue_depth', 5, 'Images kept by the subscription while the node is busy.', min=1, max=100),
    ParamSpec('sync_queue_size', 30, 'Unmatched images (or Faces) kept while waiting for their partner '
              'with the same stamp; older ones are dropped and counted.', min=1, max=1000),
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
    ParamSpec('max_abs_yaw_deg', 60.0, 'Faces turned further (yaw or pitch) are not analyzed.', min=0.0,
              max=90.0, dynamic=True),
    ParamSpec('publish_sources', False, 'Also publish each source on /attune/expression/<source>.', dynamic=True),
    ParamSpec('teach_topic', '/attune/expression/teach', 'attune/ExpressionTeach topic for personalization.'),
    ParamSpec('learner_path', '', "Learner file (.npz) loaded at start and saved after each lesson; '' = "
              'in memory only.'),
    ParamSpec('learner_shrinkage', 0.1, "Shrinkage of the learner's shared covariance toward the identity "
              '(streaming LDA; more for fewer taught frames).', min=0.0, max=0.99),
    ParamSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'Larger images are rejected.', min=1, max=2**31 - 1),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def analyzer_options(p: dict[str, Any]) -> AnalyzerOptions:
    calibration = (CalibrationOptions(warmup_s=p['calibration_warmup_s'], min_frames=p['calibration_min_frames'],
                                      max_frames=max(90, p['calibration_min_frames']))
                   if p['person_calibration'] else None)
    return AnalyzerOptions(cnn=p['cnn'], calibration=p['neutral_calibration'], model_path=p['model_path'],
                           head_path=p['head_path'], threads=p['cnn_threads'], weights=ensemble_weights(p),
                           person_calibration=calibration)


def ensemble_weights(p: dict[str, Any]) -> dict[str, float]:
    return {s: float(p[f'{s}_weight']) for s in SOURCES}


class ExpressionNode(AutostartLifecycleNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self._msgs = attune_msgs()
        self._analyzer: ExpressionAnalyzer | None = None
        self._sync: ExactStampSynchronizer | None = None
        self._lessons = LessonCollector()
        self._pending_calibration: Any = None
        self._subs: list[Any] = []
        self._expr_pub = None
        self._source_pubs: dict[str, Any] = {}
        self._diag_pub = self._diag_timer = None
        self._latency_ms: deque[float] = deque(maxlen=300)
        self._frames = self._faces_out = self._skipped_pose = self._no_landmarks = 0
        self._last_dropped_faces = 0
        self._last_frame_time: float | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)
        self._bad_input = ThrottledReporter(self.get_logger().error)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        p = self.params
        learner = load_learner(Path(p['learner_path']).expanduser()) if p['learner_path'] else None
        if learner is None:
            learner = ContinualLearner(shrinkage=p['learner_shrinkage'])
        self._analyzer = ExpressionAnalyzer(analyzer_options(p), learner)
        self._sync = ExactStampSynchronizer(queue_size=p['sync_queue_size'])
        self._expr_pub = self.create_lifecycle_publisher(self._msgs.Expression, '/attune/expression', qos.RESULTS)
        self._source_pubs = {s: self.create_lifecycle_publisher(self._msgs.Expression, f'/attune/expression/{s}',
                                                                qos.RESULTS) for s in SOURCES}
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', qos.RESULTS)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)

    def activate(self) -> None:
        p = self.params
        self._subs.append(self.create_subscription(self._msgs.Faces, p['faces_topic'], self._on_faces, qos.RESULTS))
        self._subs.append(self.create_subscription(self._msgs.ExpressionTeach, p['teach_topic'], self._on_teach,
                                                   qos.RESULTS))
        if p['cnn']:
            image_qos = qos.image_input(p['reliable_input'], p['input_queue_depth'])
            if p['image_transport'] == 'compressed':
                self._subs.append(self.create_subscription(CompressedImage, p['image_topic'],
                                                           self._on_compressed, image_qos))
            else:
                self._subs.append(self.create_subscription(Image, p['image_topic'], self._on_image, image_qos))
        self.get_logger().info(f"expressions from {p['faces_topic']}"
                               + (f" and {p['image_transport']} images on {p['image_topic']}" if p['cnn'] else
                                  ' (no CNN: AUs and rules only)'))

    def deactivate(self) -> None:
        for sub in self._subs:
            self.destroy_subscription(sub)
        self._subs = []
        if self._sync is not None:
            self._sync.clear()

    def release(self) -> None:
        self._analyzer = None
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None
        for pub in [self._expr_pub, *self._source_pubs.values()]:
            if pub is not None:
                self.destroy_lifecycle_publisher(pub)
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
        self._expr_pub = self._diag_pub = None
        self._source_pubs = {}

    # --- parameters ------------------------------------------------------------------------------
    def parameters_changed(self, names: set[str]) -> None:
        if self._analyzer is not None and any(name.endswith('_weight') for name in names):
            self._analyzer.set_weights(ensemble_weights(self.params))

    # --- callbacks -------------------------------------------------------------------------------
    def _on_image(self, msg: Image) -> None:
        self._add_image(msg, rgb8_from_image)

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._add_image(msg, rgb8_from_compressed)

    def _add_image(self, msg: Any, decode: Any) -> None:
        if self._sync is None:
            return
        match = self._sync.add_first(to_ns(msg.header.stamp), (msg, decode))
        if match is not None:
            self._process(match[1], *match[0])

    def _on_faces(self, msg: Any) -> None:
        if self._sync is None:
            return
        if not self.params['cnn']:
            self._process(msg, None, None)
            return
        if not msg.faces:  # nothing to analyze: free the waiting image, publish nothing
            self._sync.add_second(to_ns(msg.header.stamp), msg)
            self._check_dropped_faces()
            return
        match = self._sync.add_second(to_ns(msg.header.stamp), msg)
        self._check_dropped_faces()
        if match is not None:
            self._process(msg, *match[0])

    def _check_dropped_faces(self) -> None:
        dropped = self._sync.counts.dropped_second + self._sync.counts.late_second
        if dropped > self._last_dropped_faces:
            self._bad_input.report('no_matching_image', f'dropped {dropped - self._last_dropped_faces} Faces '
                                   'message(s) without an image of the same stamp (is image_topic the face '
                                   "node's input?)")
            self._last_dropped_faces = dropped

    def _on_teach(self, msg: Any) -> None:
        try:
            lesson = lesson_from_msg(msg)
        except ValueError as exc:
            self._bad_input.report('teach', f'ignored ExpressionTeach: {exc}')
            return
        if not self.params['cnn']:
            self._bad_input.report('teach', 'ignored ExpressionTeach: the learner and calibration need the CNN '
                                   '(cnn: true)')
            return
        if lesson.label == 'neutral' and self._analyzer is not None and self._analyzer.calibrator is not None:
            self._pending_calibration = lesson
            self.get_logger().info(f"calibrating face '{lesson.face_id or 'largest'}' to its neutral face for "
                                   f'{lesson.duration_ns / 1e9:g} s')
        elif lesson.calibrate_only:
            self._bad_input.report('teach', 'ignored "neutral now": person_calibration is off')
        if lesson.calibrate_only:
            return
        previous = self._lessons.start(lesson.face_id, lesson.label, lesson.start_ns, lesson.duration_ns)
        if previous is not None:
            self._finish_lesson(previous)
        self.get_logger().info(f"learning '{lesson.label}' from face '{lesson.face_id or 'largest'}' for "
                               f'{lesson.duration_ns / 1e9:g} s')

    def _start_calibration(self, inputs: list[FaceInput], areas: list[float]) -> None:
        """Hand a pending "neutral now" to the calibrator, for its face or (no id) the largest one in view."""
        lesson = self._pending_calibration
        key = lesson.face_id or (inputs[int(max(range(len(areas)), key=areas.__getitem__))].track if inputs else '')
        if key and self._analyzer is not None and self._analyzer.calibrator is not None:
            self._analyzer.calibrator.teach(key, lesson.start_ns, lesson.duration_ns)
            self._pending_calibration = None

    def _process(self, faces_msg: Any, image_msg: Any | None, decode: Any | None) -> None:
        analyzer = self._analyzer
        if analyzer is None:
            return
        start = time.perf_counter()
        stamp = to_ns(faces_msg.header.stamp)
        rgb = None
        if image_msg is not None:
            try:
                rgb = decode(image_msg, max_pixels=self.params['max_image_pixels'])
            except ImageError as exc:
                self._bad_input.report(type(exc).__name__, f'dropped image (stamp {stamp} ns): {exc}')
                return
            if (rgb.shape[1], rgb.shape[0]) != (faces_msg.image_width, faces_msg.image_height):
                self._bad_input.report('size_mismatch', f'dropped frame (stamp {stamp} ns): image is '
                                       f'{rgb.shape[1]}x{rgb.shape[0]}, Faces says '
                                       f'{faces_msg.image_width}x{faces_msg.image_height}')
                return
        try:
            frame = faces_from_msg(faces_msg)
        except ValueError as exc:
            self._bad_input.report('faces', f'dropped Faces (stamp {stamp} ns): {exc}')
            return
        limit, frontal_limit = self.params['max_abs_yaw_deg'], self.params['calibration_max_abs_yaw_deg']
        inputs, boxes = [], []
        for face in frame.faces:
            if face.observation.landmarks is None:
                self._no_landmarks += 1  # the face node runs without landmarks or did not publish them
                continue
            pose = face.head_pose
            if pose is not None and (abs(pose.yaw) > limit or abs(pose.pitch) > limit):
                self._skipped_pose += 1
                continue
            frontal = pose is None or (abs(pose.yaw) <= frontal_limit and abs(pose.pitch) <= frontal_limit)
            inputs.append(FaceInput(face.id, face.observation.landmarks, frontal=frontal))
            boxes.append(face.box.width * face.box.height)
        if self._pending_calibration is not None:
            self._start_calibration(inputs, boxes)
        try:
            results = analyzer.analyze(rgb, inputs, frame.width, frame.height, stamp_ns=stamp)
        except Exception as exc:  # noqa: BLE001 - a failing frame must not take the node down
            self._bad_input.report('processing', f'dropped frame (stamp {stamp} ns): {type(exc).__name__}: {exc}')
            return
        candidates = []
        for face, area, result in zip(inputs, boxes, results):
            if isinstance(result, ValueError):
                self._bad_input.report('bad_face', f'skipped face {face.track} (stamp {stamp} ns): {result}')
                continue
            self._expr_pub.publish(expression_to_msg(result, faces_msg.header))
            if self.params['publish_sources']:
                for source in result.sources:
                    self._source_pubs[source].publish(expression_to_msg(result, faces_msg.header, source))
            candidates.append(CandidateFace(face.track, area, result.features))
            self._faces_out += 1
        finished = self._lessons.offer(stamp, candidates)
        if finished is not None:
            self._finish_lesson(finished)
        self._latency_ms.append((time.perf_counter() - start) * 1e3)
        self._frames += 1
        self._last_frame_time = time.monotonic()

    def _finish_lesson(self, lesson: Any) -> None:
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

    def _publish_diagnostics(self) -> None:
        values: dict[str, Any] = {
            'frames_processed': self._frames, 'expressions_published': self._faces_out,
            'faces_skipped_pose': self._skipped_pose, 'faces_without_landmarks': self._no_landmarks}
        if self._sync is not None:
            values.update({f'sync_{k}': v for k, v in self._sync.counts.as_dict().items()})
        if self._analyzer is not None and self._analyzer.learner is not None:
            values['learner_classes'] = ','.join(self._analyzer.learner.labels)
        if self._analyzer is not None and self._analyzer.calibrator is not None:
            values['calibrated_faces'] = self._analyzer.calibrator.calibrated_keys()
        self._diag_pub.publish(node_status(
            self, 'expression', working='analyzing', idle='no faces analyzed in the last 5 s',
            last_input=self._last_frame_time, processing_ms=self._latency_ms, bad_input=self._bad_input,
            values=values))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = ExpressionNode


def main(args: list[str] | None = None) -> int:
    return run_node(ExpressionNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
