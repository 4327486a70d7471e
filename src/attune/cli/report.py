"""`attune report BAG [--json]`: topics, counts and rates of a bag, and how well faces were found."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('report', help='summarize a bag: topics, rates, faces', description=__doc__)
    p.add_argument('bag', type=Path, help='bag directory (or .mcap file)')
    p.add_argument('--json', action='store_true',
                   help='print the report as one JSON object on the last line of stdout '
                        '(the table goes to stderr)')
    p.set_defaults(handler=report)


def report(ns: argparse.Namespace) -> int:
    from attune.bag.report import bag_report, format_report

    result = bag_report(ns.bag)
    if ns.json:
        print(format_report(result), file=sys.stderr)
        print(json.dumps(result.to_dict(), separators=(',', ':')))
    else:
        print(format_report(result))
    return 0
