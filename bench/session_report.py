#!/usr/bin/env python3
"""Benchmark: the session report of a simulated therapy session, HTML (inline SVG) against the
existing PNG plot (matplotlib) in the same run, and the HTML page rendered in headless Chromium.

The session is driven through the real `asd_session` policy (attune.behavior.engine) with the real
session log: two children over --minutes, states at 2 Hz (engagement, valence, arousal, distress
with two distress episodes, attention with spells of looking away), name calls answered by protocol
results (responded / no response in turn), signs, and three operator ratings (two logged during
the session, one by `attune rate` afterwards). Nothing is read from --data (the bench convention);
the simulation is seeded.

    python bench/session_report.py [--minutes 10] [--out DIR] [--seed 0]

Prints one JSON object last: html_ms, png_ms (baseline), html_bytes, svg_plots, chromium (screenshot
checks, or null when Chromium is absent).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'src'))


def simulate(path: Path, minutes: float, seed: int) -> None:
    from attune.behavior.engine import PolicyEngine
    from attune.behavior.fusion import Contribution, PersonState
    from attune.behavior.outcome import PersonSign, ProtocolResult
    from attune.behavior.policy import load_policy
    from attune.behavior.ratings import Rating
    from attune.behavior.session_log import SessionLog

    rng = random.Random(seed)
    policy = load_policy('asd_session')
    engine = PolicyEngine(policy, start=0.0, variables={'name': 'Sam'})
    pending: list[tuple[float, ProtocolResult]] = []
    calls = 0
    with SessionLog(path, start=0.0, meta={'policy': policy.name, 'variables': dict(engine.variables)}) as log:
        def emit(outcome, now: float) -> None:
            nonlocal calls
            for result in outcome.protocol_results:
                log.protocol(now, result)
            for s in outcome.suppressed:
                log.suppressed(now, s)
            for command in outcome.commands:
                log.command(now, command)
                if command.action.name == 'NAME_CALL':
                    calls += 1
                    responded = calls % 3 != 0
                    result = ProtocolResult(command.target_id or 'f1', 'name_call',
                                            'responded' if responded else 'no_response',
                                            latency_s=rng.uniform(0.8, 2.2) if responded else math.nan,
                                            head_turn_deg=rng.uniform(25, 50) if responded else math.nan,
                                            emotion='happy' if responded else '',
                                            valence=0.4 if responded else math.nan)
                    pending.append((now + 3.0, result))
        steps = int(minutes * 60 * 2)
        for i in range(steps):
            now = i * 0.5
            for pid, phase in (('f1', 0.0), ('f2', 1.7)):
                if pid == 'f2' and not (0.3 * steps < i < 0.8 * steps):
                    continue  # the second child joins for part of the session
                episode = any(a <= now / 60 / minutes < a + 0.08 for a in (0.25, 0.6))
                distress = min(1.0, (0.75 if episode else 0.1) + rng.gauss(0, 0.05))
                valence = 0.35 * math.sin(now / 40 + phase) - (0.5 if episode else 0.0) + rng.gauss(0, 0.05)
                arousal = 0.2 * math.cos(now / 25 + phase) + (0.4 if episode else 0.0) + rng.gauss(0, 0.05)
                engagement = min(1.0, max(0.0, 0.65 + 0.2 * math.sin(now / 70 + phase) + rng.gauss(0, 0.05)))
                attention = 0.15 if 60 <= (now + 50 * phase) % 120 < 85 else 0.8  # looks away now and then
                state = PersonState(pid, int(now * 1e9), True, attention, engagement, max(-1, min(1, valence)),
                                    max(-1, min(1, arousal)), max(0.0, distress),
                                    (Contribution('expression', 'ensemble', 'valence', valence, 0.8, 0.1),))
                log.state(now, state)
                emit(engine.on_state(state, now), now)
            if i % 90 == 45:
                sign = PersonSign('f1', rng.choice(['hello', 'more', 'play', 'yes']), rng.uniform(0.7, 0.99), 'tcn')
                log.sign(now, sign)
                emit(engine.on_sign(sign, now), now)
            for due, result in [p for p in pending if p[0] <= now]:
                pending.remove((due, result))
                emit(engine.on_protocol(result, now), now)
            emit(engine.tick(now), now)
            if i in (steps // 3, 2 * steps // 3):
                log.rating(now, Rating(engagement=4 + i * 2 // steps, comfort=5, note='during the session',
                                       rater='AB', source='topic'))
        log.close(steps * 0.5)


def chromium_check(html: Path, out: Path) -> dict | None:
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    if browser is None:
        return None
    import numpy as np
    from PIL import Image

    shot = out / 'report.png'
    t0 = time.perf_counter()
    subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                    f'--user-data-dir={out / "profile"}', '--window-size=1000,3200', f'--screenshot={shot}',
                    html.as_uri()], capture_output=True, timeout=180, check=True)
    render_s = time.perf_counter() - t0
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert('RGB'), dtype=np.int16)
    return {'screenshot': str(shot), 'render_s': round(render_s, 2), 'pixel_std': round(float(pixels.std()), 1),
            'ink_fraction': round(float((pixels.min(axis=2) < 200).mean()), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--minutes', type=float, default=10.0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=Path, default=None, help='folder for the log and reports (default: temporary)')
    parser.add_argument('--data', type=Path, default=None, help='accepted for the bench convention; not read')
    ns = parser.parse_args()
    from attune.behavior.html_report import write_html
    from attune.behavior.ratings import Rating, append_rating
    from attune.behavior.report import plot_session, session_report

    out = ns.out or Path(tempfile.mkdtemp(prefix='attune-report-'))
    out.mkdir(parents=True, exist_ok=True)
    log = out / 'session.jsonl'
    for stale in (log, log.with_name('session.ratings.jsonl')):
        stale.unlink(missing_ok=True)
    simulate(log, ns.minutes, ns.seed)
    append_rating(log, Rating(engagement=5, comfort=6, note='settled after the second break', rater='AB'))
    t0 = time.perf_counter()
    report = session_report(log)
    read_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    html = write_html(report, out / 'session.html')
    html_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    plot_session(report, out / 'session.png')
    png_ms = (time.perf_counter() - t0) * 1e3
    text = html.read_text(encoding='utf-8')
    result = {'minutes': ns.minutes, 'persons': len(report.persons), 'commands': len(report.commands),
              'name_calls': report.name_calls, 'protocol_results': len(report.protocols), 'signs': len(report.signs),
              'ratings': len(report.ratings), 'read_ms': round(read_ms, 1), 'html_ms': round(html_ms, 1),
              'png_ms': round(png_ms, 1), 'html_bytes': len(text.encode()),
              'svg_plots': text.count('<svg class="plot"'),
              'html': str(html), 'chromium': chromium_check(html, out)}
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
