"""Session log -> `attune report SESSION.jsonl`: summary numbers and the PNG plot; bag reports still work."""
from __future__ import annotations

import argparse
import json
import math

import pytest

from attune.behavior.commands import Action, Command
from attune.behavior.fusion import Contribution, PersonState
from attune.behavior.outcome import PersonSign, ProtocolResult, Suppressed
from attune.behavior.report import format_session_report, plot_session, session_report
from attune.behavior.session_log import SessionLog, SessionLogError, is_session_log, read_session_log


def write_session(path) -> None:
    with SessionLog(path, start=100.0, state_interval_s=0.5, meta={'policy': 'asd_session'}) as log:
        for i in range(41):  # 20 s at 2 Hz: distress rises to 0.8 and back
            t = 100.0 + i * 0.5
            distress = 0.8 if 10 <= i < 20 else 0.1
            log.state(t, PersonState('f1', 0, True, 0.7, 0.6, 0.2, 0.0, distress,
                                     (Contribution('expression', 'rules', 'distress', distress, 0.9, 0.1),)))
            log.state(t + 0.1, PersonState('f1', 0, True, 0.7, 0.6, 0.2, 0.0, distress))  # decimated away
        log.state(110.0, PersonState('f2', 0, False, math.nan, math.nan, math.nan, math.nan, math.nan))
        log.command(105.0, Command(Action.LED, led_color=(0.2, 0.4, 0.8), rule='calm_down', reason='distress 0.80'))
        log.command(105.0, Command(Action.SAY, text="It's okay.", rule='calm_down', reason='distress 0.80'))
        log.suppressed(106.0, Suppressed('calm_down', 'f1', 'cooldown (30 s)'))
        log.command(112.0, Command(Action.NAME_CALL, text='Sam', target_id='f1', rule='name_call', reason='calm'))
        log.protocol(113.2, ProtocolResult('f1', 'name_call', 'responded', latency_s=1.2, head_turn_deg=35.0))
        log.sign(115.0, PersonSign('f1', 'hello', 0.9, 'tcn'))
        log.close(120.0)


def test_session_log_records(tmp_path) -> None:
    path = tmp_path / 'session.jsonl'
    write_session(path)
    records = list(read_session_log(path))
    kinds = [r['kind'] for r in records]
    assert kinds[0] == 'session' and kinds[-1] == 'end' and records[-1]['t'] == 20.0
    assert kinds.count('state') == 42  # 41 of f1 (decimated) + 1 of f2
    f2 = next(r for r in records if r.get('person') == 'f2' and r['kind'] == 'state')
    assert f2['valence'] is None  # NaN -> null: strict JSON
    assert is_session_log(path)
    with pytest.raises(SessionLogError, match="cannot create"):
        SessionLog(path, start=0.0)  # never overwrites a log


def test_report_numbers(tmp_path) -> None:
    path = tmp_path / 'session.jsonl'
    write_session(path)
    report = session_report(path)
    assert report.policy == 'asd_session' and report.duration_s == 20.0
    f1, f2 = report.persons
    assert (f1.id, f1.samples, f1.present_fraction) == ('f1', 41, 1.0)
    assert f1.max_distress == 0.8 and f1.distressed_s == pytest.approx(5.0)  # 10 samples x 0.5 s
    assert f1.mean['distress'] == pytest.approx((10 * 0.8 + 31 * 0.1) / 41, abs=1e-4)
    assert f2.mean['valence'] is None
    assert report.commands_by_action == {'LED': 1, 'SAY': 1, 'NAME_CALL': 1}
    assert report.commands_by_rule == {'calm_down': 2, 'name_call': 1}
    data = report.to_dict()
    assert data['protocol_results'] == {'responded': 1} and data['mean_response_latency_s'] == 1.2
    assert data['suppressed_by_rule'] == {'calm_down': 1} and data['signs'] == 1
    json.dumps(data, allow_nan=False)
    text = format_session_report(report)
    assert 'commands:  3 (LED 1, NAME_CALL 1, SAY 1)' in text
    assert 'name calls: 1; results: responded 1' in text and 'latency 1.20 s' in text
    assert "NAME_CALL name_call: calm" in text


def test_truncated_and_bad_logs(tmp_path) -> None:
    path = tmp_path / 'cut.jsonl'
    write_session(path)
    text = path.read_text()
    path.write_text(text + '{"t": 21.0, "kind": "sta')  # a crash mid-line
    assert len(list(read_session_log(path))) == len(text.splitlines())
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"t": 0, "kind": "session"}\nnot json\n{"t": 1, "kind": "end"}\n')
    with pytest.raises(SessionLogError, match=r'bad\.jsonl:2: not JSON'):
        session_report(bad)
    assert not is_session_log(bad.with_name('nothing.jsonl'))


def test_cli_report_writes_summary_and_png(tmp_path, capsys) -> None:
    from attune.cli import report

    path = tmp_path / 'session.jsonl'
    write_session(path)
    parser = argparse.ArgumentParser(prog='attune')
    report.add_parser(parser.add_subparsers())
    args = parser.parse_args(['report', str(path), '--json'])
    assert args.handler(args) == 0
    out = capsys.readouterr()
    data = json.loads(out.out.strip().splitlines()[-1])
    png = tmp_path / 'session.png'
    assert data['png'] == str(png) and data['commands'] == 3
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 10_000
    assert 'name calls: 1' in out.err
    other = tmp_path / 'plot.png'
    args = parser.parse_args(['report', str(path), '--png', str(other)])
    assert args.handler(args) == 0 and other.is_file()
    from PIL import Image

    with Image.open(other) as image:
        assert image.size[0] > 800 and image.size[1] > 600


def test_plot_of_an_empty_session(tmp_path) -> None:
    path = tmp_path / 'empty.jsonl'
    SessionLog(path, start=0.0).close(1.0)
    report = session_report(path)
    assert report.persons == () and 'no interaction states' in format_session_report(report)
    assert plot_session(report, tmp_path / 'empty.png').is_file()
