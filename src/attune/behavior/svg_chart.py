"""Small inline-SVG charts for the HTML session report: no JavaScript, no fonts or files fetched.

Each function returns one `<svg>` element as text, sized in CSS pixels, that any browser (and a
printer) draws as it is. Times run along x in seconds; unknown values (None, NaN) leave gaps.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TypeGuard

#: Line colours (colour-blind-safe Okabe-Ito order).
COLORS = ('#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000')

Point = tuple[float, float | None]


@dataclass(frozen=True)
class Marker:
    """A vertical line (an event) across a chart, or a symbol on a timeline row."""

    t: float
    label: str
    color: str = '#555555'


@dataclass(frozen=True)
class Frame:
    """The plotting area of a chart and its mapping from data to pixels."""

    width: int
    height: int
    t0: float
    t1: float
    y0: float
    y1: float
    left: int = 56
    right: int = 12
    top: int = 26
    bottom: int = 30

    def x(self, t: float) -> float:
        span = self.t1 - self.t0 or 1.0
        return self.left + (t - self.t0) / span * (self.width - self.left - self.right)

    def y(self, v: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return self.top + (self.y1 - v) / span * (self.height - self.top - self.bottom)


def _finite(v: float | None) -> TypeGuard[float]:
    return v is not None and math.isfinite(v)


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 5 x 10^k steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _axes(f: Frame, title: str, y_label: str, y_ticks: Sequence[float], time_axis: bool = True) -> list[str]:
    parts = [f'<rect x="{f.left}" y="{f.top}" width="{f.width - f.left - f.right}" '
             f'height="{f.height - f.top - f.bottom}" fill="#fafafa" stroke="#bbbbbb"/>',
             f'<text x="{f.left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for v in y_ticks:
        y = f.y(v)
        parts.append(f'<line x1="{f.left}" x2="{f.width - f.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{f.left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{v:g}</text>')
    for t in nice_ticks(f.t0, f.t1, 8) if time_axis else ():
        x = f.x(t)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{f.top}" y2="{f.height - f.bottom}" stroke="#eeeeee"/>')
        parts.append(f'<text x="{x:.1f}" y="{f.height - f.bottom + 14}" font-size="11" '
                     f'text-anchor="middle">{t:g}</text>')
    if time_axis:
        parts.append(f'<text x="{f.width - f.right}" y="{f.height - 4}" font-size="11" text-anchor="end">'
                     's since start</text>')
    if y_label:
        parts.append(f'<text x="12" y="{(f.top + f.height - f.bottom) / 2:.1f}" font-size="11" text-anchor="middle" '
                     f'transform="rotate(-90 12 {(f.top + f.height - f.bottom) / 2:.1f})">{escape(y_label)}</text>')
    return parts


def _polylines(f: Frame, points: Sequence[Point]) -> list[str]:
    """Runs of consecutive known values as 'x,y x,y ...' strings (a gap at each unknown value)."""
    runs, run = [], []
    for t, v in points:
        if _finite(v):
            run.append(f'{f.x(t):.1f},{f.y(max(f.y0, min(f.y1, v))):.1f}')
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    return [' '.join(r) for r in runs]


def line_chart(series: Mapping[str, Sequence[Point]], *, title: str, t_range: tuple[float, float],
               y_range: tuple[float, float], y_label: str = '', markers: Sequence[Marker] = (),
               reference: Sequence[tuple[float, str]] = (), width: int = 900, height: int = 230,
               chart_id: str = '') -> str:
    """Lines over time, one per series (with a legend), with event markers and reference lines."""
    f = Frame(width, height, t_range[0], max(t_range[1], t_range[0] + 1e-3), *y_range, top=40)
    parts = _axes(f, title, y_label, nice_ticks(*y_range, 4))
    for value, color in reference:
        y = f.y(value)
        parts.append(f'<line x1="{f.left}" x2="{f.width - f.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" '
                     'stroke-dasharray="4 3"/>')
    for m in markers:
        x = f.x(m.t)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{f.top}" y2="{f.height - f.bottom}" stroke="{m.color}" '
                     f'stroke-width="1.5" stroke-dasharray="2 2"><title>{escape(m.label)}</title></line>')
    legend_x = f.left
    for i, (name, points) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        for run in _polylines(f, points):
            if ' ' in run:
                parts.append(f'<polyline class="series" data-series="{escape(name)}" points="{run}" fill="none" '
                             f'stroke="{color}" stroke-width="2"/>')
            else:  # a single known sample still shows
                cx, cy = run.split(',')
                parts.append(f'<circle class="series" data-series="{escape(name)}" cx="{cx}" cy="{cy}" r="2.5" '
                             f'fill="{color}"/>')
        parts.append(f'<rect x="{legend_x}" y="{f.top - 11}" width="12" height="4" fill="{color}"/>'
                     f'<text x="{legend_x + 16}" y="{f.top - 6}" font-size="11">{escape(name)}</text>')
        legend_x += 24 + 7 * len(name)
    return _svg(width, height, chart_id, title, parts)


def timeline(rows: Mapping[str, Sequence[Marker]], *, title: str, t_range: tuple[float, float],
             width: int = 900, row_height: int = 22, chart_id: str = '') -> str:
    """Events over time: one labelled row per kind, a tick (with a tooltip) per event."""
    height = 26 + 30 + row_height * max(1, len(rows))
    f = Frame(width, height, t_range[0], max(t_range[1], t_range[0] + 1e-3), 0, max(1, len(rows)), left=110)
    parts = _axes(f, title, '', [])
    for i, (name, events) in enumerate(rows.items()):
        y = f.top + (i + 0.5) * row_height
        parts.append(f'<text x="{f.left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{escape(name)}</text>')
        parts.append(f'<line x1="{f.left}" x2="{f.width - f.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        for m in events:
            x = f.x(m.t)
            parts.append(f'<rect class="event" x="{x - 2:.1f}" y="{y - row_height * 0.35:.1f}" width="4" '
                         f'height="{row_height * 0.7:.1f}" fill="{m.color}"><title>{escape(m.label)}</title></rect>')
    return _svg(width, height, chart_id, title, parts)


def bar_chart(bars: Sequence[tuple[str, float | None, str]], *, title: str, y_label: str = '',
              width: int = 900, height: int = 200, chart_id: str = '') -> str:
    """One bar per (label, value, colour); an unknown value is a labelled gap."""
    known = [v for _, v, _ in bars if v is not None and math.isfinite(v)]
    top = max(known) * 1.15 if known and max(known) > 0 else 1.0
    f = Frame(width, height, 0, max(1, len(bars)), 0, top, bottom=42)
    parts = _axes(f, title, y_label, nice_ticks(0, top, 4), time_axis=False)
    slot = (width - f.left - f.right) / max(1, len(bars))
    bar = min(slot * 0.7, 60.0)
    for i, (label, value, color) in enumerate(bars):
        x = f.left + (i + 0.5) * slot - bar / 2
        if _finite(value):
            y = f.y(value)
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                         f'height="{f.y(0) - y:.1f}" fill="{color}"><title>{escape(label)}: {value:g}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - f.bottom + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, chart_id, title, parts)


def _svg(width: int, height: int, chart_id: str, title: str, parts: list[str]) -> str:
    ident = f' id="{escape(chart_id)}"' if chart_id else ''
    return (f'<svg class="plot"{ident} xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
            f'font-family="sans-serif">' + ''.join(parts) + '</svg>')
