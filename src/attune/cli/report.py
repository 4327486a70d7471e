"""`attune report PATH [--json] [--png OUT] [--html OUT]`: summarize a bag or a behaviour session log.

A bag (directory or .mcap): topics, counts and rates, how well faces were found, and what the
Expression topics said of each face (label shares, calibrated share, confidence).
A session log (the behaviour node's JSONL): per-person engagement, valence and distress, the
commands issued and why, name-call results, signs and the operator's ratings (`attune rate`);
a self-contained HTML report (beside the log unless --html: summary table, affect over time per
person, robot actions, name calls, signs, ratings; inline SVG, nothing fetched) and a plot (PNG,
beside the log unless --png).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('report',
                              help='summarize a bag (topics, rates, faces, expressions) or a session log (plot)',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('bag', type=Path, metavar='PATH',
                   help='bag directory (or .mcap file), or session log (.jsonl)')
    p.add_argument('--json', action='store_true',
                   help='print the report as one JSON object on the last line of stdout '
                        '(the table goes to stderr)')
    p.add_argument('--png', type=Path, default=None,
                   help='session logs: where to write the plot (default: the log with .png)')
    p.add_argument('--html', type=Path, default=None,
                   help='session logs: where to write the HTML report (default: the log with .html)')
    p.set_defaults(handler=report)


def report(ns: argparse.Namespace) -> int:
    from attune.behavior.session_log import is_session_log

    if is_session_log(ns.bag):
        return session(ns)
    from attune.bag.report import bag_report, format_report

    result = bag_report(ns.bag)
    if ns.json:
        print(format_report(result), file=sys.stderr)
        print(json.dumps(result.to_dict(), separators=(',', ':')))
    else:
        print(format_report(result))
    return 0


def session(ns: argparse.Namespace) -> int:
    from attune.behavior.html_report import write_html
    from attune.behavior.report import format_session_report, plot_session, session_report

    result = session_report(ns.bag)
    png = plot_session(result, ns.png or ns.bag.with_suffix('.png'))
    html = write_html(result, ns.html or ns.bag.with_suffix('.html'))
    text = format_session_report(result) + f'\n\nreport: {html}\nplot: {png}'
    if ns.json:
        print(text, file=sys.stderr)
        print(json.dumps({**result.to_dict(), 'png': str(png), 'html': str(html)}, separators=(',', ':')))
    else:
        print(text)
    return 0
