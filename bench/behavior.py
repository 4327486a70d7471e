#!/usr/bin/env python3
"""Benchmark: latency from an input message to the resulting BehaviorCommand, under a 30 Hz input
load with several faces, through the real nodes (interaction_node and behavior_node, each in its own
process, as `attune up` runs them), plus the baseline: the ROS-free cost of one update (fusion and
policy) in this process.

Load: every 1/30 s one attune/Faces with N faces and one attune/Expression per face. One face at a
time (in turn) switches from neutral to fear for half a second; a bench policy fires on the rising
edge of its distress (no cooldown, no rate limit in the way), so every switch yields one command.
Latency = receive time of the command - publish time of the first fear Expression.

    python bench/behavior.py [--faces 4] [--seconds 20] [--data DIR]

--data is accepted for the bench convention; the load is synthetic and deterministic, so nothing
is read. Prints one JSON object last.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'src'))

BENCH_POLICY = """\
policy: bench
limits: {max_commands: 1000, window_s: 1, max_rules_per_update: 1, default_cooldown_s: 0, hysteresis: 0.05}
rules:
  - name: calm
    when: distress >= 0.5
    cooldown_s: 0
    reason: "{person} is afraid"
    actions:
      - led: soft_blue
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def core_baseline(faces: int, updates: int = 3000) -> dict:
    """Microseconds per update (one face's input -> fused state -> policy evaluation), no ROS."""
    from attune.behavior import ExpressionObservation, FaceSighting, FusionOptions, InteractionFusion, PolicyEngine
    from attune.behavior.policy import load_policy

    fusion = InteractionFusion(FusionOptions())
    engine = PolicyEngine(load_policy('default'))
    ids = [f'f{i}' for i in range(faces)]
    costs = []
    for i in range(updates):
        t = i / 30.0
        start = time.perf_counter()
        fusion.observe_faces(t, i, [FaceSighting(pid, yaw=5.0 * k, pitch=0.0) for k, pid in enumerate(ids)])
        for k, pid in enumerate(ids):
            label = 'fear' if (i // 15) % faces == k and (i // 15) % 2 else 'neutral'
            observation = ExpressionObservation(pid, 'rules', label, 0.9, (label, 'happy'), (0.9, 0.1))
            fusion.observe_expression(t, i, observation)
        for state in fusion.snapshot(t):
            engine.on_state(state, t)
        engine.tick(t)
        costs.append((time.perf_counter() - start) * 1e6 / faces)
    return {'per_face_update_us_median': statistics.median(costs), 'per_face_update_us_p95': percentile(costs, 0.95)}


def ros_latency(faces: int, seconds: float) -> dict:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from std_msgs.msg import Header

    from attune.msg import BehaviorCommand, Expression, Face, Faces
    from attune.ros.dds import use_attune_dds_profile

    os.environ.setdefault('ROS_DOMAIN_ID', str(50 + os.getpid() % 50))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    use_attune_dds_profile()
    tmp = Path(tempfile.mkdtemp(prefix='attune-bench-'))
    policy = tmp / 'bench.yaml'
    policy.write_text(BENCH_POLICY)
    commands = [
        [sys.executable, '-m', 'attune.nodes.interaction_node', '--ros-args', '-r', '__node:=bench_interaction',
         '-p', 'smoothing_tau_s:=0.0'],
        [sys.executable, '-m', 'attune.nodes.behavior_node', '--ros-args', '-r', '__node:=bench_behavior',
         '-p', f'policy:={policy}'],
    ]
    log = (tmp / 'nodes.log').open('w')
    procs = [subprocess.Popen(c, stdout=log, stderr=subprocess.STDOUT) for c in commands]
    rclpy.init()
    node = rclpy.create_node('bench_probe')
    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    faces_pub = node.create_publisher(Faces, '/attune/faces', qos)
    expr_pub = node.create_publisher(Expression, '/attune/expression', qos)
    received: list[tuple[float, str]] = []
    node.create_subscription(BehaviorCommand, '/attune/behavior/command',
                             lambda m: received.append((time.perf_counter(), m.target_id)), qos)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    stop = threading.Event()

    def spin_loop() -> None:
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.02)

    spin = threading.Thread(target=spin_loop, daemon=True)
    spin.start()
    try:
        deadline = time.monotonic() + 60
        while not (faces_pub.get_subscription_count() >= 1 and expr_pub.get_subscription_count() >= 1
                   and node.count_publishers('/attune/behavior/command') >= 1):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(f'nodes did not start; see {tmp / "nodes.log"}')
            time.sleep(0.1)
        time.sleep(1.0)
        ids = [f'f{i}' for i in range(faces)]
        triggers: list[tuple[float, str]] = []
        frames = int(seconds * 30)
        start = time.perf_counter()
        for i in range(frames):
            header = Header(stamp=node.get_clock().now().to_msg(), frame_id='camera_optical_frame')
            msg = Faces(header=header, image_width=640, image_height=480)
            for k, pid in enumerate(ids):
                msg.faces.append(Face(id=pid, detection_confidence=0.9, yaw=5.0 * k, pitch=0.0, pose_valid=True))
            faces_pub.publish(msg)
            active = (i // 15) % (2 * faces)  # 0.5 s per phase: fear for face k on odd phases
            for k, pid in enumerate(ids):
                fear = active % 2 == 1 and active // 2 == k
                label = 'fear' if fear else 'neutral'
                e = Expression(header=header, face_id=pid, label=label, confidence=0.9, labels=[label, 'happy'],
                               probabilities=[0.9, 0.1], valence=math.nan, arousal=math.nan, source='rules')
                if fear and i % 15 == 0:
                    triggers.append((time.perf_counter(), pid))
                expr_pub.publish(e)
            time.sleep(max(0.0, start + (i + 1) / 30 - time.perf_counter()))
        time.sleep(1.0)
    finally:
        stop.set()
        spin.join(timeout=5)
        for p in procs:
            p.send_signal(2)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        node.destroy_node()
        rclpy.try_shutdown()
        log.close()
    latencies = []
    for t, pid in triggers:
        after = [r for r, target in received if target == pid and r >= t]
        if after and after[0] - t < 0.45:
            latencies.append((after[0] - t) * 1e3)
    return {'triggers': len(triggers), 'commands': len(received), 'matched': len(latencies),
            'latency_ms_median': statistics.median(latencies) if latencies else None,
            'latency_ms_p95': percentile(latencies, 0.95) if latencies else None,
            'latency_ms_max': max(latencies) if latencies else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--faces', type=int, default=4)
    parser.add_argument('--seconds', type=float, default=20.0)
    parser.add_argument('--data', type=Path, default=None, help='accepted for the convention; not read')
    args = parser.parse_args()
    baseline = core_baseline(args.faces)
    print(f'core (fusion + policy), per face update: median {baseline["per_face_update_us_median"]:.0f} us, '
          f'p95 {baseline["per_face_update_us_p95"]:.0f} us', file=sys.stderr)
    ros = ros_latency(args.faces, args.seconds)
    print(f'input -> BehaviorCommand through interaction_node and behavior_node (separate processes), '
          f'{args.faces} faces at 30 Hz: median {ros["latency_ms_median"] or math.nan:.1f} ms, '
          f'p95 {ros["latency_ms_p95"] or math.nan:.1f} ms ({ros["matched"]}/{ros["triggers"]} triggers answered)',
          file=sys.stderr)
    print(json.dumps({'bench': 'behavior', 'faces': args.faces, 'input_hz': 30, 'seconds': args.seconds,
                      'machine': {'cpus': os.cpu_count(), 'python': platform.python_version()},
                      'baseline_core': baseline, 'ros': ros}))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
