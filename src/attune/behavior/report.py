"""Per-session summary of a session log (attune.behavior.session_log) and its plot (PNG).

`attune report SESSION.jsonl` prints the summary and writes SESSION.png: engagement, valence and
distress of every person over time, and the commands the robot was given (one marker per command,
by action), with the protocol results.
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attune.behavior.ratings import Rating, RatingError, ratings_path, read_ratings_file
from attune.behavior.session_log import SessionLogError, read_session_log

#: Distress at or above which a sample counts as "distressed" in the summary.
DISTRESS_LEVEL = 0.6
PLOTTED = ('engagement', 'valence', 'distress')
#: The quantities kept over time per person (the HTML report plots all of them).
SERIES = ('engagement', 'valence', 'arousal', 'distress', 'attention')


@dataclass(frozen=True)
class PersonSummary:
    """One person over the session (from the state records, which are decimated samples).

    Attributes:
        id: face track id.
        first_t, last_t: seconds of the first and last state record.
        samples: state records.
        present_fraction: share of samples in which the person was present.
        mean: mean of each plotted quantity over samples where it was known (None if never).
        max_distress: the highest distress (None if never known).
        distressed_s: approximate seconds with distress >= DISTRESS_LEVEL (sample count x interval).
    """

    id: str
    first_t: float
    last_t: float
    samples: int
    present_fraction: float
    mean: dict[str, float | None]
    max_distress: float | None
    distressed_s: float


@dataclass(frozen=True)
class SessionReport:
    """The summary of one session log; see session_report()."""

    path: str
    started: str
    policy: str
    duration_s: float
    persons: tuple[PersonSummary, ...]
    commands: tuple[dict[str, Any], ...]
    suppressed: dict[str, int]
    protocols: tuple[dict[str, Any], ...]
    signs: tuple[dict[str, Any], ...]
    ratings: tuple[Rating, ...] = ()
    undelivered: tuple[dict[str, Any], ...] = ()
    series: dict[str, dict[str, list[tuple[float, float | None]]]] = field(default_factory=dict, repr=False)

    @property
    def commands_by_action(self) -> dict[str, int]:
        return dict(Counter(c.get('action', '?') for c in self.commands))

    @property
    def commands_by_rule(self) -> dict[str, int]:
        return dict(Counter(c.get('rule', '?') for c in self.commands))

    @property
    def name_calls(self) -> int:
        return sum(1 for c in self.commands if c.get('action') == 'NAME_CALL')

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (no NaN)."""
        latencies = [p['latency_s'] for p in self.protocols if isinstance(p.get('latency_s'), (int, float))]
        return {
            'path': self.path, 'started': self.started, 'policy': self.policy, 'duration_s': self.duration_s,
            'persons': [{'id': p.id, 'first_t': p.first_t, 'last_t': p.last_t, 'samples': p.samples,
                         'present_fraction': p.present_fraction, 'mean': p.mean, 'max_distress': p.max_distress,
                         'distressed_s': p.distressed_s} for p in self.persons],
            'commands': len(self.commands), 'commands_by_action': self.commands_by_action,
            'commands_by_rule': self.commands_by_rule, 'suppressed_by_rule': self.suppressed,
            'name_calls': self.name_calls,
            'protocol_results': dict(Counter(p.get('status', '?') for p in self.protocols)),
            'mean_response_latency_s': sum(latencies) / len(latencies) if latencies else None,
            'signs': len(self.signs),
            'commands_not_delivered': len(self.undelivered),
            'not_delivered_by_action': dict(Counter(u.get('action', '?') for u in self.undelivered)),
            'ratings': [{'t': r.t, **r.to_record()} for r in self.ratings],
        }


