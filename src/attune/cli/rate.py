"""`attune rate SESSION.jsonl [--engagement N] [--comfort N] [--note TEXT] [--rater WHO]`: an operator's
rating of a session, during it or after it.

Engagement and comfort are rated from 1 (least) to 7 (most). The rating is appended to
SESSION.ratings.jsonl beside the behaviour node's session log, with the time since the session
started, and `attune report SESSION.jsonl` shows it. During a session, ratings can also be published
on /attune/session/rating (attune/SessionRating); the behaviour node logs those itself.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from attune.behavior.ratings import SCALE, Rating, append_rating, now_iso, session_time
from attune.errors import AttuneError


def _scale(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'a whole number from {SCALE[0]} to {SCALE[1]}, not {text!r}') from None
    if not SCALE[0] <= value <= SCALE[1]:
        raise argparse.ArgumentTypeError(f'a whole number from {SCALE[0]} to {SCALE[1]}, not {value}')
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('rate', help="record an operator's rating of a session (engagement, comfort 1-7, note)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('session', type=Path, metavar='SESSION.jsonl', help="the behaviour node's session log")
    p.add_argument('--engagement', type=_scale, help=f'how engaged the person was, {SCALE[0]}-{SCALE[1]}')
    p.add_argument('--comfort', type=_scale, help=f'how comfortable (at ease) the person was, {SCALE[0]}-{SCALE[1]}')
    p.add_argument('--note', default='', help='free text')
    p.add_argument('--rater', default='', help='who rates (initials or role)')
    p.add_argument('--at', type=float, default=None, metavar='SECONDS',
                   help='the moment rated, in seconds since the session started (default: now)')
    p.set_defaults(handler=run)


def run(ns: argparse.Namespace) -> int:
    from attune.behavior.session_log import is_session_log

    if not is_session_log(ns.session):
        raise AttuneError(f'{ns.session} is not a session log (the behaviour node writes them to '
                          'session_log_dir as session-<date>-<time>.jsonl)')
    t = ns.at if ns.at is not None else session_time(ns.session)
    rating = Rating(engagement=ns.engagement, comfort=ns.comfort, note=ns.note, rater=ns.rater, t=t,
                    rated_at=now_iso(), source='cli')
    path = append_rating(ns.session, rating)
    print(f'rating recorded in {path}')
    return 0
