#!/usr/bin/env python3
"""Cross-host latency: the graph split over two network namespaces vs the same graph on one host.

    sudo python bench/two_hosts.py [--seconds 5] [--repeats 10] [--discovery default|server] [--data DIR]

--data is a folder laid out like ../shared/data/video/ (its default): faces/*.mp4 are the camera.
In the same run, for each layout (baseline `single_host`: perception and robot processes in one
namespace sharing /dev/shm; `two_hosts`: each in its own namespace and /dev/shm, joined by a veth
link), the camera on the perception host publishes a face clip at 30 FPS with wall-clock stamps
(the namespaces share the clock), and a probe on the robot host records when results arrive:
  faces_latency_ms:   image stamp -> /attune/faces received on the robot host, per frame;
  interaction_latency_ms: image stamp -> the first /attune/interaction_state carrying that stamp, received
                      on the robot host (the fused state the behaviour node acts on), per frame;
  command_latency_ms: first image stamp -> first behaviour command caused by a face (stamped after the image
                      of the first Faces holding a face), received on the robot host
                      (the time a person waits for the robot to react; one sample per repeat). Each
                      repeat starts the camera only once both hosts have discovered each other's
                      endpoints, so this is the graph's reaction, not discovery.
p50/p95 of each, and the two_hosts/single_host ratio of the p95s (target <= 1.2). Needs root.
The JSON object on the last line holds every number.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'bench'))
import hosts  # noqa: E402

LAYOUTS = ('single_host', 'two_hosts')


def percentiles(values: list[float]) -> dict | None:
    if not values:
        return None
    return {'p50': round(float(np.percentile(values, 50)), 2), 'p95': round(float(np.percentile(values, 95)), 2),
            'n': len(values)}


def measure(layout: str, discovery: str, seconds: float, repeats: int, log) -> dict:
    faces_ms: list[float] = []
    state_ms: list[float] = []
    command_ms: list[float] = []
    answered = sent = 0
    for _ in range(repeats):
        with hosts.Namespaces() as namespaces:
            run = hosts.run_split_graph(namespaces, discovery, layout, seconds, log=log)
        faces = [e for e in run['events'] if e['event'] == 'faces' and e['stamp_ns'] in run['images']]
        faces_ms += [(e['recv_ns'] - e['stamp_ns']) / 1e6 for e in faces]
        first_state: dict[int, int] = {}
        for e in run['events']:
            if e['event'] == 'state' and e['stamp_ns'] in run['images']:
                first_state.setdefault(e['stamp_ns'], e['recv_ns'])
        state_ms += [(recv - stamp) / 1e6 for stamp, recv in first_state.items()]
        reaction = hosts.first_reaction(run['events'])
        command_ms.append((reaction['recv_ns'] - run['first_image_ns']) / 1e6)
        answered += len(faces)
        sent += len(run['images'])
    return {'faces_latency_ms': percentiles(faces_ms), 'interaction_latency_ms': percentiles(state_ms),
            'command_latency_ms': percentiles(command_ms), 'command_samples_ms': [round(v) for v in command_ms],
            'answered_fraction': round(answered / max(1, sent), 3), 'frames_sent': sent}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seconds', type=float, default=5.0, help='camera time after the first command')
    parser.add_argument('--repeats', type=int, default=10, help='graph starts per layout')
    parser.add_argument('--discovery', choices=('default', 'server'), default='default')
    parser.add_argument('--data', type=Path, default=REPO.parent / 'shared' / 'data' / 'video')
    args = parser.parse_args()
    reason = hosts.unavailable_reason()
    if reason:
        raise SystemExit(f'ERROR: {reason}')
    if args.data.resolve() != (REPO.parent / 'shared' / 'data' / 'video').resolve():
        os.environ['ATTUNE_HOSTS_VIDEO'] = str(args.data)
    results: dict = {'benchmark': 'two_hosts', 'discovery': args.discovery, 'seconds': args.seconds,
                     'repeats': args.repeats, 'cpu_count': os.cpu_count(), 'layouts': {}}
    with open(os.devnull, 'w') as log:
        for layout in LAYOUTS:
            results['layouts'][layout] = measure(layout, args.discovery, args.seconds, args.repeats, log)
            print(f'{layout}: {results["layouts"][layout]}', file=sys.stderr)
    one, two = results['layouts']['single_host'], results['layouts']['two_hosts']
    results['ratio_p95_two_to_single'] = {
        key: round(two[key]['p95'] / one[key]['p95'], 3) if one[key] and two[key] else None
        for key in ('faces_latency_ms', 'interaction_latency_ms', 'command_latency_ms')}
    results['target_p95_ratio'] = 1.2
    print(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
