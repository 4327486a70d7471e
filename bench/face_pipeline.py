#!/usr/bin/env python3
"""Face pipeline cost: raw MediaPipe vs the face node over real DDS, on real video frames.

    python bench/face_pipeline.py [--data DIR] [--frames N] [--sizes native 640x480]

--data is a folder laid out like ../shared/data/video/ (its default): every faces/*.mp4 is used.

Measured, per image size, in one run:
  paired   raw and node, interleaved frame by frame (the order alternates), so that machine drift
           (other processes, CPU frequency) falls on both alike:
           raw   MediaPipe face detection + FaceMesh (what the face node runs) called in this process:
                 per-frame median and p95 milliseconds. The baseline.
           node  the same frame through the face node: this process publishes sensor_msgs/Image, the
                 node runs in its own process (python -m attune.nodes.face_node), this process
                 receives attune/Faces. End-to-end latency (publish -> Faces received), one frame in
                 flight; this process blocks while it waits (it does not poll), so it leaves the
                 node's MediaPipe threads the CPU the raw call had.
  ratio    node median latency / raw median: the node's overhead (target <= 1.15); and the median of
           the per-frame differences node - raw (`node_minus_raw_ms`).
  node alone, after the paired pass: throughput (frames/s) and the node process's CPU time per frame
           (`node_cpu_ms_per_frame`, all its threads) with one frame in flight; processed frame
           rate when a 30 fps camera is simulated (best-effort sensor QoS, as a camera driver
           publishes); the node's peak RSS (VmHWM).
  decomposition (--decompose): raw and node each measured alone, the paired pass split by the step just
           before, and each call after 30 ms of idle (as at camera rate): is the interleaving what costs?
The JSON object on the last line holds every number.
"""
from __future__ import annotations

import argparse
import json
import os
import random
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
    videos = sorted((data / 'faces').glob('*.mp4'))
    if not videos:
        raise SystemExit(f'ERROR: no faces/*.mp4 under {data}')
    frames: list[np.ndarray] = []
    for video in videos:
        capture = cv2.VideoCapture(str(video))
        while len(frames) < limit:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        if len(frames) >= limit:
            break
    return frames


def percentiles(values: list[float]) -> dict[str, float]:
    return {'median': round(statistics.median(values), 3), 'p95': round(float(np.percentile(values, 95)), 3),
            'n': len(values)}


def raw_analyzer():
    """What the face node runs (FaceAnalyzer with its default options), outside ROS."""
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    return FaceAnalyzer(FaceAnalyzerOptions())


