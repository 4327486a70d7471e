"""AEDAT4 reading (the real DVXplorer face recording) and `attune bag from-aedat4`."""
from __future__ import annotations

import numpy as np
import pytest

from attune.bag import read_messages
from attune.cli.main import main as attune_main
from attune.events.aedat4 import packets, read_aedat4
from attune.events.errors import RecordingError
from test.conftest import shared_data

RECORDING = ('events', 'tonic_dvxplorer_face', 'sample.aedat4')
FIRST_US, LAST_US = 1605537493718345, 1605537494308262  # decoded independently with aedat.Decoder (SOURCE.txt)


def test_reads_the_real_recording_count_size_and_time_range() -> None:
    rec = read_aedat4(shared_data(*RECORDING))
    assert len(rec.events) == 111_954
    assert (rec.width, rec.height) == (320, 240) and rec.stream_id == 0
    assert rec.start_ns == FIRST_US * 1000 and rec.end_ns == LAST_US * 1000
    assert (rec.end_ns - rec.start_ns) / 1e9 == pytest.approx(0.59, abs=0.001)
    assert rec.check.clean
    e = rec.events
    assert int(e.x.max()) < 320 and int(e.y.max()) < 240 and np.all(np.diff(e.t) >= 0)
    assert 0.4 < e.p.mean() < 0.6  # both polarities, about balanced


def test_packets_cover_every_event_once_and_are_stamped_at_their_end() -> None:
    rec = read_aedat4(shared_data(*RECORDING))
    chunks = packets(rec.events, 10_000_000)
    assert sum(len(c) for _, c in chunks) == len(rec.events)
    assert all(len(c) == 0 or (c.t[-1] < stamp and c.t[0] >= stamp - 10_000_000) for stamp, c in chunks)


def test_missing_or_wrong_files_raise_recording_error(tmp_path) -> None:
    with pytest.raises(RecordingError, match='does not exist'):
        read_aedat4(tmp_path / 'none.aedat4')
    bad = tmp_path / 'bad.aedat4'
    bad.write_bytes(b'not an aedat file at all')
    with pytest.raises(RecordingError, match='AEDAT4'):
        read_aedat4(bad)


def test_bag_from_aedat4_round_trip(tmp_path, capsys) -> None:
    out = tmp_path / 'events_bag'
    assert attune_main(['bag', 'from-aedat4', str(shared_data(*RECORDING)), str(out), '--packet-ms', '20',
                        '--start-ns', '1000000000']) == 0
    assert '111954 events' in capsys.readouterr().out
    messages = [m.deserialize() for m in read_messages(out, ['/attune/events/sensor'])]
    assert len(messages) == 30
    assert sum(len(m.x) for m in messages) == 111_954
    first = messages[0]
    assert (first.width, first.height, first.face_id, first.emulated) == (320, 240, '', False)
    assert int(first.t[0]) == 1_000_000_000
    stamp = first.header.stamp.sec * 10**9 + first.header.stamp.nanosec
    assert stamp == 1_020_000_000 and int(first.t[-1]) < stamp
    assert attune_main(['bag', 'from-aedat4', str(tmp_path / 'missing.aedat4'), str(tmp_path / 'x')]) == 1
