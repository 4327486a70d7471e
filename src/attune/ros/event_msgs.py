"""attune/EventPacket <-> attune.events.EventArray, for rclpy and rosbags messages."""
from __future__ import annotations

import array
from typing import TYPE_CHECKING, Any

import numpy as np

from attune.events.types import EventArray, EventCheck, checked_events
from attune.geometry import BoundingBox
from attune.ros.interfaces import attune_msgs

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import EventPacket


def _buffer(values: Any, dtype: type) -> np.ndarray:
    """A message array field (array.array, numpy array, list) as numpy, without copying when possible."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, array.array):
        return np.frombuffer(values, dtype=values.typecode) if len(values) else np.zeros(0, dtype)
    return np.asarray(values, dtype=dtype)


def events_from_msg(msg: Any) -> tuple[EventArray, EventCheck]:
    """The events of an EventPacket (rclpy or rosbags), checked: events outside width x height are
    dropped, unsorted times sorted (see attune.events.types.checked_events).

    Raises:
        EventError: the arrays differ in length or the grid has no pixels.
    """
    return checked_events(_buffer(msg.x, np.uint16), _buffer(msg.y, np.uint16), _buffer(msg.t, np.int64),
                          _buffer(msg.polarity, np.uint8), int(msg.width), int(msg.height))


def roi_of(msg: Any) -> BoundingBox:
    r = msg.roi
    return BoundingBox(float(r.xmin), float(r.ymin), float(r.xmax), float(r.ymax))


def events_to_msg(events: EventArray, header: Header, *, face_id: str = '', roi: BoundingBox | None = None,
                  emulated: bool = False) -> EventPacket:
    """An rclpy EventPacket carrying `events` and `header` (the source image's, or the packet end's)."""
    msgs = attune_msgs()
    box = roi or BoundingBox(0.0, 0.0, 1.0, 1.0)
    msg: EventPacket = msgs.EventPacket(header=header, face_id=face_id, width=events.width, height=events.height,
                           emulated=emulated)
    msg.roi = msgs.NormalizedRoi(xmin=float(box.xmin), ymin=float(box.ymin), xmax=float(box.xmax),
                                 ymax=float(box.ymax))
    msg.x = array.array('H', np.ascontiguousarray(events.x, np.uint16).tobytes())
    msg.y = array.array('H', np.ascontiguousarray(events.y, np.uint16).tobytes())
    msg.t = array.array('q', np.ascontiguousarray(events.t, np.int64).tobytes())
    msg.polarity = array.array('B', np.ascontiguousarray(events.p, np.uint8).tobytes())
    return msg
