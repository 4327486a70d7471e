"""hands_node: camera images in, attune/Hands out (MediaPipe Hands: up to 4 hands, 21 landmarks each,
handedness of the person's own hand).

A thin lifecycle node like face_node: parameters, message conversion, attune.hands.HandAnalyzer.
The sign node consumes /attune/hands; other nodes (interaction state) may too. Running MediaPipe
Hands here rather than inside the sign node costs one small message per frame (~1 kB, measured in
bench/sign.py as `hands_message_ms`), far below the ~10-15 ms of the hands stage itself.

While no hand is in view, MediaPipe looks for hands only `search_rate_hz` times per second (by image
stamps; attune.hands.search): the frames between are published empty, since no hand was tracked and
none was searched for (a hand coming into view is found at most 1 / search_rate_hz s later). Once a
hand is found, every frame is analysed. 0 analyses every frame.

Subscribes:  <image_topic>   sensor_msgs/Image or CompressedImage (image_transport), sensor QoS
Publishes:   /attune/hands   attune/Hands, one per processed image (also when empty), with the image's header
             /diagnostics    diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune.hands import HandAnalyzer, HandAnalyzerOptions, HandFrame
from attune.hands.search import HandSearch
from attune.ros import msg_hands, qos
from attune.ros.image_input import ImageInputNode, image_input_parameters
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    import numpy.typing as npt
    from sensor_msgs.msg import CompressedImage, Image

NODE_NAME = 'hands_node'
HANDS_TOPIC = '/attune/hands'

PARAMETERS: tuple[ParamSpec, ...] = (
    *image_input_parameters(queue_depth=2),
    ParamSpec('model', 'full', 'MediaPipe hand landmark model: full (more accurate) or lite (faster).',
              choices=('full', 'lite'), dynamic=True),
    ParamSpec('max_hands', 2, 'Most hands found and followed at once.', min=1, max=4, dynamic=True),
    ParamSpec('min_detection_confidence', 0.5, 'Palm-detector score below which a hand is not picked up.',
              min=0.0, max=1.0, dynamic=True),
    ParamSpec('min_tracking_confidence', 0.5, 'Landmark-tracking confidence below which the detector runs again.',
              min=0.0, max=1.0, dynamic=True),
    ParamSpec('mirrored_input', False, 'The images are mirrored (selfie view); false for a robot camera. '
              'Sets which hand is called left or right (the person\'s own).', dynamic=True),
    ParamSpec('search_rate_hz', 5.0, 'While no hand is in view, images searched for hands per second (by '
              'stamps); the others are published empty. Every image is analysed once a hand is found. 0: '
              'search every image.', min=0.0, max=1000.0, dynamic=True),
    ParamSpec('publish_world_landmarks', True, 'Fill Hand.world_landmarks (metres).', dynamic=True),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

_ANALYZER_PARAMS = {'model', 'max_hands', 'min_detection_confidence', 'min_tracking_confidence', 'mirrored_input'}


def analyzer_options(p: dict[str, Any]) -> HandAnalyzerOptions:
    """HandAnalyzerOptions from the node's parameter values."""
    return HandAnalyzerOptions(model=p['model'], max_hands=p['max_hands'],
                               min_detection_confidence=p['min_detection_confidence'],
                               min_tracking_confidence=p['min_tracking_confidence'],
                               mirrored_input=p['mirrored_input'])


class HandsNode(ImageInputNode):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('hands', working='processing', idle='stale input: no images in the last {s:g} s')
    ANALYZER = 'hand analyzer'
    ANALYZER_PARAMS = frozenset(_ANALYZER_PARAMS)
    COUNTERS = ('frames_processed', 'frames_not_searched')

    def __init__(self, **kwargs: Any) -> None:
        self._search = HandSearch(0.0)
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def build_analyzer(self) -> HandAnalyzer:
        self._search = HandSearch(self.params['search_rate_hz'])  # a new analyzer tracks no hand yet
        return HandAnalyzer(analyzer_options(self.params))

    def parameters_changed(self, names: set[str]) -> None:
        super().parameters_changed(names)
        self._search.rate_hz = self.params['search_rate_hz']

    def configure(self) -> None:
        self._hands_pub = self.add_publisher(self._msgs.Hands, HANDS_TOPIC, qos.RESULTS)

    def activate(self) -> None:
        self.subscribe_images()
        self.get_logger().info(f"finding hands in {self.params['image_transport']} images from "
                               f"{self.params['image_topic']}")

    # --- processing ------------------------------------------------------------------------------
    def process(self, msg: Image | CompressedImage, rgb: npt.NDArray[Any]) -> None:
        stamp = to_ns(msg.header.stamp)
        if self._search.due(stamp):
            frame = self.analyzer.frame(rgb, stamp)
            self._search.analysed(stamp, len(frame.hands))
        else:  # no hand tracked, and not yet time to search again
            frame = HandFrame(stamp_ns=stamp, width=rgb.shape[1], height=rgb.shape[0])
            self.count('frames_not_searched')
        self._hands_pub.publish(msg_hands.to_msg(frame, msg.header,
                                                 world_landmarks=self.params['publish_world_landmarks']))


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = HandsNode


def main(args: list[str] | None = None) -> int:
    return run_node(HandsNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
