#!/usr/bin/env python3
"""Does the expression node keep up with a camera? Real video through the node over real DDS.

    python bench/expression_node.py [--data DIR] [--frames N] [--rate HZ]

--data is a folder laid out like ../shared/data/video/ (its default): faces/*.mp4 are used.

In one run:
  core   attune.expression.ExpressionAnalyzer called in a loop on the same frames (AUs, rules, crop,
         CNN, ensemble): per-frame median/p95 ms. The baseline.
  node   this process plays camera and face node: it publishes each frame's sensor_msgs/Image and its
         attune/Faces (computed beforehand with attune.face.FacePipeline, the face node's core) at
         --rate Hz; the expression node runs in its own process (python -m attune.nodes.expression_node).
         Measured: Expressions received per face sent (1.0 = nothing dropped), latency from the Faces
         publish to the Expression's arrival (median/p95), the rate achieved, and the node's own
         processing time and synchronizer counts from /diagnostics.
The JSON object on the last line holds every number.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'video'


def load_frames(data: Path, limit: int) -> list[np.ndarray]:
    frames: list[np.ndarray] = []
    for video in sorted((data / 'faces').glob('*.mp4')):
        capture = cv2.VideoCapture(str(video))
        while len(frames) < limit:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        if len(frames) >= limit:
            break
    if not frames:
        raise SystemExit(f'ERROR: no faces/*.mp4 under {data}')
    return frames


def stats(values: list[float]) -> dict:
    if not values:
        return {'median': None, 'p95': None, 'n': 0}
    return {'median': round(statistics.median(values), 3), 'p95': round(float(np.percentile(values, 95)), 3),
            'n': len(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA)
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--rate', type=float, default=30.0, help='camera rate to simulate (Hz)')
    args = parser.parse_args(argv)

    from attune.expression.analyzer import ExpressionAnalyzer, FaceInput
    from attune.face import FacePipeline, FacePipelineOptions
    from attune.tracking import TrackerOptions

    frames = load_frames(args.data, args.frames)
    with FacePipeline(FacePipelineOptions(tracker=TrackerOptions(min_hits=1, deterministic_ids=True))) as pipeline:
        face_frames = [pipeline.process(rgb, 1_000_000_000 + i * 33_333_333) for i, rgb in enumerate(frames)]
    faces_total = sum(len(f.faces) for f in face_frames)

    analyzer = ExpressionAnalyzer()
    core_ms = []
    for rgb, frame in zip(frames, face_frames):
        inputs = [FaceInput(f.id, f.observation.landmarks) for f in frame.faces if f.observation.landmarks is not None]
        t0 = time.perf_counter()
        analyzer.analyze(rgb, inputs, frame.width, frame.height)
        core_ms.append((time.perf_counter() - t0) * 1e3)

    import rclpy
    from builtin_interfaces.msg import Time
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from attune.msg import Expression, Faces
    from attune.ros import msg_faces
    from attune.ros.dds import use_attune_dds_profile
    from attune.ros.images import image_msg
    from attune.ros.stamps import from_ns, to_ns

    use_attune_dds_profile()
    rclpy.init()
    node = rclpy.create_node('expression_node_bench')
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    received: dict[int, list[float]] = {}
    diagnostics: dict[str, str] = {}
    node.create_subscription(Expression, '/attune/expression',
                             lambda m: received.setdefault(to_ns(m.header.stamp), []).append(time.perf_counter()),
                             reliable)

    def on_diag(msg) -> None:
        for status in msg.status:
            if 'expression' in status.name:
                diagnostics.update({kv.key: kv.value for kv in status.values})

    node.create_subscription(DiagnosticArray, '/diagnostics', on_diag, reliable)
    camera = node.create_publisher(Image, '/bench/image_raw', qos_profile_sensor_data)
    faces_pub = node.create_publisher(Faces, '/bench/faces', reliable)
    process = subprocess.Popen(
        [sys.executable, '-m', 'attune.nodes.expression_node', '--ros-args', '-p', 'image_topic:=/bench/image_raw',
         '-p', 'faces_topic:=/bench/faces'], env=os.environ.copy(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)

    def spin_until(condition, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if condition():
                return True
            rclpy.spin_once(node, timeout_sec=0.001)
        return condition()

    try:
        if not spin_until(lambda: camera.get_subscription_count() > 0 and faces_pub.get_subscription_count() > 0
                          and node.count_publishers('/attune/expression') > 0, 60):
            raise SystemExit('ERROR: the expression node did not come up within 60 s')
        period = 1.0 / args.rate
        sent_at: dict[int, float] = {}
        def build(first_ns: int, pairs) -> list:
            out = []
            for i, (rgb, frame) in enumerate(pairs):
                stamp = first_ns + i * int(period * 1e9)
                h = Header(stamp=from_ns(stamp, Time), frame_id='bench')
                out.append((stamp, image_msg(rgb, 'rgb8', h), msg_faces.to_msg(frame, h), len(frame.faces)))
            return out

        warmup = build(1_000_000_000, list(zip(frames, face_frames))[:10])
        messages = build(5_000_000_000, zip(frames, face_frames))
        for stamp, img, faces, _ in warmup:   # not counted
            camera.publish(img)
            faces_pub.publish(faces)
            spin_until(lambda s=stamp: s in received, 2.0)
        start = time.perf_counter()
        for k, (stamp, img, faces, n) in enumerate(messages):
            due = start + k * period
            spin_until(lambda d=due: time.perf_counter() >= d, period + 1.0)
            camera.publish(img)
            faces_pub.publish(faces)  # as the face node would, right after the image
            if n:
                sent_at[stamp] = time.perf_counter()
        spin_until(lambda: all(s in received for s in sent_at), 5.0)
        elapsed = max((received[s][-1] for s in sent_at if s in received), default=time.perf_counter()) - start
        spin_until(lambda: False, 1.5)  # one more /diagnostics
        latencies = [(received[s][0] - t) * 1e3 for s, t in sent_at.items() if s in received]
        got = sum(len(received.get(s, [])) for s in sent_at)
        expected = sum(n for _, _, _, n in messages)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        node.destroy_node()
        rclpy.try_shutdown()

    result = {
        'data': str(args.data), 'frames': len(frames), 'faces': faces_total, 'camera_rate_hz': args.rate,
        'core_ms_per_frame': stats(core_ms),
        'node': {'expressions_per_face_sent': round(got / max(expected, 1), 4),
                 'latency_ms': stats(latencies),
                 'achieved_rate_hz': round(len(latencies) / elapsed, 2) if elapsed > 0 else None,
                 'node_processing_ms_median': diagnostics.get('processing_ms_median'),
                 'sync': {k: v for k, v in diagnostics.items() if k.startswith('sync_')}},
        'keeps_up': got >= 0.99 * expected,
    }
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
