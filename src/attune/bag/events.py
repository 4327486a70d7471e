"""Event-camera recordings into bags: AEDAT4 -> whole-sensor attune/EventPacket messages (no rclpy)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attune.bag.typestore import attune_typestore
from attune.bag.writer import messages_to_bag
from attune.errors import AttuneError, BagError

EVENT_PACKET_TYPE = 'attune/msg/EventPacket'


@dataclass(frozen=True)
class EventBagInfo:
    """What aedat4_to_bag wrote: the bag, topic, packet and event counts, sensor size, time span."""

    path: Path
    topic: str
    packets: int
    events: int
    width: int
    height: int
    start_ns: int
    end_ns: int

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) * 1e-9


def aedat4_to_bag(recording: Path, out: Path, *, topic: str = '/attune/events/sensor', packet_ns: int = 10_000_000,
                  frame_id: str = 'event_camera', start_ns: int | None = None, overwrite: bool = False) -> EventBagInfo:
    """Write an AEDAT4 recording as EventPackets (one per packet_ns, stamped with the end of its window,
    bag timestamp = header stamp) into a new rosbag2 bag (version 9, MCAP).

    Raises:
        BagError: the recording cannot be read, has no events, or the bag cannot be written.
    """
    from attune.events.aedat4 import packets, read_aedat4

    try:
        rec = read_aedat4(recording)
    except AttuneError as exc:
        raise BagError(str(exc)) from None
    events = rec.events
    if not len(events):
        raise BagError(f'{recording} holds no events')
    shift = 0 if start_ns is None else int(start_ns) - int(events.t[0])
    if int(events.t[0]) + shift < 0:
        raise BagError(f'start_ns must not be negative, got {start_ns}')
    store = attune_typestore()
    types = store.types
    chunks = packets(events, packet_ns)

    def messages() -> Iterator[tuple[str, str, int, Any]]:
        for stamp, chunk in chunks:
            stamp += shift
            sec, nanosec = divmod(stamp, 1_000_000_000)
            header = types['std_msgs/msg/Header'](stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec),
                                                  frame_id=frame_id)
            roi = types['attune/msg/NormalizedRoi'](xmin=0.0, ymin=0.0, xmax=1.0, ymax=1.0)
            msg = types[EVENT_PACKET_TYPE](
                header=header, face_id='', width=events.width, height=events.height, roi=roi,
                x=np.ascontiguousarray(chunk.x, np.uint16), y=np.ascontiguousarray(chunk.y, np.uint16),
                t=np.ascontiguousarray(chunk.t + shift, np.int64), polarity=np.ascontiguousarray(chunk.p, np.uint8),
                emulated=False)
            yield topic, EVENT_PACKET_TYPE, stamp, msg

    if not topic.startswith('/'):
        topic = '/' + topic
    messages_to_bag(messages(), out, typestore=store, overwrite=overwrite)
    return EventBagInfo(path=Path(out), topic=topic, packets=len(chunks), events=len(events), width=events.width,
                        height=events.height, start_ns=int(events.t[0]) + shift, end_ns=chunks[-1][0] + shift)
