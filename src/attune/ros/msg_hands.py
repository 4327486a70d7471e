"""attune/Hands <-> attune.hands.types.HandFrame (and its sub-message attune/Hand <-> HandObservation).

Reading is attune.hands.messages.hand_frame_from_fields, which the core shares with bag readers
(rosbags messages have the same fields): malformed landmark arrays become (0, 3), and the sign
recognizer drops such hands and says why.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from attune.hands.messages import hand_frame_from_fields
from attune.hands.types import HandFrame, HandObservation
from attune.ros import msg_normalized_roi
from attune.ros.interfaces import attune_msgs
from attune.ros.msg_fields import flat_points

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import Hand, Hands


def hand_to_msg(hand: HandObservation, *, world_landmarks: bool = True) -> Hand:
    m: Hand = attune_msgs().Hand(handedness=hand.handedness, score=float(hand.score))
    m.roi = msg_normalized_roi.to_msg(hand.box)
    m.landmarks = flat_points(hand.landmarks)
    if world_landmarks and hand.world_landmarks is not None:
        m.world_landmarks = flat_points(hand.world_landmarks)
    return m


def to_msg(frame: HandFrame, header: Header, *, world_landmarks: bool = True) -> Hands:
    """A Hands message for `frame`, carrying `header` (the source image's header)."""
    out: Hands = attune_msgs().Hands(header=header, image_width=frame.width, image_height=frame.height)
    out.hands = [hand_to_msg(hand, world_landmarks=world_landmarks) for hand in frame.hands]
    return out


def from_msg(msg: Hands) -> HandFrame:
    """The HandFrame of a Hands message (rclpy or rosbags)."""
    return hand_frame_from_fields(msg)
