"""Reading event recordings in AEDAT4 (iniVation DV) format with the `aedat` package (no rclpy).

Why `aedat` (neuromorphicsystems/aedat, a Rust decoder with Python bindings, pinned in
requirements.txt): AEDAT4 is a FlatBuffers container with LZ4/Zstd-compressed packets; the maintained
decoders are aedat and iniVation's dv-processing, and aedat is the small one with wheels for our
Python. Only the polarity-event stream is read (IMU, trigger and frame streams are skipped).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attune.events.errors import RecordingError
from attune.events.types import EventArray, EventCheck, checked_events


@dataclass(frozen=True)
class EventRecording:
    """The polarity events of one AEDAT4 file.

    Attributes:
        path: the file.
        events: all events, times in nanoseconds on the recording's clock (AEDAT4 stores Unix
            microseconds, so these are Unix nanoseconds, the epoch ROS time uses).
        check: what was dropped or sorted while reading (see checked_events).
        stream_id: the AEDAT4 stream the events came from.
    """

    path: Path
    events: EventArray
    check: EventCheck
    stream_id: int

    @property
    def width(self) -> int:
        return self.events.width

    @property
    def height(self) -> int:
        return self.events.height

    @property
    def start_ns(self) -> int:
        return int(self.events.t[0]) if len(self.events) else 0

    @property
    def end_ns(self) -> int:
        return int(self.events.t[-1]) if len(self.events) else 0


def read_aedat4(path: Path | str, stream_id: int | None = None) -> EventRecording:
    """All polarity events of an AEDAT4 file.

    Args:
        path: the .aedat4 file.
        stream_id: which event stream (default: the first one of type 'events').

    Raises:
        RecordingError: the file is missing, not AEDAT4, has no event stream, or fails to decode.
    """
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f'event recording {path} does not exist')
    try:
        import aedat
    except ImportError:
        raise RecordingError('reading AEDAT4 needs the `aedat` package (pip install -r requirements.txt)') from None
    try:
        decoder = aedat.Decoder(str(path))
        streams = decoder.id_to_stream()
    except Exception as exc:  # noqa: BLE001 - the Rust decoder raises plain Exceptions
        raise RecordingError(f'cannot read {path} as AEDAT4: {exc}') from None
    event_streams = {i: s for i, s in streams.items() if s.get('type') == 'events'}
    if not event_streams:
        raise RecordingError(f'{path} holds no event stream (streams: {streams})')
    if stream_id is None:
        stream_id = min(event_streams)
    elif stream_id not in event_streams:
        raise RecordingError(f'{path} has no event stream {stream_id} (event streams: {sorted(event_streams)})')
    width, height = int(event_streams[stream_id]['width']), int(event_streams[stream_id]['height'])
    chunks = []
    try:
        for packet in decoder:
            if packet['stream_id'] == stream_id and 'events' in packet:
                chunks.append(packet['events'])
    except Exception as exc:  # noqa: BLE001
        raise RecordingError(f'cannot decode {path}: {exc}') from None
    if chunks:
        raw = np.concatenate(chunks)
        x, y, t_us, on = raw['x'], raw['y'], raw['t'].astype(np.int64), raw['on']
    else:
        x = y = on = np.zeros(0, np.uint8)
        t_us = np.zeros(0, np.int64)
    events, check = checked_events(x, y, t_us * 1000, on, width, height)
    return EventRecording(path=path, events=events, check=check, stream_id=int(stream_id))


def packets(events: EventArray, period_ns: int) -> list[tuple[int, EventArray]]:
    """Split events into consecutive packets of period_ns: [(end stamp, events in [end - period, end))].

    The first packet starts at the first event; the stamp of each packet is the end of its window,
    as a sensor driver stamps a read-out. Empty periods give empty packets (time still passes).
    """
    if period_ns <= 0:
        raise RecordingError(f'packet period must be positive, got {period_ns} ns')
    if not len(events):
        return []
    start = int(events.t[0])
    count = int((int(events.t[-1]) - start) // period_ns) + 1
    return [(start + (i + 1) * period_ns, events.between(start + i * period_ns, start + (i + 1) * period_ns))
            for i in range(count)]
