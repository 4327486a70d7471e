#!/usr/bin/env python3
"""One process per node vs all nodes composed in one process (`attune up --mode ...`).

    python bench/graph_modes.py [--data DIR] [--frames N] [--fps F] [--graph-args robot=sim sign=true ...]

--data is a folder laid out like ../shared/data/video/ (its default): faces/*.mp4 are the camera.
For each mode, in the same run: the graph is started with `attune up`, a simulated camera publishes
the frames at --fps, and this process measures, for /attune/faces: end-to-end latency (image
publish -> Faces received) median/p95, the fraction of frames answered, and the graph's total CPU
time and summed peak RSS; and how many messages the other outputs (expression, affect, hands, sign,
interaction state, commands) carried. The baseline is `processes`; ratios composed/processes are reported.
The JSON object on the last line holds every number.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from attune.graph.up_process import start_up, stop_up

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'bench'))
from face_pipeline import load_frames  # noqa: E402

DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'video'
TOPIC = '/bench_modes/image_raw'


def descendants(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            for task in Path(f'/proc/{p}/task').iterdir():
                stack += [int(c) for c in (task / 'children').read_text().split()]
        except OSError:
            pass
    return out


def cpu_seconds_and_rss(pids: list[int]) -> tuple[float, float]:
    ticks = os.sysconf('SC_CLK_TCK')
    cpu = rss = 0.0
    for pid in pids:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            for line in Path(f'/proc/{pid}/status').read_text().splitlines():
                if line.startswith('VmHWM:'):
                    rss += int(line.split()[1]) / 1024
        except OSError:
            pass
    return cpu, rss


def run_mode(mode: str, frames: list[np.ndarray], fps: float, graph_args: list[str]) -> dict:
    import rclpy
    from builtin_interfaces.msg import Time
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    import attune.msg as msgs
    from attune.msg import Faces
    from attune.ros.images import image_msg
    from attune.ros.stamps import from_ns, to_ns

    up = start_up(['--mode', mode, f'--camera-topic={TOPIC}', *graph_args])
    rclpy.init()
    node = rclpy.create_node(f'bench_graph_{mode}')
    received: dict[int, float] = {}
    node.create_subscription(Faces, '/attune/faces', lambda m: received.__setitem__(to_ns(m.header.stamp),
                                                                                   time.perf_counter()),
                             QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    # How many results each other output carries in the same run (0 for nodes not started).
    outputs = {'/attune/expression': msgs.Expression, '/attune/affect': msgs.AffectState,
               '/attune/hands': msgs.Hands, '/attune/sign': msgs.Sign,
               '/attune/interaction_state': msgs.InteractionState, '/attune/behavior/command': msgs.BehaviorCommand}
    counts = dict.fromkeys(outputs, 0)
    for topic, cls in outputs.items():
        node.create_subscription(cls, topic, lambda _m, t=topic: counts.__setitem__(t, counts[t] + 1),
                                 QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    camera = node.create_publisher(Image, TOPIC, qos_profile_sensor_data)
    try:
        deadline = time.monotonic() + 120
        while camera.get_subscription_count() == 0 or node.count_publishers('/attune/faces') == 0:
            if time.monotonic() > deadline or up.poll() is not None:
                raise SystemExit(f'ERROR: attune up --mode {mode} did not start')
            rclpy.spin_once(node, timeout_sec=0.1)
        time.sleep(2.0)  # let every node finish configuring
        pids = descendants(up.pid)
        cpu_before, _ = cpu_seconds_and_rss(pids)
        sent: dict[int, float] = {}
        start = time.perf_counter()
        for i, rgb in enumerate(frames):
            due = start + i / fps
            while time.perf_counter() < due:
                rclpy.spin_once(node, timeout_sec=max(0.0, min(0.005, due - time.perf_counter())))
            stamp = 1_000_000_000 + round(i * 1e9 / fps)  # camera-like stamps: nodes rate-limit on them
            msg = image_msg(rgb, 'rgb8', Header(stamp=from_ns(stamp, Time), frame_id='bench'))
            sent[stamp] = time.perf_counter()
            camera.publish(msg)
        end = time.perf_counter() + 3.0
        while time.perf_counter() < end:
            rclpy.spin_once(node, timeout_sec=0.01)
        cpu_after, rss = cpu_seconds_and_rss(descendants(up.pid))
        latencies = [(received[s] - t) * 1e3 for s, t in sent.items() if s in received]
        wall = len(frames) / fps
        return {'latency_ms': {'median': round(statistics.median(latencies), 2),
                               'p95': round(float(np.percentile(latencies, 95)), 2)} if latencies else None,
                'answered_fraction': round(len(latencies) / len(frames), 3),
                'graph_cpu_percent_of_one_core': round(100 * (cpu_after - cpu_before) / wall, 1),
                'graph_peak_rss_mb': round(rss, 1), 'processes': len(pids),
                'messages': {t: n for t, n in counts.items() if n}}
    finally:
        stop_up(up)
        node.destroy_node()
        rclpy.try_shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA, help='folder like ../shared/data/video/')
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--fps', type=float, default=30.0)
    parser.add_argument('--graph-args', nargs='*', default=[], metavar='K=V',
                        help='extra `attune up` arguments as name=value, e.g. robot=sim sign=true')
    args = parser.parse_args()
    for item in args.graph_args:
        if '=' not in item or item.startswith('-'):
            parser.error(f'--graph-args takes name=value pairs (robot=sim), got {item!r}')
    up_args = [f'--{k.replace("_", "-")}={v}' for k, v in (item.split('=', 1) for item in args.graph_args)]
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.randint(101, 200)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    from attune.ros.dds import use_attune_dds_profile

    use_attune_dds_profile()
    frames = load_frames(args.data, args.frames)
    results = {'benchmark': 'graph_modes', 'frames': len(frames), 'fps': args.fps,
               'graph_args': args.graph_args, 'cpu_count': os.cpu_count(), 'modes': {}}
    for mode in ('processes', 'composed'):
        results['modes'][mode] = run_mode(mode, frames, args.fps, up_args)
        print(f'{mode}: {results["modes"][mode]}', file=sys.stderr)
    p, c = results['modes']['processes'], results['modes']['composed']
    if p['latency_ms'] and c['latency_ms']:
        results['ratio_composed_to_processes'] = {
            'latency_median': round(c['latency_ms']['median'] / p['latency_ms']['median'], 3),
            'cpu': round(c['graph_cpu_percent_of_one_core'] / max(1e-9, p['graph_cpu_percent_of_one_core']), 3),
            'rss': round(c['graph_peak_rss_mb'] / max(1e-9, p['graph_peak_rss_mb']), 3)}
    print(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
