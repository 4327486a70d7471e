#!/usr/bin/env python3
"""Benchmark: every node fuzzed through real rclpy with hostile messages (hypothesis strategies of
test/reliability/strategies.py) interleaved with valid traffic, and, as the baseline in the same
run, the same valid traffic alone.

Per node: hostile messages sent (`messages`), `crashes` (exceptions that reached the executor or
escaped the node's callback), `valid_outputs_ok` (every valid input got its correct result: the face
keeps its id, each Faces + image its Expression, each SAY is carried out, ...), whether every
certainly-bad message was counted in the node's diagnostics, and the process RSS before and after.

    python bench/fuzz.py [--messages 10000] [--nodes face_node,expression_node] [--seed 14] [--data DIR]
    python bench/fuzz.py --messages 500 --nodes hri_bridge hands   # short names, spaces work too

--data is accepted for the bench convention; the valid traffic reads the portrait of
../shared/data/mediapipe. Prints one JSON object last: messages, crashes, valid_outputs_ok (totals)
and the same per node under `nodes`, with the baseline under `baseline`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'src'))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('GLOG_minloglevel', '2')


def node_name(name: str, targets: dict) -> str:
    """A fuzz target's name from what was typed ('hands' or 'hands_node')."""
    for candidate in (name, f'{name}_node'):
        if candidate in targets:
            return candidate
    raise SystemExit(f'fuzz.py: unknown node {name!r}; known: {", ".join(sorted(targets))}')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--messages', type=int, default=10_000, help='hostile messages per node')
    parser.add_argument('--nodes', nargs='*', default=[],
                        help='node names, separated by spaces or commas; the _node suffix may be left off '
                             '(default: all)')
    parser.add_argument('--seed', type=int, default=14)
    parser.add_argument('--data', default=str(REPO.parent / 'shared' / 'data'))
    args = parser.parse_args()

    import rclpy
    from test.conftest import SHARED_DATA  # noqa: F401 - sets the DDS profile like the tests
    from test.reliability.fuzzing import fuzz_node
    from test.reliability.targets import TARGETS
    from test.reliability.targets_more import MORE_TARGETS

    targets = {**TARGETS, **MORE_TARGETS}

    names = [node_name(n, targets) for part in args.nodes for n in part.split(',') if n] or sorted(targets)
    rclpy.init()
    per_node, baseline = {}, {}
    try:
        for name in names:
            start = time.monotonic()
            result = fuzz_node(targets[name](), args.messages, args.seed)
            per_node[name] = {**result.as_dict(), 'seconds': round(time.monotonic() - start, 1)}
            print(name, json.dumps(per_node[name]), flush=True)
            quiet = fuzz_node(targets[name](), args.messages, args.seed, hostile=False)
            baseline[name] = {'valid_sent': quiet.valid_sent, 'valid_outputs_ok': quiet.valid_outputs_ok,
                              'why_not_ok': quiet.why_not_ok, 'undelivered': quiet.undelivered,
                              'rss_mb_before': round(quiet.rss_mb_before, 1),
                              'rss_mb_after': round(quiet.rss_mb_after, 1)}
    finally:
        rclpy.try_shutdown()
    summary = {
        'messages': sum(r['messages'] for r in per_node.values()),
        'crashes': sum(r['crashes'] for r in per_node.values()),
        'valid_outputs_ok': all(r['valid_outputs_ok'] for r in per_node.values()),
        'every_bad_counted': all(r['every_bad_counted'] for r in per_node.values()),
        'baseline_valid_outputs_ok': all(r['valid_outputs_ok'] for r in baseline.values()),
        'messages_per_node': args.messages, 'seed': args.seed, 'nodes': per_node, 'baseline': baseline,
    }
    print(json.dumps(summary))
    return 0 if summary['crashes'] == 0 and summary['valid_outputs_ok'] else 1


if __name__ == '__main__':
    raise SystemExit(main())