class NodeBench:
    """This process as camera and consumer; the face node in its own process."""

    def __init__(self, topic: str) -> None:
        import rclpy
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import Image

        from attune.msg import Faces

        self.topic = topic
        rclpy.init()
        from rclpy.executors import SingleThreadedExecutor

        self.node = rclpy.create_node('face_pipeline_bench')
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.received: dict[int, float] = {}
        self._stamp = 1_000_000_000
        self.node.create_subscription(Faces, '/attune/faces', self._on_faces,
                                      QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        self.camera = self.node.create_publisher(Image, topic, qos_profile_sensor_data)
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'attune.nodes.face_node', '--ros-args', '-p', f'image_topic:={topic}',
             '-p', "camera_info_topic:=''", '-p', 'min_hits:=1'],
            env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _next_stamp(self) -> int:
        """Unique, increasing image stamps across all runs (results are matched by stamp)."""
        self._stamp += 1
        return self._stamp

    def _on_faces(self, msg) -> None:
        from attune.ros.stamps import to_ns

        self.received[to_ns(msg.header.stamp)] = time.perf_counter()

    def spin_until(self, condition, timeout: float) -> bool:
        """Run callbacks until condition() holds or `timeout` s passed. Blocks between callbacks
        (spin_once returns as soon as one ran), so waiting costs this process no CPU."""
        deadline = time.perf_counter() + timeout
        while not condition():
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            self.executor.spin_once(timeout_sec=min(left, 0.1))
        return True

    def wait_until(self, when: float) -> None:
        """Run callbacks until time.perf_counter() reaches `when` (a camera's next frame)."""
        while (left := when - time.perf_counter()) > 0:
            self.executor.spin_once(timeout_sec=left)

    def wait_ready(self) -> None:
        if not self.spin_until(lambda: self.camera.get_subscription_count() > 0
                               and self.node.count_publishers('/attune/faces') > 0, 60):
            raise SystemExit('ERROR: the face node did not come up within 60 s')

    def message(self, rgb: np.ndarray, stamp_ns: int):
        from builtin_interfaces.msg import Time
        from std_msgs.msg import Header

        from attune.ros.images import image_msg
        from attune.ros.stamps import from_ns

        return image_msg(rgb, 'rgb8', Header(stamp=from_ns(stamp_ns, Time), frame_id='bench'))

    def round_trip(self, rgb: np.ndarray) -> float | None:
        """Publish one frame and wait for its Faces: milliseconds, or None when it was dropped."""
        stamp = self._next_stamp()
        msg = self.message(rgb, stamp)
        sent = time.perf_counter()
        self.camera.publish(msg)
        if not self.spin_until(lambda: stamp in self.received, 5.0):
            return None  # dropped (best effort); counted by its absence
        return (self.received[stamp] - sent) * 1e3

    def paired(self, frames: list[np.ndarray], analyzer, warmup: int = 10,
               ) -> tuple[list[float], list[float | None], float]:
        """Raw MediaPipe (`analyzer`, in this process) and the node on each frame in turn, the order
        alternating: per-frame raw ms, node ms (None: dropped), and the fraction of frames with a face."""
        raw: list[float] = []
        node: list[float | None] = []
        with_face = 0
        for i, rgb in enumerate(frames[:warmup] + frames):
            for step in (('raw', 'node') if i % 2 else ('node', 'raw')):
                if step == 'raw':
                    start = time.perf_counter()
                    faces = analyzer.process(rgb)
                    elapsed = (time.perf_counter() - start) * 1e3
                    if i >= warmup:
                        raw.append(elapsed)
                        with_face += bool(faces)
                else:
                    latency = self.round_trip(rgb)
                    if i >= warmup:
                        node.append(latency)
        return raw, node, with_face / len(frames)

    def decompose(self, frames: list[np.ndarray], analyzer, idle_s: float = 0.030) -> dict[str, float]:
        """Median ms of raw and node each measured alone, in the paired order split by which step came just
        before, and each after `idle_s` of idle (as at camera rate): whether interleaving is what costs."""
        raw_alone = []
        for rgb in frames:
            start = time.perf_counter()
            analyzer.process(rgb)
            raw_alone.append((time.perf_counter() - start) * 1e3)
        node_alone, _ = self.closed_loop(frames)
        after: dict[tuple[str, str | None], list[float]] = {}
        previous = None
        for i, rgb in enumerate(frames):
            for step in (('raw', 'node') if i % 2 else ('node', 'raw')):
                if step == 'raw':
                    start = time.perf_counter()
                    analyzer.process(rgb)
                    ms: float | None = (time.perf_counter() - start) * 1e3
                else:
                    ms = self.round_trip(rgb)
                if ms is not None and i >= 10:
                    after.setdefault((step, previous), []).append(ms)
                previous = step
        idle: dict[str, list[float]] = {'raw': [], 'node': []}
        for i, rgb in enumerate(frames[:160]):
            self.wait_until(time.perf_counter() + idle_s)
            if i % 2:
                start = time.perf_counter()
                analyzer.process(rgb)
                idle['raw'].append((time.perf_counter() - start) * 1e3)
            elif (ms := self.round_trip(rgb)) is not None:
                idle['node'].append(ms)
        out = {'raw_alone': statistics.median(raw_alone[10:]), 'node_alone': statistics.median(node_alone),
               **{f'{step}_after_{before}': statistics.median(v) for (step, before), v in after.items() if before},
               'raw_after_idle': statistics.median(idle['raw'][5:]),
               'node_after_idle': statistics.median(idle['node'][5:])}
        out['ratio_alone'] = out['node_alone'] / out['raw_alone']
        out['ratio_after_idle'] = out['node_after_idle'] / out['raw_after_idle']
        return {k: round(v, 3) for k, v in out.items()}

    def closed_loop(self, frames: list[np.ndarray], warmup: int = 10) -> tuple[list[float], float]:
        """The node alone, one frame in flight: latency per frame, and frames per second."""
        latencies = []
        start = time.perf_counter()
        for i, rgb in enumerate(frames[:warmup] + frames):
            latency = self.round_trip(rgb)
            if latency is not None and i >= warmup:
                latencies.append(latency)
            if i == warmup - 1:
                start = time.perf_counter()
        elapsed = time.perf_counter() - start
        return latencies, len(latencies) / elapsed

    def open_loop(self, frames: list[np.ndarray], fps: float) -> float:
        """A camera at `fps`: the fraction of frames the node processed."""
        base = self._next_stamp()
        self._stamp += len(frames)
        period = 1.0 / fps
        start = time.perf_counter()
        for i, rgb in enumerate(frames):
            msg = self.message(rgb, base + i)
            self.wait_until(start + i * period)
            self.camera.publish(msg)
        self.wait_until(time.perf_counter() + 2.0)  # let the last results arrive
        got = sum(1 for k in self.received if base <= k < base + len(frames))
        return got / len(frames)

    def node_pid(self) -> int | None:
        # The ROS wheels' bootstrapper re-executes Python once, so the node is this PID's child or itself.
        for pid in [self.process.pid, *self._children(self.process.pid)]:
            try:
                for line in Path(f'/proc/{pid}/status').read_text().splitlines():
                    if line.startswith('VmHWM:') and int(line.split()[1]) > 50_000:
                        return pid
            except OSError:
                continue
        return None

    def peak_rss_mb(self) -> float:
        pid = self.node_pid()
        if pid is None:
            return float('nan')
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
        return float('nan')

    def node_cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the node process has used so far."""
        pid = self.node_pid()
        if pid is None:
            return float('nan')
        fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(p) for p in Path(f'/proc/{pid}/task/{pid}/children').read_text().split()]
        except OSError:
            return []

    def close(self) -> None:
        import rclpy

        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA, help='folder like ../shared/data/video/')
    parser.add_argument('--frames', type=int, default=300, help='frames per measurement')
    parser.add_argument('--sizes', nargs='+', default=['native', '640x480'])
    parser.add_argument('--decompose', action='store_true',
                        help='also raw and node each alone, by preceding step, and after 30 ms idle (`decomposition`)')
    args = parser.parse_args()
    os.environ.setdefault('ROS_DOMAIN_ID', str(random.randint(101, 200)))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    from attune.ros.dds import use_attune_dds_profile

    use_attune_dds_profile()

    source = load_frames(args.data, args.frames)
    results: dict = {'benchmark': 'face_pipeline', 'frames': len(source), 'cpu_count': os.cpu_count(),
                     'sizes': {}}
    bench = NodeBench('/bench/image_raw')
    try:
        bench.wait_ready()
        for size in args.sizes:
            if size == 'native':
                frames = source
                label = f'{source[0].shape[1]}x{source[0].shape[0]}'
            else:
                w, h = (int(v) for v in size.split('x'))
                frames = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in source]
                label = size
            with raw_analyzer() as analyzer:
                raw_ms, node_ms, with_face = bench.paired(frames, analyzer)
                decomposition = bench.decompose(frames, analyzer) if args.decompose else None
            answered = [(r, n) for r, n in zip(raw_ms, node_ms) if n is not None]
            cpu_before = bench.node_cpu_s()
            latencies, throughput = bench.closed_loop(frames)
            node_cpu_ms = (bench.node_cpu_s() - cpu_before) * 1e3 / (len(frames) + 10)
            processed_at_30 = bench.open_loop(frames, 30.0)
            raw = {'ms': percentiles(raw_ms), 'frames_with_face': round(with_face, 3)}
            node = {'latency_ms': percentiles([n for _, n in answered]),
                    'node_alone_latency_ms': percentiles(latencies), 'throughput_fps': round(throughput, 1),
                    'node_cpu_ms_per_frame': round(node_cpu_ms, 2),
                    'processed_fraction_at_30fps': round(processed_at_30, 3),
                    'sustained_fps_at_30fps_camera': round(30.0 * processed_at_30, 1)}
            results['sizes'][label] = {
                'raw_mediapipe': raw, 'node_over_dds': node,
                'ratio_node_to_raw_median': round(node['latency_ms']['median'] / raw['ms']['median'], 3),
                'node_minus_raw_ms': percentiles([n - r for r, n in answered]),
                'raw_fps_from_median': round(1000.0 / raw['ms']['median'], 1)}
            if decomposition:
                results['sizes'][label]['decomposition'] = decomposition
            print(f"{label}: raw {raw['ms']['median']:.2f} ms, node {node['latency_ms']['median']:.2f} ms, "
                  f"ratio {results['sizes'][label]['ratio_node_to_raw_median']}, "
                  f"{node['throughput_fps']} fps closed-loop, {processed_at_30:.0%} of a 30 fps camera",
                  file=sys.stderr)
        results['node_peak_rss_mb'] = round(bench.peak_rss_mb(), 1)
    finally:
        bench.close()
    results['targets'] = {'fps_at_640x480': 30, 'max_ratio_node_to_raw': 1.15}
    print(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
