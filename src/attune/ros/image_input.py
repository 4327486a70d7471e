"""Camera images into an attune node: the subscription by transport, decoding with bad-input
reports, and the per-frame step (face_node, hands_node; the Faces join builds on it).

The node declares image_input_parameters() in its table; ImageInputNode subscribes to
`image_topic` as sensor_msgs/Image (image_transport raw) or CompressedImage (compressed), with
sensor QoS or reliable (`reliable_input`) and `input_queue_depth`, decodes each image to rgb8
(at most `max_image_pixels`), and hands it to the node's process(msg, rgb). No image for
`stale_input_s` makes the node's /diagnostics WARN (stale input) until images come back. An image that cannot
be decoded or processed is dropped, reported once per kind and counted; the node lives on. A
well-formed frame of another source (size or frame_id not the stream's, attune.imaging.source) is
dropped and counted as other_source, so it cannot reset the stream's tracks.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy.typing as npt
from sensor_msgs.msg import CompressedImage, Image

from attune.errors import ImageError
from attune.imaging import DEFAULT_MAX_PIXELS, rgb8_from_compressed, rgb8_from_image
from attune.imaging.source import SourceGate, SourceKey, SourceVerdict
from attune.ros import qos
from attune.ros.params import ParamSpec
from attune.ros.shell import FAILED, NodeShell, stale_input_parameter
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from rclpy.subscription import Subscription

TRANSPORT_HELP = ('raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage (JPEG or PNG) on the same '
                  'topic name.')


def image_input_parameters(*, topic_help: str = 'Camera image topic to subscribe to.', queue_depth: int,
                           queue_help: str = 'Images kept while the node is busy; older ones are dropped.',
                           ) -> tuple[ParamSpec, ...]:
    """The parameters ImageInputNode reads: image_topic, image_transport, reliable_input,
    input_queue_depth (default `queue_depth`) and max_image_pixels."""
    return (
        ParamSpec('image_topic', '/camera/image_raw', topic_help),
        ParamSpec('image_transport', 'raw', TRANSPORT_HELP, choices=('raw', 'compressed')),
        ParamSpec('reliable_input', False, 'Subscribe to images with reliable QoS instead of best-effort '
                  'sensor QoS (for lossless bag processing).'),
        ParamSpec('input_queue_depth', queue_depth, queue_help, min=1, max=100),
        ParamSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'Larger images are rejected (memory and latency guard).',
                  min=1, max=2**31 - 1),
        stale_input_parameter('a camera image', 'images come back'),
        ParamSpec('source_switch_frames', 30, 'Frames whose size or frame_id differ from the stream\'s are '
                  'another source and dropped; this many in a row, with none from the stream, make them the '
                  'stream (a camera restarted at another resolution).', min=1, max=100_000),
    )


def decoder_for(msg: Image | CompressedImage) -> Callable[..., npt.NDArray[Any]]:
    """The rgb8 decoder of an Image or CompressedImage message."""
    return rgb8_from_compressed if isinstance(msg, CompressedImage) else rgb8_from_image


class ImageInputNode(NodeShell):
    """A node fed camera images. Subclasses implement build_analyzer() and process(msg, rgb); the
    analyzer is built on configure, closed on cleanup and rebuilt when ANALYZER_PARAMS change."""

    COUNTERS: ClassVar[tuple[str, ...]] = ('frames_processed',)
    #: The analyzer's name in logs ('face pipeline').
    ANALYZER: ClassVar[str] = 'analyzer'
    #: Parameters whose change rebuilds the analyzer (MediaPipe graphs are built with their options).
    ANALYZER_PARAMS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, name: str, parameters: tuple[ParamSpec, ...], **kwargs: Any) -> None:
        self.analyzer: Any = None
        self.source_gate = SourceGate()
        super().__init__(name, parameters, **kwargs)

    def build_analyzer(self) -> Any:
        """The per-frame analyzer for the current parameters (None: the node has none); raise
        AttuneError to refuse to start."""
        return None

    def subscribe_images(self, callback: Callable[[Image | CompressedImage], None] | None = None,
                         ) -> Subscription[Image | CompressedImage]:
        """Subscribe to the camera (by `image_transport`) with on_image, or `callback`; in activate()."""
        p = self.params
        msg_type: type[Image | CompressedImage] = CompressedImage if p['image_transport'] == 'compressed' else Image
        return self.add_subscription(msg_type, p['image_topic'], callback or self.on_image,
                                     qos.image_input(p['reliable_input'], p['input_queue_depth']))

    def decode(self, msg: Image | CompressedImage, stamp_ns: int | None = None,
               size: tuple[int, int] | None = None) -> npt.NDArray[Any] | None:
        """The rgb8 pixels of an Image or CompressedImage; None after reporting why it was dropped
        (an ImageError, or a size other than `size` = (width, height) when given)."""
        stamp = to_ns(msg.header.stamp) if stamp_ns is None else stamp_ns
        try:
            rgb = decoder_for(msg)(msg, max_pixels=self.params['max_image_pixels'])
        except ImageError as exc:
            self.bad_input.report(type(exc).__name__, f'dropped image: {exc} (stamp {stamp} ns)')
            return None
        if size is not None and (rgb.shape[1], rgb.shape[0]) != tuple(size):
            self.bad_input.report('size_mismatch', f'dropped frame (stamp {stamp} ns): image is {rgb.shape[1]}x'
                                  f'{rgb.shape[0]}, Faces says {size[0]}x{size[1]}')
            return None
        return rgb

    def on_image(self, msg: Image | CompressedImage) -> None:
        if self.analyzer is None:  # not configured, or a rebuild failed
            return
        start = time.perf_counter()
        stamp = to_ns(msg.header.stamp)
        rgb = self.decode(msg, stamp)
        if rgb is None:
            return
        stream = self.source_gate.stream
        if not self.from_stream(msg, rgb):
            return
        if self.attempt('processing', f'dropped image (stamp {stamp} ns): {self.ANALYZER} failed',
                        self.process, msg, rgb) is FAILED:
            self.source_gate.stream = stream  # a source becomes the stream only by a frame that worked
            return
        self.processed(start, 'frames_processed')

    def from_stream(self, msg: Image | CompressedImage, rgb: npt.NDArray[Any]) -> bool:
        """Whether a decoded frame belongs to the camera stream (else it is reported as other_source)."""
        return self.admit_source(SourceKey(rgb.shape[1], rgb.shape[0], str(msg.header.frame_id)))

    def admit_source(self, key: SourceKey) -> bool:
        """Whether a frame of `key` belongs to the camera stream (else it is reported as other_source)."""
        verdict = self.source_gate.admit(key)
        if verdict is SourceVerdict.OTHER:
            self.bad_input.report('other_source', f'dropped frame of another source ({key}); the stream is '
                                  f'{self.source_gate.stream}')
            return False
        if verdict is SourceVerdict.ADOPTED:
            self.get_logger().debug(f'camera stream: {key}')
        return True

    def process(self, msg: Image | CompressedImage, rgb: npt.NDArray[Any]) -> None:
        """The node's step for one decoded image (msg: its message, for the header)."""
        raise NotImplementedError

    def parameters_changed(self, names: set[str]) -> None:
        if self.analyzer is not None and names & self.ANALYZER_PARAMS:
            self.analyzer = self.rebuilt(self.analyzer, self.build_analyzer, self.ANALYZER)

    def _configure_all(self) -> None:
        self.source_gate = SourceGate(switch_after=self.params['source_switch_frames'])
        self.analyzer = self.build_analyzer()
        super()._configure_all()

    def _release_all(self) -> None:
        super()._release_all()
        analyzer, self.analyzer = self.analyzer, None
        if analyzer is not None and hasattr(analyzer, 'close'):
            analyzer.close()
