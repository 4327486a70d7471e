#!/usr/bin/env python3
"""Soak: the default graph and the full graph, each fed a looping face video at 30 FPS for N minutes.

    python bench/soak.py [--minutes 30] [--fps 30] [--data DIR] [--graphs default full]

--data is a folder laid out like ../shared/data/video/ (its default): faces/*.mp4 are the camera.
Each graph is started with `attune up` (one process per node, as deployed). A simulated camera
publishes the clip in a loop with camera-like stamps; this process counts the /attune/faces answers.
Every node's resident memory (psutil when installed, else /proc) is sampled one minute into the
stream, at the end, and once a minute for the curve (rss_mb_by_minute). Growth = (end - minute 1) / minute 1,
per node; target <= 5 % over 30 minutes. rss_parts_mb_by_minute splits each sample into anonymous,
file-backed and shared memory, so a growth can be told apart: heap, or Fast DDS segments being touched.
The default graph (face + expression) is the baseline the full graph is compared with.
JSON keys: rss_growth_max (largest growth of any node of any graph), answered_fraction (the smallest of
the graphs'), and per graph: per-node RSS at minute 1 and at the end, growth, answered fraction and
message counts. The JSON object on the last line holds every number.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from attune.graph.up_process import start_up, stop_up

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'bench'))
from face_pipeline import load_frames  # noqa: E402
from graph_modes import descendants  # noqa: E402

DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'video'
TOPIC = '/bench_soak/image_raw'
GRAPHS = {'default': [],
          'full': ['--robot=sim', '--sign=true', '--spiking-fer=true', '--asd-emotion=true']}
NODE_NAME = re.compile(r'__node:=(\w+)')


def rss_mb(pid: int) -> float | None:
    try:
        import psutil
    except ImportError:
        psutil = None
    try:
        if psutil is not None:
            return psutil.Process(pid).memory_info().rss / 2**20
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    except Exception:  # noqa: BLE001 - a process that just ended has no memory to report
        return None
    return None


def rss_parts_mb(pid: int) -> dict[str, float]:
    """The parts of a process's RSS in MB (/proc/PID/status): anonymous (heap: where a leak shows),
    file-backed (libraries, models) and shared memory (Fast DDS segments, mapped by every reader of a
    sender's segment: pages count once they are touched)."""
    parts = {}
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            key, _, value = line.partition(':')
            if key in ('RssAnon', 'RssFile', 'RssShmem'):
                parts[key[3:].lower()] = round(int(value.split()[0]) / 1024, 1)
    except OSError:  # a process that just ended has no memory to report
        return {}
    return parts


def node_processes(root_pid: int) -> Iterator[tuple[str, int]]:
    """(node name, pid) of each node process under `attune up` (named by its __node:= argument). The ROS
    wheels re-exec Python once at start, so a name can come twice: callers keep the live interpreter's
    (the larger) sample."""
    for pid in descendants(root_pid):
        try:
            cmdline = Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode()
        except OSError:
            continue
        if match := NODE_NAME.search(cmdline):
            yield match.group(1), pid


def node_memory(root_pid: int) -> dict[str, float]:
    """RSS in MB of each node process under `attune up`."""
    out: dict[str, float] = {}
    for name, pid in node_processes(root_pid):
        rss = rss_mb(pid)
        if rss is not None:
            out[name] = round(max(rss, out.get(name, 0.0)), 1)
    return out


def node_memory_parts(root_pid: int) -> dict[str, dict[str, float]]:
    """Anonymous, file-backed and shared-memory parts of each node process's RSS, in MB."""
    out: dict[str, dict[str, float]] = {}
    for name, pid in node_processes(root_pid):
        parts = rss_parts_mb(pid)
        if sum(parts.values()) > sum(out.get(name, {}).values()):
            out[name] = parts
    return out


def soak_graph(name: str, up_args: list[str], frames: list[np.ndarray], fps: float, seconds: float) -> dict:
    import rclpy
    from builtin_interfaces.msg import Time
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    import attune.msg as msgs
    from attune.ros.images import image_msg
    from attune.ros.stamps import from_ns, to_ns

    up = start_up([f'--camera-topic={TOPIC}', *up_args])
    rclpy.init()
    node = rclpy.create_node(f'bench_soak_{name}')
    answered: set[int] = set()
    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(msgs.Faces, '/attune/faces', lambda m: answered.add(to_ns(m.header.stamp)), qos)
    outputs = {'/attune/expression': msgs.Expression, '/attune/affect': msgs.AffectState,
               '/attune/hands': msgs.Hands, '/attune/sign': msgs.Sign,
               '/attune/interaction_state': msgs.InteractionState, '/attune/behavior/command': msgs.BehaviorCommand}
    counts = dict.fromkeys(outputs, 0)
    for topic, cls in outputs.items():
        node.create_subscription(cls, topic, lambda _m, t=topic: counts.__setitem__(t, counts[t] + 1), qos)
    camera = node.create_publisher(Image, TOPIC, qos_profile_sensor_data)
    try:
        deadline = time.monotonic() + 180
        while camera.get_subscription_count() == 0 or node.count_publishers('/attune/faces') == 0:
            if time.monotonic() > deadline or up.poll() is not None:
                raise SystemExit(f'ERROR: attune up ({name} graph) did not start')
            rclpy.spin_once(node, timeout_sec=0.1)
        sent = 0
        minute_one: dict[str, float] | None = None
        by_minute: list[dict[str, float]] = []  # the curve: a plateau (warm-up) reads differently from a slope (leak)
        parts_by_minute: list[dict[str, dict[str, float]]] = []  # which part grew: heap, or shared DDS segments
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            due = start + sent / fps
            while time.monotonic() < due:
                rclpy.spin_once(node, timeout_sec=max(0.0, min(0.005, due - time.monotonic())))
            stamp = 1_000_000_000 + round(sent * 1e9 / fps)
            camera.publish(image_msg(frames[sent % len(frames)], 'rgb8',
                                     Header(stamp=from_ns(stamp, Time), frame_id='bench')))
            sent += 1
            if minute_one is None and elapsed >= min(60.0, seconds / 2):
                minute_one = node_memory(up.pid)
            if elapsed >= 60.0 * (len(by_minute) + 1):
                by_minute.append(node_memory(up.pid))
                parts_by_minute.append(node_memory_parts(up.pid))
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.01)
        final = node_memory(up.pid)
        minute_one = minute_one or final
        growth = {n: round((final[n] - minute_one[n]) / minute_one[n], 4) for n in final if minute_one.get(n)}
        if up.poll() is not None:
            raise SystemExit(f'ERROR: attune up ({name} graph) exited during the soak (code {up.returncode})')
        return {'seconds': round(seconds, 1), 'frames_sent': sent,
                'answered_fraction': round(len(answered) / max(1, sent), 4),
                'rss_mb_minute_1': minute_one, 'rss_mb_end': final, 'rss_growth': growth,
                'rss_mb_by_minute': by_minute, 'rss_parts_mb_by_minute': parts_by_minute,
                'rss_growth_max': max(growth.values(), default=0.0),
                'messages': {t: n for t, n in counts.items() if n}}
    finally:
        stop_up(up)
        node.destroy_node()
        rclpy.try_shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--minutes', type=float, default=30.0, help='stream time per graph')
    parser.add_argument('--fps', type=float, default=30.0)
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA, help='folder like ../shared/data/video/')
    parser.add_argument('--frames', type=int, default=300, help='frames of the clip to loop')
    parser.add_argument('--graphs', nargs='+', choices=tuple(GRAPHS), default=list(GRAPHS))
    args = parser.parse_args()
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.randint(101, 200)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    from attune.ros.dds import use_attune_dds_profile

    use_attune_dds_profile()
    frames = load_frames(args.data, args.frames)
    results: dict = {'benchmark': 'soak', 'minutes': args.minutes, 'fps': args.fps, 'frames': len(frames),
                     'cpu_count': os.cpu_count(), 'graphs': {}}
    for name in args.graphs:
        results['graphs'][name] = soak_graph(name, GRAPHS[name], frames, args.fps, args.minutes * 60)
        print(f'{name}: {results["graphs"][name]}', file=sys.stderr)
    graphs = results['graphs'].values()
    results['rss_growth_max'] = max(g['rss_growth_max'] for g in graphs)
    results['answered_fraction'] = min(g['answered_fraction'] for g in graphs)
    print(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
