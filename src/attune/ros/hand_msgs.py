"""attune/Hands <-> HandFrame for rclpy messages."""
from __future__ import annotations

from typing import TYPE_CHECKING

from attune.hands.messages import hand_frame_from_fields
from attune.hands.types import HandFrame
from attune.ros.face_msgs import flat_points
from attune.ros.interfaces import attune_msgs

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import Hand, Hands


def hands_to_msg(frame: HandFrame, header: Header, *, world_landmarks: bool = True) -> Hands:
    """A Hands message for `frame`, carrying `header` (the source image's header)."""
    msgs = attune_msgs()
    out: Hands = msgs.Hands(header=header, image_width=frame.width, image_height=frame.height)
    for hand in frame.hands:
        box = hand.box
        m: Hand = msgs.Hand(handedness=hand.handedness, score=float(hand.score))
        m.roi = msgs.NormalizedRoi(xmin=box.xmin, ymin=box.ymin, xmax=box.xmax, ymax=box.ymax)
        m.landmarks = flat_points(hand.landmarks)
        if world_landmarks and hand.world_landmarks is not None:
            m.world_landmarks = flat_points(hand.world_landmarks)
        out.hands.append(m)
    return out


def hands_from_msg(msg: Hands) -> HandFrame:
    """The HandFrame of a Hands message (malformed landmark arrays become (0, 3): the sign
    recognizer drops such hands and says why)."""
    return hand_frame_from_fields(msg)
