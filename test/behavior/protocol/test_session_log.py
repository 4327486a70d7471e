"""The therapist's JSONL session log: one record per line, flushed, readable while the node runs."""
from __future__ import annotations

import json

from attune.behavior.protocol import NameCallOptions, NameCallResult, ProtocolStatus
from attune.behavior.protocol.session_log import NameCallLog
from attune.jsonl_log import iso_time, read_log


def test_records_are_json_lines_with_the_protocol_fields(tmp_path) -> None:
    result = NameCallResult(ProtocolStatus.RESPONDED, 'head_turn', 'f1', 'Sam', 1_700_000_000_000_000_000,
                            1_700_000_003_000_000_000, latency_s=0.8123456, head_turn_deg=31.0, yaw_before_deg=35.0,
                            response_emotion='happy', response_valence=0.41, response_probabilities=(0.1,) * 7,
                            affect_samples=15, yaw_samples=90, options=NameCallOptions())
    with NameCallLog(tmp_path / 'logs', 'child 07', {'model': {'depth': 18}}) as log:
        log.name_call(result, calibration='calibrated')
        # flushed at once: readable before the log is closed
        assert [r['type'] for r in read_log(log.path)] == ['session_start', 'name_call']
        path = log.path
    assert path.parent == tmp_path / 'logs'
    assert path.name.startswith('asd_session_') and path.name.endswith('_child-07.jsonl')
    start, call, end = read_log(path)
    assert start['session'] == 'child 07' and start['model'] == {'depth': 18}
    assert call['status'] == 'responded' and call['latency_s'] == 0.8123 and call['name'] == 'Sam'
    assert call['stimulus_time'] == '2023-11-14T22:13:20.000+00:00' == iso_time(result.stimulus_ns)
    assert call['thresholds']['turn_threshold_deg'] == 15.0 and call['calibration'] == 'calibrated'
    assert end == {**end, 'type': 'session_end', 'name_calls': 1, 'by_status': {'responded': 1}}


def test_unknown_values_are_null_not_nan(tmp_path) -> None:
    result = NameCallResult(ProtocolStatus.NO_FACE, 'no_face_at_call', '', 'Sam', 1, 2)
    with NameCallLog(tmp_path) as log:
        log.name_call(result)
        text = log.path.read_text()
    assert 'NaN' not in text
    call = json.loads(text.splitlines()[1])
    assert call['latency_s'] is None and call['response_emotion'] == '' and call['face_id'] == ''


def test_two_logs_in_one_second_do_not_collide(tmp_path) -> None:
    with NameCallLog(tmp_path) as a, NameCallLog(tmp_path) as b:
        assert a.path != b.path