def session_report(path: Path | str) -> SessionReport:
    """Read a session log and summarize it.

    Raises:
        SessionLogError: the file is not a readable session log.
    """
    path = Path(path)
    header: dict[str, Any] = {}
    states: dict[str, list[dict[str, Any]]] = {}
    commands, protocols, signs, ratings, undelivered = [], [], [], [], []
    suppressed: Counter[str] = Counter()
    last_t = 0.0
    for i, record in enumerate(read_session_log(path)):
        kind, t = record['kind'], float(record['t'])
        last_t = max(last_t, t)
        if i == 0:
            if kind != 'session':
                raise SessionLogError(f'{path}:1: a session log starts with a "session" record, got {kind!r}')
            header = record
        elif kind == 'state':
            states.setdefault(str(record.get('person', '')), []).append(record)
        elif kind == 'command':
            commands.append(record)
        elif kind == 'suppressed':
            suppressed[str(record.get('rule', '?'))] += 1
        elif kind == 'protocol':
            protocols.append(record)
        elif kind == 'sign':
            signs.append(record)
        elif kind == 'undelivered':
            undelivered.append(record)
        elif kind == 'rating':
            try:
                ratings.append(Rating.from_record(record))
            except RatingError as exc:
                raise SessionLogError(f'{path}: rating at t={t:g} s: {exc}') from None
    if not header:
        raise SessionLogError(f'{path}: empty session log')
    persons, series = [], {}
    for pid, records in states.items():
        times = [float(r['t']) for r in records]
        interval = _median_step(times)
        mean: dict[str, float | None] = {}
        for q in PLOTTED:
            values = [float(v) for r in records if isinstance(v := r.get(q), (int, float))]
            mean[q] = sum(values) / len(values) if values else None
        distress = [r['distress'] for r in records if isinstance(r.get('distress'), (int, float))]
        persons.append(PersonSummary(
            id=pid, first_t=times[0], last_t=times[-1], samples=len(records),
            present_fraction=sum(1 for r in records if r.get('present')) / len(records), mean=mean,
            max_distress=max(distress) if distress else None,
            distressed_s=sum(1 for d in distress if d >= DISTRESS_LEVEL) * interval))
        series[pid] = {q: [(float(r['t']), r.get(q) if isinstance(r.get(q), (int, float)) else None)
                           for r in records] for q in SERIES}
    try:
        ratings += read_ratings_file(ratings_path(path))  # `attune rate`'s sidecar
    except RatingError as exc:
        raise SessionLogError(str(exc)) from None
    ratings.sort(key=lambda r: (r.t is None, r.t or 0.0))
    return SessionReport(path=str(path), started=str(header.get('started', '')), policy=str(header.get('policy', '')),
                         duration_s=last_t, persons=tuple(persons), commands=tuple(commands),
                         suppressed=dict(suppressed), protocols=tuple(protocols), signs=tuple(signs),
                         ratings=tuple(ratings), undelivered=tuple(undelivered), series=series)


