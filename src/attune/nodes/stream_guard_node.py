"""stream_guard_node: is the camera topic a live camera? A live-camera score with its reasons.

Each image adds timing (header stamp against the local wall-clock receive time), metadata
(frame_id, size, the topic's camera_info) and content evidence (repeats and loops, sensor-noise
residual, JPEG re-encoding) to a rolling window; the publishing nodes come from the ROS graph
(get_publishers_info_by_topic), refreshed once a second. attune.integrity scores the window with the
shipped logistic model (docs/integrity.md). Receive times are wall-clock even with use_sim_time: a
bag replayed on /clock still carries its recording's stamps, which is evidence, not an error.

Subscribes:  <image_topic>         sensor_msgs/Image or CompressedImage (image_transport), sensor QoS
             <camera_info_topic>   sensor_msgs/CameraInfo (default: image_topic's sibling camera_info)
Publishes:   /attune/stream_trust  attune/StreamTrust, every `publish_every` images, with the image's header
             /diagnostics          diagnostic_msgs/DiagnosticArray, once per second (score, live, top reason)
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from attune.errors import AttuneError
from attune.integrity.content import frame_content
from attune.integrity.evidence import CameraInfoSeen, FrameObservation, StreamEvidence
from attune.integrity.model import StreamGuardModel, StreamVerdict
from attune.integrity.trust import StreamTrustReport
from attune.ros import msg_stream_trust, qos
from attune.ros.image_input import ImageInputNode, image_input_parameters
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics

if TYPE_CHECKING:
    import numpy.typing as npt
    from sensor_msgs.msg import CompressedImage, Image

NODE_NAME = 'stream_guard_node'
TRUST_TOPIC = '/attune/stream_trust'

PARAMETERS: tuple[ParamSpec, ...] = (
    *image_input_parameters(queue_depth=5),
    ParamSpec('camera_info_topic', '', 'CameraInfo topic of the camera; empty: <image_topic namespace>/camera_info.'),
    ParamSpec('threshold', -1.0, 'Score below which the stream is judged not live; -1: the shipped model\'s '
              'threshold (chosen for <= 1 % false alarms on genuine training streams).', min=-1.0, max=1.0,
              dynamic=True),
    ParamSpec('publish_every', 5, 'Publish a StreamTrust every this many images.', min=1, max=1000, dynamic=True),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


def camera_info_topic_for(image_topic: str) -> str:
    """The camera_info topic next to an image topic (/camera/image_raw -> /camera/camera_info)."""
    head = image_topic.rsplit('/', 1)[0]
    return f'{head}/camera_info'


class StreamGuardNode(ImageInputNode):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('stream guard', working='judging the camera stream',
                              idle='stale input: no images in the last {s:g} s')
    COUNTERS = ('frames_processed', 'verdicts_published', 'not_live_verdicts')
    ANALYZER = 'stream evidence'

    def __init__(self, **kwargs: Any) -> None:
        self.model: StreamGuardModel | None = None
        self.last_verdict: StreamVerdict | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def build_analyzer(self) -> StreamEvidence:
        if self.model is None:
            self.model = StreamGuardModel.load()
        return StreamEvidence()

    def configure(self) -> None:
        self._trust_pub = self.add_publisher(self._msgs.StreamTrust, TRUST_TOPIC, qos.RESULTS)
        self.add_timer(1.0, self._refresh_publishers)

    def activate(self) -> None:
        self.subscribe_images()
        info_topic = self.params['camera_info_topic'] or camera_info_topic_for(self.params['image_topic'])
        self.add_subscription(CameraInfo, info_topic, self._on_camera_info, qos.SENSOR)
        self._refresh_publishers()
        self.get_logger().info(f"guarding {self.params['image_topic']} (camera_info {info_topic})")

    # --- evidence --------------------------------------------------------------------------------
    def _refresh_publishers(self) -> None:
        if self.analyzer is None:
            return
        infos = self.get_publishers_info_by_topic(self.params['image_topic'])
        self.analyzer.publishers = tuple(sorted(
            f'{i.node_namespace.rstrip("/")}/{i.node_name}' for i in infos))

    def _on_camera_info(self, msg: CameraInfo) -> None:
        if self.analyzer is not None:
            self.analyzer.camera_info = CameraInfoSeen(msg.header.frame_id, int(msg.width), int(msg.height))

    def process(self, msg: Image | CompressedImage, rgb: npt.NDArray[Any]) -> None:
        receive_ns = time.time_ns()
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        if self.analyzer.frames and not self.analyzer.publishers:
            self._refresh_publishers()
        self.analyzer.add(FrameObservation(stamp_ns, receive_ns, msg.header.frame_id, rgb.shape[1], rgb.shape[0],
                                           frame_content(rgb)))
        if (self.counts['frames_processed'] + 1) % self.params['publish_every'] == 0:   # counted after this step
            self._publish_trust(msg.header)

    def _publish_trust(self, header: Header) -> None:
        evidence, model = self.analyzer, self.model
        if model is None:  # loaded by build_analyzer, before the first image
            raise AttuneError('stream guard: no model loaded')
        trust = StreamTrustReport(self.params['image_topic'], len(evidence.frames))
        if evidence.ready:
            values = evidence.features()
            threshold = self.params['threshold']
            verdict = model.verdict(values)
            if threshold >= 0:
                verdict = StreamVerdict(verdict.score, verdict.score >= threshold, verdict.reasons)
            self.last_verdict = verdict
            trust = StreamTrustReport.judged(trust.topic, trust.frames, verdict, values)
            self.count('not_live_verdicts', int(not verdict.live))
        self._trust_pub.publish(msg_stream_trust.to_msg(trust, header))
        self.count('verdicts_published')

    def diagnostic_values(self) -> dict[str, Any]:
        values = super().diagnostic_values()
        v = self.last_verdict
        values.update({'live_score': round(v.score, 3) if v else 'n/a', 'live': v.live if v else 'n/a',
                       'top_reason': (v.reasons[0] if v and v.reasons else ''),
                       'publishers': ', '.join(self.analyzer.publishers) if self.analyzer else ''})
        return values


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = StreamGuardNode


def main(args: list[str] | None = None) -> int:
    return run_node(StreamGuardNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
