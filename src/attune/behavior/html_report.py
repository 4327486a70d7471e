"""The session report as one self-contained HTML page (`attune report SESSION.jsonl`).

For a therapist or researcher reading a session afterwards: a summary table, the operator's
ratings, each person's affect over time (engagement, valence, arousal, distress, attention, with
name calls and ratings marked), the robot's actions on a timeline and in a table with the rule and
reason behind each, the name-call protocol results, and the signs seen.

The page is one file: inline CSS and inline SVG charts (attune.behavior.svg_chart), no JavaScript,
nothing fetched, so it opens offline, prints, and can be archived with the session. It holds the
numbers of the session log only: no images.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Set as AbstractSet
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from attune import __version__
from attune.behavior.report import DISTRESS_LEVEL, SessionReport
from attune.behavior.svg_chart import COLORS, Marker, bar_chart, line_chart, timeline

#: Affect quantities per person, with their range, in chart order.
AFFECT = (('engagement', (0.0, 1.0)), ('valence', (-1.0, 1.0)), ('arousal', (-1.0, 1.0)),
          ('distress', (0.0, 1.0)), ('attention', (0.0, 1.0)))
STATUS_COLORS = {'responded': '#009E73', 'no_response': '#D55E00', 'no_face': '#999999', 'aborted': '#999999',
                 'timeout': '#D55E00'}
RATING_COLOR = '#CC79A7'
MAX_TABLE_ROWS = 300

CSS = """
body { font-family: sans-serif; margin: 24px auto; max-width: 960px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px;
  border-bottom: 1px solid #ccc; padding-bottom: 3px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #555; font-size: 13px; } .note { font-size: 12px; color: #555; }
svg.plot { display: block; margin: 8px 0 16px; max-width: 100%; height: auto; }
"""


def _fmt(x: Any, spec: str = '.2f') -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return '-'
    return format(x, spec) if isinstance(x, (int, float)) else escape(str(x))


def _table(header: list[str], rows: list[list[str]], numeric: AbstractSet[int] = frozenset()) -> str:
    """An HTML table; cells are already escaped text."""
    head = ''.join(f'<th>{escape(h)}</th>' for h in header)
    body = ''.join('<tr>' + ''.join(f'<td class="num">{c}</td>' if i in numeric else f'<td>{c}</td>'
                                    for i, c in enumerate(row)) + '</tr>' for row in rows)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _counts(counts: dict[str, int]) -> str:
    return ', '.join(f'{escape(k)} {n}' for k, n in sorted(counts.items())) or 'none'


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _event_markers(report: SessionReport, person: str | None = None) -> list[Marker]:
    markers = []
    for p in report.protocols:
        if person is None or p.get('person') in (person, '', None):
            status = str(p.get('status', '?'))
            markers.append(Marker(float(p['t']), f"name call: {status}", STATUS_COLORS.get(status, '#555555')))
    for r in report.ratings:
        if r.t is not None and 0 <= r.t <= report.duration_s:
            markers.append(Marker(r.t, f'rating: engagement {r.engagement or "-"}, comfort {r.comfort or "-"}',
                                  RATING_COLOR))
    return markers


def summary_section(report: SessionReport) -> str:
    rows = []
    for p in report.persons:
        series = report.series.get(p.id, {})
        arousal = [v for _, v in series.get('arousal', []) if v is not None]
        rows.append([escape(p.id), _fmt(p.first_t, '.1f'), _fmt(p.last_t, '.1f'), str(p.samples),
                     _fmt(100 * p.present_fraction, '.0f') + ' %', _fmt(p.mean.get('engagement')),
                     _fmt(p.mean.get('valence'), '+.2f'), _fmt(_mean(arousal), '+.2f'), _fmt(p.mean.get('distress')),
                     _fmt(p.max_distress), _fmt(p.distressed_s, '.1f')])
    persons = (_table(['person', 'from s', 'to s', 'samples', 'present', 'engagement', 'valence', 'arousal',
                       'distress', 'max distress', f'distressed s (>= {DISTRESS_LEVEL:g})'], rows,
                      set(range(1, 11)))
               if rows else '<p>No interaction states were logged.</p>')
    d = report.to_dict()
    statuses = d['protocol_results']
    answered = sum(n for s, n in statuses.items() if s != 'waiting')
    rated = {q: [getattr(r, q) for r in report.ratings if getattr(r, q) is not None]
             for q in ('engagement', 'comfort')}
    session_rows = [
        ['duration', _fmt(report.duration_s, '.1f') + ' s'],
        ['robot commands', f"{d['commands']} ({_counts(d['commands_by_action'])})"],
        ['not delivered to the robot', f"{d['commands_not_delivered']} ({_counts(d['not_delivered_by_action'])})"
         if d['commands_not_delivered'] else '0'],
        ['suppressed by cooldowns and limits', str(sum(report.suppressed.values()))],
        ['name calls', f"{d['name_calls']}; results: {_counts(statuses)}"],
        ['responded', f"{statuses.get('responded', 0)} of {answered}" if answered else '-'],
        ['mean response latency', _fmt(d['mean_response_latency_s']) + ' s'
         if d['mean_response_latency_s'] is not None else '-'],
        ['signs', str(len(report.signs))],
        ['operator ratings', str(len(report.ratings))],
        ['mean engagement rating', _fmt(_mean(rated['engagement']), '.1f') + ' / 7' if rated['engagement'] else '-'],
        ['mean comfort rating', _fmt(_mean(rated['comfort']), '.1f') + ' / 7' if rated['comfort'] else '-'],
    ]
    return ('<h2 id="summary">Summary</h2>' + _table(['session', ''], [[escape(a), b] for a, b in session_rows])
            + persons)


def ratings_section(report: SessionReport) -> str:
    if not report.ratings:
        return ('<h2 id="ratings">Operator ratings</h2><p>No ratings. Rate with <code>attune rate '
                f'{escape(Path(report.path).name)} --engagement N --comfort N --note TEXT</code> (1-7), or on '
                '<code>/attune/session/rating</code> during the session.</p>')
    rows = [[_fmt(r.t, '.0f') + ' s' if r.t is not None and r.t <= report.duration_s else 'after the session',
             _fmt(r.engagement, 'd'), _fmt(r.comfort, 'd'), escape(r.rater), escape(r.note), escape(r.rated_at),
             escape(r.source)] for r in report.ratings]
    return ('<h2 id="ratings">Operator ratings (1-7)</h2>'
            + _table(['when', 'engagement', 'comfort', 'rater', 'note', 'given at (UTC)', 'via'], rows, {1, 2}))


def affect_section(report: SessionReport, t_range: tuple[float, float]) -> str:
    if not report.series:
        return '<h2 id="affect">Affect over time</h2><p>No interaction states were logged.</p>'
    parts = ['<h2 id="affect">Affect over time, per person</h2>',
             '<p class="note">The fused interaction state (decimated samples of the session log). Dashed '
             'vertical lines: name calls (green responded, red no response) and ratings (purple).</p>']
    for pid, series in report.series.items():
        chosen = {q: series.get(q, []) for q, _ in AFFECT if any(v is not None for _, v in series.get(q, []))}
        if not chosen:
            parts.append(f'<p>person {escape(pid)}: present in the log, but no affect was estimated.</p>')
            continue
        parts.append(line_chart(chosen, title=f'person {pid}', t_range=t_range, y_range=(-1.0, 1.0),
                                y_label='value', markers=_event_markers(report, pid),
                                reference=[(0.0, '#999999'), (DISTRESS_LEVEL, '#D55E00')],
                                chart_id=f'affect-{pid}'))
    return ''.join(parts)


def actions_section(report: SessionReport, t_range: tuple[float, float]) -> str:
    parts = ['<h2 id="actions">Robot actions</h2>']
    if not report.commands:
        return parts[0] + '<p>The robot was given no commands.</p>'
    actions = sorted({str(c.get('action', '?')) for c in report.commands})
    rows = {a: [Marker(float(c['t']), f"{a} [{c.get('rule', '?')}] {c.get('reason', '')}",
                       COLORS[i % len(COLORS)]) for c in report.commands if c.get('action') == a]
            for i, a in enumerate(actions)}
    if report.ratings:
        rows['rating'] = [m for m in _event_markers(report) if m.color == RATING_COLOR]
    parts.append(timeline(rows, title='commands over time', t_range=t_range, chart_id='actions-timeline'))
    table = [[_fmt(float(c['t']), '.1f'), escape(str(c.get('action', '?'))), escape(str(c.get('target_id', ''))),
              escape(str(c.get('text', '') or c.get('animation', ''))), escape(str(c.get('rule', ''))),
              escape(str(c.get('reason', '')))] for c in report.commands[:MAX_TABLE_ROWS]]
    parts.append(_table(['t (s)', 'action', 'person', 'text / animation', 'rule', 'reason'], table, {0}))
    if len(report.commands) > MAX_TABLE_ROWS:
        parts.append(f'<p class="note">... and {len(report.commands) - MAX_TABLE_ROWS} more commands.</p>')
    if report.suppressed:
        parts.append('<p class="note">Held back by cooldowns and limits: '
                     + ', '.join(f'{escape(r)} {n}x' for r, n in sorted(report.suppressed.items())) + '.</p>')
    return ''.join(parts)


def protocol_section(report: SessionReport) -> str:
    head = '<h2 id="name-calls">Name-call protocol</h2>'
    if not report.protocols:
        calls = report.name_calls
        return head + (f'<p>{calls} name calls, no results logged.</p>' if calls else '<p>No name calls.</p>')
    bars = [(f"{_fmt(float(p['t']), '.0f')} s", p.get('latency_s') if isinstance(p.get('latency_s'), (int, float))
             else None, STATUS_COLORS.get(str(p.get('status')), '#555555')) for p in report.protocols]
    chart = bar_chart(bars, title='response latency per name call (s; no bar: no response measured)',
                      y_label='latency s', chart_id='name-call-latency')
    rows = [[_fmt(float(p['t']), '.1f'), escape(str(p.get('person', ''))), escape(str(p.get('status', ''))),
             _fmt(p.get('latency_s')), _fmt(p.get('head_turn_deg'), '.0f'), escape(str(p.get('emotion', '') or '-')),
             _fmt(p.get('valence'), '+.2f')] for p in report.protocols]
    return head + chart + _table(['t (s)', 'person', 'result', 'latency s', 'head turn deg', 'emotion after',
                                  'valence after'], rows, {0, 3, 4, 6})


def signs_section(report: SessionReport, t_range: tuple[float, float]) -> str:
    head = '<h2 id="signs">Signs</h2>'
    if not report.signs:
        return head + '<p>No signs were recognized.</p>'
    glosses = Counter(str(s.get('gloss', '?')) for s in report.signs)
    rows = {g: [Marker(float(s['t']), f"{g} {_fmt(s.get('confidence'))}", COLORS[i % len(COLORS)])
                for s in report.signs if s.get('gloss') == g] for i, (g, _) in enumerate(glosses.most_common(12))}
    table = [[_fmt(float(s['t']), '.1f'), escape(str(s.get('person', ''))), escape(str(s.get('gloss', ''))),
              _fmt(s.get('confidence')), escape(' '.join(s.get('sequence') or []))]
             for s in report.signs[:MAX_TABLE_ROWS]]
    return (head + timeline(rows, title='signs over time (12 most frequent glosses)', t_range=t_range,
                            chart_id='signs-timeline')
            + _table(['t (s)', 'person', 'gloss', 'confidence', 'sequence'], table, {0, 3}))


def render_html(report: SessionReport) -> str:
    """The whole page."""
    t_range = (0.0, max(report.duration_s, 1.0))
    name = Path(report.path).name
    generated = datetime.now(timezone.utc).isoformat(timespec='seconds')
    meta = (f'started {escape(report.started or "?")} &middot; policy {escape(report.policy or "?")} &middot; '
            f'{_fmt(report.duration_s, ".1f")} s &middot; {len(report.persons)} persons &middot; '
            f'report by attune {escape(__version__)}, {generated}')
    body = ''.join([summary_section(report), ratings_section(report), affect_section(report, t_range),
                    actions_section(report, t_range), protocol_section(report), signs_section(report, t_range)])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>attune session '
            f'{escape(name)}</title><style>{CSS}</style></head><body><h1>Session {escape(name)}</h1>'
            f'<p class="meta">{meta}</p>{body}<p class="note">Affect values are automatic estimates from the '
            'camera, a reading beside the video and the therapist\'s judgement, not a clinical measure.</p>'
            '</body></html>\n')


def write_html(report: SessionReport, out: Path | str) -> Path:
    """Write the page (UTF-8). Returns the path."""
    out = Path(out)
    out.write_text(render_html(report), encoding='utf-8')
    return out