def _median_step(times: list[float]) -> float:
    steps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    return steps[len(steps) // 2] if steps else 0.0


def _fmt(x: float | None, spec: str = '.2f') -> str:
    return '-' if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def format_session_report(report: SessionReport) -> str:
    """The summary as plain text."""
    lines = [f'session:   {report.path}', f'started:   {report.started or "?"}',
             f'policy:    {report.policy or "?"}', f'duration:  {report.duration_s:.1f} s', '']
    if report.persons:
        lines.append('person      samples  present  engagement  valence  distress (mean/max)  distressed (s)')
        for p in report.persons:
            lines.append(f'{p.id:<10}  {p.samples:>7}  {100 * p.present_fraction:>6.0f}%  '
                         f'{_fmt(p.mean["engagement"]):>10}  {_fmt(p.mean["valence"], "+.2f"):>7}  '
                         f'{_fmt(p.mean["distress"]):>8}/{_fmt(p.max_distress):<10}  {p.distressed_s:>14.1f}')
    else:
        lines.append('no interaction states logged')
    lines.append('')
    by_action = ', '.join(f'{k} {v}' for k, v in sorted(report.commands_by_action.items())) or 'none'
    lines.append(f'commands:  {len(report.commands)} ({by_action})')
    for rule, n in sorted(report.commands_by_rule.items(), key=lambda kv: -kv[1]):
        lines.append(f'  {rule:<24} {n:>4}' + (f'   (suppressed {report.suppressed[rule]}x)'
                                                if report.suppressed.get(rule) else ''))
    if report.protocols or report.name_calls:
        statuses = Counter(record.get('status', '?') for record in report.protocols)
        lines.append(f'name calls: {report.name_calls}; results: '
                     + (', '.join(f'{k} {v}' for k, v in sorted(statuses.items())) or 'none'))
        for record in report.protocols:
            latency = record.get('latency_s')
            lines.append(f"  t={record['t']:>7.1f} s  {record.get('person', '')}: {record.get('protocol', '')} "
                         f"{record.get('status', '')}"
                         + (f', latency {latency:.2f} s' if isinstance(latency, (int, float)) else ''))
    if report.signs:
        glosses = Counter(s.get('gloss', '?') for s in report.signs)
        lines.append(f'signs:     {len(report.signs)} ('
                     + ', '.join(f'{g} {n}' for g, n in glosses.most_common(10)) + ')')
    for r in report.ratings:
        when = f't={r.t:.0f} s' if r.t is not None else 'after'
        lines.append(f'rating:    {when}  engagement {r.engagement or "-"}/7, comfort {r.comfort or "-"}/7'
                     + (f' ({r.rater})' if r.rater else '') + (f': {r.note}' if r.note else ''))
    if report.commands:
        lines += ['', 'commands issued (t, action, rule: reason):']
        for c in report.commands[:50]:
            lines.append(f"  {c['t']:>7.1f} s  {c.get('action', '?'):<9} {c.get('rule', '?')}: {c.get('reason', '')}")
        if len(report.commands) > 50:
            lines.append(f'  ... and {len(report.commands) - 50} more')
    return '\n'.join(lines)


_ACTION_ORDER = ('SAY', 'NAME_CALL', 'GESTURE', 'LED', 'GAZE', 'PAUSE', 'RESUME', 'STOP', 'APPROACH')


def plot_session(report: SessionReport, out: Path | str) -> Path:
    """Write the session plot (PNG, matplotlib's Agg back end; no display needed). Returns the path."""
    import matplotlib

    matplotlib.use('Agg', force=True)
    import matplotlib.pyplot as plt

    out = Path(out)
    fig, axes = plt.subplots(4, 1, figsize=(11, 9), sharex=True,
                             gridspec_kw={'height_ratios': [2, 2, 2, 1.6]})
    limits = {'engagement': (0, 1), 'valence': (-1, 1), 'distress': (0, 1)}
    for ax, q in zip(axes[:3], PLOTTED):
        for pid, series in report.series.items():
            points = series[q]
            xs = [t for t, _ in points]
            ys = [math.nan if v is None else v for _, v in points]
            ax.plot(xs, ys, label=pid, linewidth=1.4)
        ax.set_ylabel(q)
        ax.set_ylim(*limits[q])
        ax.grid(alpha=0.3)
        if q == 'distress':
            ax.axhline(DISTRESS_LEVEL, color='tab:red', linestyle=':', linewidth=1)
        if q == 'valence':
            ax.axhline(0.0, color='grey', linewidth=0.8)
    if report.series:
        axes[0].legend(loc='upper right', fontsize='small', title='person')
    ax = axes[3]
    actions = [a for a in _ACTION_ORDER if any(c.get('action') == a for c in report.commands)]
    rows = {a: i for i, a in enumerate(actions)}
    for c in report.commands:
        ax.scatter([c['t']], [rows[c['action']]], marker='|', s=200, color='tab:blue')
    for p in report.protocols:
        y = rows.get('NAME_CALL', len(rows) - 0.5 if rows else 0)
        color = 'tab:green' if p.get('status') == 'responded' else 'tab:orange'
        ax.scatter([p['t']], [y], marker='o', s=40, color=color, zorder=3)
    ax.set_yticks(range(len(actions)))
    ax.set_yticklabels(actions, fontsize='small')
    ax.set_ylim(-0.8, max(0.8, len(actions) - 0.2))
    ax.set_ylabel('commands')
    ax.set_xlabel('seconds since the session started')
    ax.grid(alpha=0.3, axis='x')
    fig.suptitle(f'session {Path(report.path).name} (policy {report.policy or "?"}): '
                 f'{len(report.commands)} commands, {report.name_calls} name calls')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
