"""face_node: camera images in, attune/Faces out (MediaPipe detection + FaceMesh, tracking, head pose).

A thin lifecycle node: it declares parameters, converts messages and calls attune.face.FacePipeline.
With `autostart` (default) it configures and activates itself, so it also runs without a lifecycle
manager (`attune up`, plain launch files).

Subscribes:  <image_topic>       sensor_msgs/Image or CompressedImage (image_transport param), sensor QoS
             <camera_info_topic> sensor_msgs/CameraInfo (optional; intrinsics for head pose)
Publishes:   /attune/faces              attune/Faces, one per processed image (also when empty)
             /attune/faces/debug_image  sensor_msgs/Image rgb8, annotated (when publish_debug_image)
             /diagnostics               diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from attune.errors import AttuneError, ImageError
from attune.face import FaceAnalyzerOptions, FacePipeline, FacePipelineOptions
from attune.face.drawing import draw_faces
from attune.imaging import DEFAULT_MAX_PIXELS, rgb8_from_compressed, rgb8_from_image
from attune.ros import qos
from attune.ros.diagnostics import node_status
from attune.ros.face_msgs import faces_to_msg, image_msg, intrinsics_from_camera_info
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.stamps import to_ns
from attune.ros.throttle import ThrottledReporter
from attune.tracking import TrackerOptions

NODE_NAME = 'face_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('image_topic', '/camera/image_raw', 'Camera image topic to subscribe to.'),
    ParamSpec('image_transport', 'raw', 'raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage '
              '(JPEG or PNG) on the same topic name.', choices=('raw', 'compressed')),
    ParamSpec('camera_info_topic', 'auto', "CameraInfo topic for head-pose intrinsics; 'auto' = "
              "'camera_info' beside the image topic, '' = none (use fallback_hfov_deg)."),
    ParamSpec('reliable_input', False, 'Subscribe to images with reliable QoS instead of best-effort '
              'sensor QoS (for lossless bag processing).'),
    ParamSpec('input_queue_depth', 2, 'Images kept while the node is busy; older ones are dropped, '
              'so latency stays bounded when processing is slower than the camera.', min=1, max=100),
    ParamSpec('detector_model', 'short_range', 'MediaPipe face detector: short_range (within ~2 m) or '
              'full_range (up to ~5 m).', choices=('short_range', 'full_range')),
    ParamSpec('min_detection_confidence', 0.5, 'Detector score below which a face is dropped.',
              min=0.0, max=1.0, dynamic=True),
    ParamSpec('min_tracking_confidence', 0.5, 'FaceMesh tracking confidence below which it re-detects.',
              min=0.0, max=1.0, dynamic=True),
    ParamSpec('max_faces', 4, 'Most faces followed with landmarks at once.', min=1, max=20, dynamic=True),
    ParamSpec('landmarks', True, 'Run FaceMesh (landmarks and head pose); false: boxes only.', dynamic=True),
    ParamSpec('refine_landmarks', True, '478 landmarks with iris refinement instead of 468.', dynamic=True),
    ParamSpec('head_pose', True, 'Estimate head pose and 3D landmarks.', dynamic=True),
    ParamSpec('fallback_hfov_deg', 60.0, 'Horizontal field of view assumed when no CameraInfo arrives.',
              min=10.0, max=170.0, dynamic=True),
    ParamSpec('iou_threshold', 0.3, 'Tracker: least IoU to match a face to a track.', min=0.01, max=1.0,
              dynamic=True),
    ParamSpec('max_center_distance', 0.5, 'Tracker: largest centre jump (in track-box diagonals) still '
              'matched when boxes no longer overlap.', min=0.0, max=10.0, dynamic=True),
    ParamSpec('min_hits', 3, 'Tracker: consecutive detections before a face is reported.', min=1, max=100,
              dynamic=True),
    ParamSpec('max_misses', 15, 'Tracker: frames without a detection before a track (and its id) ends.',
              min=0, max=1000, dynamic=True),
    ParamSpec('deterministic_ids', False, 'Ids f1, f2, ... in order of appearance (tests, reproducible '
              'replays); otherwise 5 random letters per track.'),
    ParamSpec('publish_landmarks', True, 'Fill Face.landmarks and landmarks_3d.', dynamic=True),
    ParamSpec('publish_debug_image', False, 'Publish an annotated image on /attune/faces/debug_image.',
              dynamic=True),
    ParamSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'Larger images are rejected (memory and latency guard).',
              min=1, max=2**31 - 1),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

_PIPELINE_PARAMS = {'detector_model', 'min_detection_confidence', 'min_tracking_confidence', 'max_faces',
                    'landmarks', 'refine_landmarks', 'head_pose', 'fallback_hfov_deg', 'iou_threshold',
                    'max_center_distance', 'min_hits', 'max_misses', 'deterministic_ids'}


def pipeline_options(p: dict[str, Any]) -> FacePipelineOptions:
    """FacePipelineOptions from the node's parameter values."""
    return FacePipelineOptions(
        analyzer=FaceAnalyzerOptions(
            detector_model=p['detector_model'], min_detection_confidence=p['min_detection_confidence'],
            min_tracking_confidence=p['min_tracking_confidence'], max_faces=p['max_faces'],
            landmarks=p['landmarks'], refine_landmarks=p['refine_landmarks']),
        tracker=TrackerOptions(
            iou_threshold=p['iou_threshold'], max_center_distance=p['max_center_distance'],
            min_hits=p['min_hits'], max_misses=p['max_misses'], deterministic_ids=p['deterministic_ids']),
        head_pose=p['head_pose'], fallback_hfov_deg=p['fallback_hfov_deg'])


