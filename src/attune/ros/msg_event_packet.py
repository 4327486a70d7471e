"""attune/EventPacket <-> attune.events.types.RegionEvents, for rclpy and rosbags messages.

Reading checks the events (attune.events.types.checked_events): events outside width x height are
dropped and unsorted times sorted; checked_from_msg says what was repaired.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from attune.events.types import EventCheck, RegionEvents, checked_events
from attune.ros import msg_normalized_roi
from attune.ros.interfaces import attune_msgs
from attune.ros.msg_fields import as_numpy, typed_array

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import EventPacket


def to_msg(packet: RegionEvents, header: Header) -> EventPacket:
    """An rclpy EventPacket carrying `packet` and `header` (the source image's, or the packet end's)."""
    events = packet.events
    msg: EventPacket = attune_msgs().EventPacket(header=header, face_id=packet.face_id, width=events.width,
                                                 height=events.height, emulated=packet.emulated)
    msg.roi = msg_normalized_roi.to_msg(packet.roi)
    msg.x = typed_array(events.x, 'H', np.uint16)
    msg.y = typed_array(events.y, 'H', np.uint16)
    msg.t = typed_array(events.t, 'q', np.int64)
    msg.polarity = typed_array(events.p, 'B', np.uint8)
    return msg


def checked_from_msg(msg: EventPacket) -> tuple[RegionEvents, EventCheck]:
    """The packet of an EventPacket (rclpy or rosbags), checked, and what the check repaired.

    Raises:
        EventError: the arrays differ in length or the grid has no pixels.
    """
    events, check = checked_events(as_numpy(msg.x, np.uint16), as_numpy(msg.y, np.uint16), as_numpy(msg.t, np.int64),
                                   as_numpy(msg.polarity, np.uint8), int(msg.width), int(msg.height))
    return RegionEvents(events, msg_normalized_roi.from_msg(msg.roi), msg.face_id, bool(msg.emulated)), check


def from_msg(msg: EventPacket) -> RegionEvents:
    """The packet of an EventPacket, checked (see checked_from_msg).

    Raises:
        EventError: the arrays differ in length or the grid has no pixels.
    """
    return checked_from_msg(msg)[0]
