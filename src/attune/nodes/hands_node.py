"""hands_node: camera images in, attune/Hands out (MediaPipe Hands: up to 4 hands, 21 landmarks each,
handedness of the person's own hand).

A thin lifecycle node like face_node: parameters, message conversion, attune.hands.HandAnalyzer.
The sign node consumes /attune/hands; other nodes (interaction state) may too. Running MediaPipe
Hands here rather than inside the sign node costs one small message per frame (~1 kB, measured in
bench/sign.py as `hands_message_ms`), far below the ~10-15 ms of the hands stage itself.

Subscribes:  <image_topic>   sensor_msgs/Image or CompressedImage (image_transport), sensor QoS
Publishes:   /attune/hands   attune/Hands, one per processed image (also when empty), with the image's header
             /diagnostics    diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CompressedImage, Image

from attune.errors import AttuneError, ImageError
from attune.hands import HandAnalyzer, HandAnalyzerOptions
from attune.imaging import DEFAULT_MAX_PIXELS, rgb8_from_compressed, rgb8_from_image
from attune.ros import qos
from attune.ros.diagnostics import node_status
from attune.ros.hand_msgs import hands_to_msg
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.stamps import to_ns
from attune.ros.throttle import ThrottledReporter

NODE_NAME = 'hands_node'
HANDS_TOPIC = '/attune/hands'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('image_topic', '/camera/image_raw', 'Camera image topic to subscribe to.'),
    ParamSpec('image_transport', 'raw', 'raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage '
              '(JPEG or PNG) on the same topic name.', choices=('raw', 'compressed')),
    ParamSpec('reliable_input', False, 'Subscribe to images with reliable QoS instead of best-effort '
              'sensor QoS (for lossless bag processing).'),
    ParamSpec('input_queue_depth', 2, 'Images kept while the node is busy; older ones are dropped.',
              min=1, max=100),
    ParamSpec('model', 'full', 'MediaPipe hand landmark model: full (more accurate) or lite (faster).',
              choices=('full', 'lite'), dynamic=True),
    ParamSpec('max_hands', 2, 'Most hands found and followed at once.', min=1, max=4, dynamic=True),
    ParamSpec('min_detection_confidence', 0.5, 'Palm-detector score below which a hand is not picked up.',
              min=0.0, max=1.0, dynamic=True),
    ParamSpec('min_tracking_confidence', 0.5, 'Landmark-tracking confidence below which the detector runs again.',
              min=0.0, max=1.0, dynamic=True),
    ParamSpec('mirrored_input', False, 'The images are mirrored (selfie view); false for a robot camera. '
              'Sets which hand is called left or right (the person\'s own).', dynamic=True),
    ParamSpec('publish_world_landmarks', True, 'Fill Hand.world_landmarks (metres).', dynamic=True),
    ParamSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'Larger images are rejected (memory and latency guard).',
              min=1, max=2**31 - 1),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

_ANALYZER_PARAMS = {'model', 'max_hands', 'min_detection_confidence', 'min_tracking_confidence', 'mirrored_input'}


def analyzer_options(p: dict[str, Any]) -> HandAnalyzerOptions:
    """HandAnalyzerOptions from the node's parameter values."""
    return HandAnalyzerOptions(model=p['model'], max_hands=p['max_hands'],
                               min_detection_confidence=p['min_detection_confidence'],
                               min_tracking_confidence=p['min_tracking_confidence'],
                               mirrored_input=p['mirrored_input'])


class HandsNode(AutostartLifecycleNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self._msgs = attune_msgs()
        self._analyzer: HandAnalyzer | None = None
        self._image_sub = None
        self._hands_pub = self._diag_pub = self._diag_timer = None
        self._latency_ms: deque[float] = deque(maxlen=300)
        self._frames = 0
        self._last_frame_time: float | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)
        self._bad_input = ThrottledReporter(self.get_logger().error)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        self._analyzer = HandAnalyzer(analyzer_options(self.params))
        self._hands_pub = self.create_lifecycle_publisher(self._msgs.Hands, HANDS_TOPIC, qos.RESULTS)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', qos.RESULTS)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)

    def activate(self) -> None:
        p = self.params
        image_qos = qos.image_input(p['reliable_input'], p['input_queue_depth'])
        if p['image_transport'] == 'compressed':
            self._image_sub = self.create_subscription(CompressedImage, p['image_topic'], self._on_compressed,
                                                       image_qos)
        else:
            self._image_sub = self.create_subscription(Image, p['image_topic'], self._on_image, image_qos)
        self.get_logger().info(f"finding hands in {p['image_transport']} images from {p['image_topic']}")

    def deactivate(self) -> None:
        if self._image_sub is not None:
            self.destroy_subscription(self._image_sub)
            self._image_sub = None

    def release(self) -> None:
        if self._analyzer is not None:
            self._analyzer.close()
            self._analyzer = None
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None
        if self._hands_pub is not None:
            self.destroy_lifecycle_publisher(self._hands_pub)
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
        self._hands_pub = self._diag_pub = None

    # --- parameters ------------------------------------------------------------------------------
    def parameters_changed(self, names: set[str]) -> None:
        if self._analyzer is not None and names & _ANALYZER_PARAMS:
            self._analyzer.close()  # MediaPipe graphs are built with their options: rebuild
            try:
                self._analyzer = HandAnalyzer(analyzer_options(self.params))
            except AttuneError as exc:
                self._analyzer = None
                self.get_logger().error(f'hand analyzer not rebuilt, node idle until fixed: {exc}')

    # --- callbacks -------------------------------------------------------------------------------
    def _on_image(self, msg: Image) -> None:
        self._process(msg, rgb8_from_image)

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._process(msg, rgb8_from_compressed)

    def _process(self, msg: Any, decode: Any) -> None:
        if self._analyzer is None:
            return
        start = time.perf_counter()
        stamp = to_ns(msg.header.stamp)
        try:
            rgb = decode(msg, max_pixels=self.params['max_image_pixels'])
        except ImageError as exc:
            self._bad_input.report(type(exc).__name__, f'dropped image (stamp {stamp} ns): {exc}')
            return
        try:
            frame = self._analyzer.frame(rgb, stamp)
        except Exception as exc:  # noqa: BLE001 - a failing frame must not take the node down
            self._bad_input.report('processing', f'dropped image (stamp {stamp} ns): hand analysis failed: '
                                   f'{type(exc).__name__}: {exc}')
            return
        self._hands_pub.publish(hands_to_msg(frame, msg.header,
                                             world_landmarks=self.params['publish_world_landmarks']))
        self._latency_ms.append((time.perf_counter() - start) * 1e3)
        self._frames += 1
        self._last_frame_time = time.monotonic()

    def _publish_diagnostics(self) -> None:
        self._diag_pub.publish(node_status(
            self, 'hands', working='processing', idle='no images in the last 5 s',
            last_input=self._last_frame_time, processing_ms=self._latency_ms, bad_input=self._bad_input,
            values={'frames_processed': self._frames}))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = HandsNode


def main(args: list[str] | None = None) -> int:
    return run_node(HandsNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