def camera_info_topic_for(image_topic: str, setting: str) -> str:
    """The CameraInfo topic: explicit, none (''), or 'auto' = sibling of the image topic."""
    if setting != 'auto':
        return setting
    base, slash, _ = image_topic.rpartition('/')
    return f'{base}/camera_info' if slash else 'camera_info'


class FaceNode(AutostartLifecycleNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self._msgs = attune_msgs()
        self._pipeline: FacePipeline | None = None
        self._camera = None
        self._image_sub = self._info_sub = None
        self._faces_pub = self._debug_pub = self._diag_pub = self._diag_timer = None
        self._latency_ms: deque[float] = deque(maxlen=300)
        self._frames = 0
        self._last_frame_time: float | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)
        self._bad_input = ThrottledReporter(self.get_logger().error)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        self._pipeline = FacePipeline(pipeline_options(self.params))
        self._faces_pub = self.create_lifecycle_publisher(self._msgs.Faces, '/attune/faces', qos.RESULTS)
        self._debug_pub = self.create_lifecycle_publisher(Image, '/attune/faces/debug_image', qos.SENSOR)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', qos.RESULTS)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)

    def activate(self) -> None:
        p = self.params
        image_qos = qos.image_input(p['reliable_input'], p['input_queue_depth'])
        if p['image_transport'] == 'compressed':
            self._image_sub = self.create_subscription(CompressedImage, p['image_topic'],
                                                       self._on_compressed, image_qos)
        else:
            self._image_sub = self.create_subscription(Image, p['image_topic'], self._on_image, image_qos)
        info_topic = camera_info_topic_for(p['image_topic'], p['camera_info_topic'])
        if info_topic:
            self._info_sub = self.create_subscription(CameraInfo, info_topic, self._on_camera_info, qos.SENSOR)
        self.get_logger().info(f"processing {p['image_transport']} images from {p['image_topic']}"
                               + (f', intrinsics from {info_topic}' if info_topic else ''))

    def deactivate(self) -> None:
        for sub in (self._image_sub, self._info_sub):
            if sub is not None:
                self.destroy_subscription(sub)
        self._image_sub = self._info_sub = None

    def release(self) -> None:
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None
        for pub in (self._faces_pub, self._debug_pub):
            if pub is not None:
                self.destroy_lifecycle_publisher(pub)
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
        self._faces_pub = self._debug_pub = self._diag_pub = None

    def parameters_changed(self, names: set[str]) -> None:
        if self._pipeline is not None and names & _PIPELINE_PARAMS:
            # MediaPipe graphs are built with their options; rebuild (tracks restart, ids do not repeat).
            self._pipeline.close()
            try:
                self._pipeline = FacePipeline(pipeline_options(self.params))
            except AttuneError as exc:
                self._pipeline = None
                self.get_logger().error(f'face pipeline not rebuilt, node idle until fixed: {exc}')

    # --- callbacks -------------------------------------------------------------------------------
    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera = intrinsics_from_camera_info(msg)

    def _on_image(self, msg: Image) -> None:
        self._process(msg, rgb8_from_image)

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._process(msg, rgb8_from_compressed)

    def _process(self, msg: Any, decode: Any) -> None:
        if self._pipeline is None:
            return
        start = time.perf_counter()
        try:
            rgb = decode(msg, max_pixels=self.params['max_image_pixels'])
        except ImageError as exc:
            self._bad_input.report(type(exc).__name__, f'dropped image (stamp {to_ns(msg.header.stamp)} ns): {exc}')
            return
        try:
            frame = self._pipeline.process(rgb, to_ns(msg.header.stamp), self._camera)
        except Exception as exc:  # noqa: BLE001 - a failing frame must not take the node down
            self._bad_input.report('processing', f'dropped image (stamp {to_ns(msg.header.stamp)} ns): '
                                   f'face pipeline failed: {type(exc).__name__}: {exc}')
            return
        publish_landmarks = self.params['publish_landmarks']
        self._faces_pub.publish(faces_to_msg(frame, msg.header, landmarks=publish_landmarks,
                                             landmarks_3d=publish_landmarks))
        if self.params['publish_debug_image']:
            self._debug_pub.publish(image_msg(draw_faces(rgb, frame), 'rgb8', msg.header))
        self._latency_ms.append((time.perf_counter() - start) * 1e3)
        self._frames += 1
        self._last_frame_time = time.monotonic()

    def _publish_diagnostics(self) -> None:
        self._diag_pub.publish(node_status(
            self, 'face pipeline', working='processing', idle='no images in the last 5 s',
            last_input=self._last_frame_time, processing_ms=self._latency_ms, bad_input=self._bad_input,
            values={'frames_processed': self._frames}))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = FaceNode


def main(args: list[str] | None = None) -> int:
    return run_node(FaceNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
