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

from typing import TYPE_CHECKING, Any

from sensor_msgs.msg import CameraInfo, Image

from attune.face import FaceAnalyzerOptions, FacePipeline, FacePipelineOptions
from attune.face.drawing import draw_faces
from attune.geometry import CameraIntrinsics
from attune.ros import msg_faces, qos
from attune.ros.image_input import ImageInputNode, image_input_parameters
from attune.ros.images import image_msg, intrinsics_from_camera_info
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics
from attune.ros.stamps import to_ns
from attune.tracking import TrackerOptions

if TYPE_CHECKING:
    import numpy.typing as npt
    from sensor_msgs.msg import CompressedImage

NODE_NAME = 'face_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    *image_input_parameters(queue_depth=2, queue_help='Images kept while the node is busy; older ones are '
                            'dropped, so latency stays bounded when processing is slower than the camera.'),
    ParamSpec('camera_info_topic', 'auto', "CameraInfo topic for head-pose intrinsics; 'auto' = "
              "'camera_info' beside the image topic, '' = none (use fallback_hfov_deg)."),
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


class FaceNode(ImageInputNode):
    """See the module docstring."""

    SENDS_LARGE_MESSAGES = True  # the debug image
    DIAGNOSTICS = Diagnostics('face pipeline', working='processing', idle='stale input: no images in the last {s:g} s')
    ANALYZER = 'face pipeline'
    ANALYZER_PARAMS = frozenset(_PIPELINE_PARAMS)  # a rebuild restarts the tracks (ids do not repeat)

    def __init__(self, **kwargs: Any) -> None:
        self._camera: CameraIntrinsics | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def build_analyzer(self) -> FacePipeline:
        return FacePipeline(pipeline_options(self.params))

    def configure(self) -> None:
        self._faces_pub = self.add_publisher(self._msgs.Faces, '/attune/faces', qos.RESULTS)
        self._debug_pub = self.add_publisher(Image, '/attune/faces/debug_image', qos.SENSOR)

    def activate(self) -> None:
        p = self.params
        self.subscribe_images()
        info_topic = camera_info_topic_for(p['image_topic'], p['camera_info_topic'])
        if info_topic:
            self.add_subscription(CameraInfo, info_topic, self._on_camera_info, qos.SENSOR)
        self.get_logger().info(f"processing {p['image_transport']} images from {p['image_topic']}"
                               + (f', intrinsics from {info_topic}' if info_topic else ''))

    # --- processing ------------------------------------------------------------------------------
    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera = intrinsics_from_camera_info(msg)

    def process(self, msg: Image | CompressedImage, rgb: npt.NDArray[Any]) -> None:
        frame = self.analyzer.process(rgb, to_ns(msg.header.stamp), self._camera)
        publish_landmarks = self.params['publish_landmarks']
        self._faces_pub.publish(msg_faces.to_msg(frame, msg.header, landmarks=publish_landmarks,
                                                 landmarks_3d=publish_landmarks))
        if self.params['publish_debug_image']:
            self._debug_pub.publish(image_msg(draw_faces(rgb, frame), 'rgb8', msg.header))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = FaceNode


def main(args: list[str] | None = None) -> int:
    return run_node(FaceNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
