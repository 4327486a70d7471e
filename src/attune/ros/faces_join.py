"""attune/Faces joined with the camera image they were computed from, by exact header stamp
(expression_node, asd_emotion_node, event_emulator_node).

Images and Faces arrive on separate topics; attune.expression.sync pairs them with bounded buffers
and counts what it drops (reported in /diagnostics as sync_<count>). Only well-formed images of the
camera stream enter the join (FacesJoinNode.admitted): a hostile source cannot move its clock.
Faces that find no image (the image topic is not the face node's input, or images are lost) are
reported as bad input once more than UNMATCHED_FACES_TOLERANCE of them have piled up since the last
report.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rclpy.qos import QoSProfile

from attune.errors import AttuneError, ImageError
from attune.expression.sync import ExactStampSynchronizer
from attune.face.types import FaceFrame
from attune.imaging import checked_size
from attune.imaging.source import SourceKey
from attune.limits import DEFAULT_MAX_FACES
from attune.ros import msg_faces, qos
from attune.ros.image_input import ImageInputNode
from attune.ros.params import ParamSpec
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from rclpy.subscription import Subscription
    from sensor_msgs.msg import CompressedImage, Image

    from attune.msg import Faces


def faces_join_parameters(*, faces_help: str = "attune/Faces topic (the face node's output).") -> tuple[ParamSpec, ...]:
    """The parameters FacesJoinNode reads besides the image input's: faces_topic, sync_queue_size,
    max_faces_per_message (read by the shell's screen, attune.ros.screen)."""
    return (
        ParamSpec('faces_topic', '/attune/faces', faces_help),
        ParamSpec('sync_queue_size', 30, 'Unmatched images (or Faces) kept while waiting for their partner '
                  'with the same stamp; older ones are dropped and counted.', min=1, max=1000),
        ParamSpec('max_faces_per_message', DEFAULT_MAX_FACES, 'Faces analysed per Faces message; the rest are '
                  'dropped and counted (faces_over_limit), so one message cannot cost unbounded work.',
                  min=1, max=1000),
    )


@dataclass(frozen=True)
class JoinedFaces:
    """A Faces message and its decoded FaceFrame, as the join carries them to process_joined."""

    msg: Faces
    frame: FaceFrame


class FacesJoinNode(ImageInputNode):
    """A node fed Faces and the image of each. Subclasses implement process_joined(faces, image);
    on_faces may be overridden to work on every Faces first (it then calls join_faces)."""

    #: QoS of the Faces subscription.
    FACES_QOS: ClassVar[QoSProfile] = qos.RESULTS
    #: Unmatched Faces tolerated between two reports (None: never reported).
    UNMATCHED_FACES_TOLERANCE: ClassVar[int | None] = 0

    def __init__(self, name: str, parameters: tuple[ParamSpec, ...], **kwargs: Any) -> None:
        # Images joined with the Faces items of the node (Any: a JoinedFaces unless the node offers its own).
        self._sync: ExactStampSynchronizer[Image | CompressedImage, Any] | None = None
        self._unmatched_reported = 0
        super().__init__(name, parameters, **kwargs)

    def subscribe_faces(self) -> Subscription[Faces]:
        """Subscribe to `faces_topic` with on_faces; in activate().

        The Faces queue is at least as deep as the image queue (`input_queue_depth`): each Faces pairs with
        one image, and a shallower one would let a burst overwrite the Faces of images still queued, which
        then never join."""
        depth = max(self.FACES_QOS.depth, int(self.params.get('input_queue_depth', 0)))
        faces_qos = QoSProfile(history=self.FACES_QOS.history, depth=depth, reliability=self.FACES_QOS.reliability,
                               durability=self.FACES_QOS.durability)
        return self.add_subscription(self._msgs.Faces, self.params['faces_topic'], self.on_faces, faces_qos)

    def on_image(self, msg: Image | CompressedImage) -> None:
        if self._sync is None or not self.admitted(msg):
            return
        pair = self._sync.add_first(to_ns(msg.header.stamp), msg)
        if pair is not None:
            self.process_joined(pair[1], msg)

    def admitted(self, msg: Image | CompressedImage) -> bool:
        """Whether an image may enter the join: well-formed (checked without converting its pixels) and
        of the camera stream (attune.imaging.source), else dropped and counted.

        Checked before the join because a joined image moves the join's clock: another source's
        well-formed image, paired with a Faces of the same stamp from the same sender, would make the
        stream's own frames late, and a malformed one would take its stamp's Faces for nothing."""
        try:
            width, height = checked_size(msg, max_pixels=self.params['max_image_pixels'])
        except ImageError as exc:
            self.bad_input.report(type(exc).__name__, f'dropped image: {exc} (stamp {to_ns(msg.header.stamp)} ns)')
            return False
        return self.admit_source(SourceKey(width, height, str(msg.header.frame_id)))

    def decode_faces(self, msg: Faces) -> FaceFrame | None:
        """The Faces message as a FaceFrame, decoded once per message; None, reported and counted as bad
        input, when it is malformed. Decoded before the join: a malformed Faces must not take the image
        of its stamp from the well-formed one that follows."""
        try:
            return msg_faces.from_msg(msg)
        except ValueError as exc:
            self.bad_input.report('faces', f'dropped Faces (stamp {to_ns(msg.header.stamp)} ns): {exc}')
            return None

    def on_faces(self, msg: Faces) -> None:
        if self._sync is None:
            return
        frame = self.decode_faces(msg)
        if frame is None:
            return
        item = JoinedFaces(msg, frame)
        image = self.join_faces(to_ns(msg.header.stamp), item)
        if image is not None:
            self.process_joined(item, image)

    def join_faces(self, stamp_ns: int, item: Any) -> Image | CompressedImage | None:
        """Offer a Faces message (or what the node made of it, `item`) to the join; the image of the
        same stamp when it was waiting, else None (the image's arrival then calls process_joined)."""
        if self._sync is None:  # the join is made on configure, before any subscription exists
            raise AttuneError(f'{self.get_name()}: Faces offered to the join before the node was configured')
        pair = self._sync.add_second(stamp_ns, item)
        self._report_unmatched_faces()
        return None if pair is None else pair[0]

    def process_joined(self, faces: Any, image: Image | CompressedImage) -> None:
        """The node's step for Faces (the item given to join_faces: a JoinedFaces unless the node offers
        its own, hence Any) and its image message."""
        raise NotImplementedError

    def _report_unmatched_faces(self) -> None:
        tolerance = self.UNMATCHED_FACES_TOLERANCE
        if tolerance is None or self._sync is None:
            return
        unmatched = self._sync.counts.dropped_second + self._sync.counts.late_second
        if unmatched > self._unmatched_reported + tolerance:
            self.bad_input.report('no_matching_image', f'dropped {unmatched - self._unmatched_reported} Faces '
                                  f'message(s) without an image of the same stamp ({unmatched} so far; is '
                                  "image_topic the face node's input?)")
            self._unmatched_reported = unmatched

    def diagnostic_values(self) -> dict[str, Any]:
        values = super().diagnostic_values()
        if self._sync is not None:
            values.update({f'sync_{k}': v for k, v in self._sync.counts.as_dict().items()})
        return values

    # --- lifecycle -------------------------------------------------------------------------------
    def _configure_all(self) -> None:
        self._sync = ExactStampSynchronizer(queue_size=self.params['sync_queue_size'])
        super()._configure_all()

    def _deactivate_all(self) -> None:
        super()._deactivate_all()
        if self._sync is not None:
            self._sync.clear()

    def _release_all(self) -> None:
        super()._release_all()
        if self._sync is not None:
            self._sync.clear()
