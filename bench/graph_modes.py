#!/usr/bin/env python3
"""One process per node vs all nodes composed in one process (`attune up --mode ...`).

    python bench/graph_modes.py [--data DIR] [--frames N] [--fps F] [--graph-args robot=sim sign=true ...]

--data is a folder laid out like ../shared/data/video/ (its default): faces/*.mp4 are the camera.
For each mode, in the same run: the graph is started with `attune up`, a simulated camera publishes
the frames at --fps, and this process measures, for /attune/faces: end-to-end latency (image
publish -> Faces received) median/p95, the fraction of frames answered, image publish -> the first
InteractionState carrying that image's stamp (`interaction_latency_ms`), the graph's total CPU time and
summed peak RSS and the same per process (`per_process`, by node); and how many messages the other
outputs (expression, affect, hands, sign, interaction state, commands) carried.
The baseline is `processes`; ratios composed/processes are reported.
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


def process_name(pid: int) -> str:
    """The attune node a process runs (`python -m attune.nodes.X` -> X), else its command's name."""
    try:
        argv = Path(f'/proc/{pid}/cmdline').read_bytes().split(b'\0')
    except OSError:
        return str(pid)
    for arg in argv:
        if arg == b'attune.graph.group':
            return 'group'
        if arg.startswith(b'attune.nodes.'):
            return arg.decode().rsplit('.', 1)[1]
    return Path(argv[1 if len(argv) > 1 and argv[0].endswith(b'python3') else 0].decode() or str(pid)).name


def memory_mb(pid: int) -> dict[str, float]:
    """/proc/PID/status memory lines in MB: VmHWM (peak RSS) and what the RSS is now made of
    (RssAnon: the process's own heap; RssFile: mapped libraries and models, shared with other
    processes; RssShmem: shared memory, which includes the DDS shared-memory transport), and Pss from
    smaps_rollup (each shared page divided among the processes that map it: the sum over processes is
    the memory the graph really holds, where the sum of peak RSS counts each shared library per process)."""
    out = {}
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        key = line.split(':', 1)[0]
        if key in ('VmHWM', 'RssAnon', 'RssFile', 'RssShmem'):
            out[key] = int(line.split()[1]) / 1024
    for line in Path(f'/proc/{pid}/smaps_rollup').read_text().splitlines():
        if line.startswith('Pss:'):
            out['Pss'] = int(line.split()[1]) / 1024
    return out


def per_process_cpu_and_rss(pids: list[int]) -> dict[int, tuple[float, dict[str, float]]]:
    """CPU seconds (user + system) and memory (`memory_mb`) of each live process."""
    ticks = os.sysconf('SC_CLK_TCK')
    out = {}
    for pid in pids:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
            out[pid] = ((int(fields[11]) + int(fields[12])) / ticks, memory_mb(pid))
        except OSError:
            pass
    return out


def latency_summary(latencies: list[float]) -> dict[str, float] | None:
    if not latencies:
        return None
    return {'median': round(statistics.median(latencies), 2), 'p95': round(float(np.percentile(latencies, 95)), 2)}


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
    first_state: dict[int, float] = {}
    node.create_subscription(msgs.InteractionState, '/attune/interaction_state',
                             lambda m: first_state.setdefault(to_ns(m.header.stamp), time.perf_counter()),
                             QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
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
        before = per_process_cpu_and_rss(pids)
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
        after = per_process_cpu_and_rss(descendants(up.pid))
        latencies = [(received[s] - t) * 1e3 for s, t in sent.items() if s in received]
        # A state carries the stamp of the newest input behind it: the image's, once the faces are in.
        state_latencies = [(first_state[s] - t) * 1e3 for s, t in sent.items() if s in first_state]
        wall = len(frames) / fps
        per_process: dict[str, dict[str, float]] = {}
        for pid, (cpu, mem) in after.items():
            entry = per_process.setdefault(process_name(pid), dict.fromkeys(
                ('cpu_percent_of_one_core', 'peak_rss_mb', 'anon_mb', 'file_mb', 'shmem_mb'), 0.0))
            entry['cpu_percent_of_one_core'] += round(100 * (cpu - before.get(pid, (0.0, {}))[0]) / wall, 1)
            for key, name in (('VmHWM', 'peak_rss_mb'), ('RssAnon', 'anon_mb'), ('RssFile', 'file_mb'),
                              ('RssShmem', 'shmem_mb')):
                entry[name] = round(entry[name] + mem.get(key, 0.0), 1)
        return {'latency_ms': latency_summary(latencies),
                'answered_fraction': round(len(latencies) / len(frames), 3),
                'interaction_latency_ms': latency_summary(state_latencies),
                'interaction_answered_fraction': round(len(state_latencies) / len(frames), 3),
                'graph_cpu_percent_of_one_core': round(
                    100 * sum(c - before.get(pid, (0.0, {}))[0] for pid, (c, _) in after.items()) / wall, 1),
                'graph_peak_rss_mb': round(sum(m.get('VmHWM', 0.0) for _, m in after.values()), 1),
                'graph_pss_mb': round(sum(m.get('Pss', 0.0) for _, m in after.values()), 1),
                'processes': len(after),
                'per_process': dict(sorted(per_process.items(), key=lambda kv: -kv[1]['cpu_percent_of_one_core'])),
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
    parser.add_argument('--modes', nargs='+', choices=('processes', 'grouped', 'composed'),
                        default=['processes', 'composed'], help='which modes to run (default processes and composed; '
                        'the composed/processes ratios need both)')
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
    for mode in args.modes:
        results['modes'][mode] = run_mode(mode, frames, args.fps, up_args)
        print(f'{mode}: {results["modes"][mode]}', file=sys.stderr)
    p, c = results['modes'].get('processes'), results['modes'].get('composed')
    if p and c and p['latency_ms'] and c['latency_ms']:
        results['ratio_composed_to_processes'] = {
            'latency_median': round(c['latency_ms']['median'] / p['latency_ms']['median'], 3),
            'cpu': round(c['graph_cpu_percent_of_one_core'] / max(1e-9, p['graph_cpu_percent_of_one_core']), 3),
            'rss': round(c['graph_peak_rss_mb'] / max(1e-9, p['graph_peak_rss_mb']), 3)}
    print(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
