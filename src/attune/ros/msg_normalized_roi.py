"""attune/NormalizedRoi <-> attune.geometry.BoundingBox (a box in image-normalized coordinates).

NormalizedRoi is carried by Face, Hand and EventPacket, hence a module of its own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from attune.geometry import BoundingBox
from attune.ros.interfaces import attune_msgs

if TYPE_CHECKING:
    from attune.msg import NormalizedRoi


def to_msg(box: BoundingBox) -> NormalizedRoi:
    msg: NormalizedRoi = attune_msgs().NormalizedRoi(xmin=float(box.xmin), ymin=float(box.ymin),
                                                     xmax=float(box.xmax), ymax=float(box.ymax))
    return msg


def from_msg(msg: NormalizedRoi) -> BoundingBox:
    """The box of a NormalizedRoi (rclpy, or rosbags: the same fields)."""
    return BoundingBox(float(msg.xmin), float(msg.ymin), float(msg.xmax), float(msg.ymax))
