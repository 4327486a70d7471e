"""Operator ratings (`attune rate`, the session log's rating records) and the HTML session report,
rendered in a real headless Chromium (skipped with the reason when Chromium is not installed)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from attune.behavior.html_report import render_html
from attune.behavior.ratings import Rating, RatingError, append_rating, ratings_path, read_ratings_file
from attune.behavior.report import format_session_report, session_report
from attune.behavior.session_log import SessionLog, SessionLogError
from attune.cli.main import main as attune_main
from test.behavior.test_session_report import write_session


def test_rating_scale_and_records() -> None:
    with pytest.raises(RatingError, match='engagement must be a whole number from 1 to 7'):
        Rating(engagement=8)
    with pytest.raises(RatingError, match='comfort'):
        Rating(comfort=2.5)
    with pytest.raises(RatingError, match='needs engagement, comfort or a note'):
        Rating(note='  ')
    rating = Rating.from_record({'t': 3, 'engagement': 5, 'comfort': 0, 'note': 'ok'})  # 0 = not rated
    assert (rating.engagement, rating.comfort, rating.t) == (5, None, 3.0)
    assert Rating.from_record({'t': None, **rating.to_record()}) == Rating(5, None, 'ok', source='cli')


def test_rate_cli_appends_ratings_the_report_shows(tmp_path, capsys) -> None:
    log = tmp_path / 'session.jsonl'
    write_session(log)
    assert attune_main(['rate', str(log), '--engagement', '5', '--comfort', '6', '--note', 'calm <b>x</b>',
                        '--rater', 'AB', '--at', '12']) == 0
    assert attune_main(['rate', str(log), '--comfort', '3']) == 0  # after the session: t from the clock
    assert 'rating recorded in' in capsys.readouterr().out
    sidecar = ratings_path(log)
    assert sidecar.name == 'session.ratings.jsonl'
    ratings = read_ratings_file(sidecar)
    assert [(r.engagement, r.comfort, r.rater, r.t) for r in ratings[:1]] == [(5, 6, 'AB', 12.0)]
    assert ratings[1].comfort == 3 and ratings[1].t is not None and ratings[1].rated_at
    assert 0 <= ratings[1].t < 60  # seconds since the log's wall-clock start (written just now)
    report = session_report(log)
    assert sorted(r.comfort for r in report.ratings) == [3, 6]
    assert [r.t for r in report.ratings] == sorted(r.t for r in report.ratings)  # in session order
    assert {r['comfort']: r['engagement'] for r in report.to_dict()['ratings']} == {6: 5, 3: None}
    assert 'rating:    t=12 s  engagement 5/7, comfort 6/7 (AB): calm <b>x</b>' in format_session_report(report)


def test_rate_cli_refuses_bad_input(tmp_path, capsys) -> None:
    log = tmp_path / 'session.jsonl'
    write_session(log)
    with pytest.raises(SystemExit) as exit_info:
        attune_main(['rate', str(log), '--engagement', '9'])
    assert exit_info.value.code == 2 and 'from 1 to 7, not 9' in capsys.readouterr().err
    assert attune_main(['rate', str(log)]) == 1  # nothing rated
    assert 'needs engagement, comfort or a note' in capsys.readouterr().err
    other = tmp_path / 'notes.txt'
    other.write_text('hello\n')
    assert attune_main(['rate', str(other), '--engagement', '3']) == 1
    assert 'is not a session log' in capsys.readouterr().err
    assert not ratings_path(log).exists()
    ratings_path(log).write_text('{"t": 1, "kind": "rating", "engagement": 12}\n')
    with pytest.raises(SessionLogError, match=r'session\.ratings\.jsonl:1: not a rating'):
        session_report(log)


def test_ratings_logged_during_the_session(tmp_path) -> None:
    path = tmp_path / 'live.jsonl'
    with SessionLog(path, start=10.0) as log:
        log.rating(70.0, Rating(engagement=4, comfort=5, note='settled', source='topic'))
        log.close(100.0)
    report = session_report(path)
    assert [(r.t, r.engagement, r.source) for r in report.ratings] == [(60.0, 4, 'topic')]


def test_html_report_is_self_contained_with_every_section(tmp_path) -> None:
    log = tmp_path / 'session.jsonl'
    write_session(log)
    append_rating(log, Rating(engagement=5, comfort=6, note='<script>alert(1)</script>', t=12.0))
    html = render_html(session_report(log))
    for section in ('summary', 'ratings', 'affect', 'actions', 'name-calls', 'signs'):
        assert f'id="{section}"' in html
    assert '<script' not in html and '&lt;script&gt;' in html  # the note is escaped, the page runs nothing
    assert not re.search(r'(src|href)\s*=|url\(|@import|https?://(?!www\.w3\.org/2000/svg)', html)
    assert html.count('<svg class="plot"') == 4  # f1's affect (f2 has none), actions, latency, signs
    assert 'id="affect-f1"' in html and 'data-series="distress"' in html and 'id="name-call-latency"' in html
    assert 'person f2: present in the log, but no affect was estimated' in html
    assert '1 of 1' in html and '5.0 / 7' in html  # responded; mean engagement rating


def test_report_cli_writes_html_beside_the_log(tmp_path, capsys) -> None:
    log = tmp_path / 'session.jsonl'
    write_session(log)
    assert attune_main(['report', str(log), '--json']) == 0
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data['html'] == str(tmp_path / 'session.html')
    assert (tmp_path / 'session.html').read_text().startswith('<!DOCTYPE html>')


def _chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if path := shutil.which(name):
            return path
    pytest.skip('Chromium is not installed (apt-get install chromium); .ci/run installs it for CI')


def test_report_renders_in_headless_chromium(tmp_path) -> None:
    browser = _chromium()
    log = tmp_path / 'session.jsonl'
    write_session(log)
    append_rating(log, Rating(engagement=6, comfort=5, note='good session', t=8.0))
    assert attune_main(['report', str(log)]) == 0
    page = (tmp_path / 'session.html').as_uri()
    common = [browser, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars',
              f'--user-data-dir={tmp_path / "profile"}', '--window-size=1000,2400']
    dom = subprocess.run([*common, '--dump-dom', page], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('<svg class="plot"') == 4 and '<polyline class="series"' in dom.stdout
    assert 'Operator ratings' in dom.stdout and 'good session' in dom.stdout
    shot = tmp_path / 'page.png'
    run = subprocess.run([*common, f'--screenshot={shot}', page], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as image:
        pixels = np.asarray(image.convert('RGB'), dtype=np.int16)
    assert pixels.shape[:2] == (2400, 1000)
    assert pixels.std() > 20  # not a blank page
    assert (pixels.min(axis=2) < 200).mean() > 0.02  # text, tables and charts drawn
    # the plots' colours are on screen: the engagement line (#0072B2) and the responded name call (#009E73)
    for rgb in ((0x00, 0x72, 0xB2), (0x00, 0x9E, 0x73)):
        assert (np.abs(pixels - rgb).max(axis=2) < 30).sum() > 200, rgb
