"""Benchmark of the spiking FER model (CS3D) against its C3D twin and the frame teacher (one JSON object last).

    python bench/spiking_fer.py [--data ../shared/data/faces] [--videos ../shared/data/video/faces]
                                [--events ../shared/data/events/tonic_dvxplorer_face/sample.aedat4] [--eval-only]

--data is a folder of the `faces` kind (../shared/data/faces): sub-folders of labelled photos, each
DIR/<label>/*.jpg or DIR/labels.csv + DIR/images/. Without --eval-only the people scored are those
`attune train spiking-fer` held out (same seed and fraction), so the shipped models are scored on people
they never saw; with --eval-only every person in DIR is scored, nothing is trained, fitted or cached, and
videos are used only when --videos is given. Reported, in the same run:

- `eval`: the shipped CS3D on London onset windows (a person's neutral photo morphed into their smiling
  one, through the emulator; neutral vs smile, top-1 among the two; `teacher_accuracy`: the frame teacher on
  the frames the windows end on), offsets, agreement with the frame teacher on muxspace stills
  (`teacher_agreement`), and on video windows; `eval_twin`: the same for the C3D twin;
- `accuracy`: every group's scores for both models;
- the energy ratio (spiking / C3D) from both models' counted operations on the same windows, held-out
  emulated and real (face windows of the AEDAT4 recording);
- onnxruntime latency per window (batch 1, one thread; target <= 5 ms per face), wall clock and process
  CPU time, for both;
- emulator cost per frame (face window crop + DVS emulation) on a real video.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / 'shared' / 'data'

def latency_ms(model, window: np.ndarray, runs: int) -> dict[str, float]:
    """Wall-clock and CPU time per classification (median, p95). On a machine shared with other jobs the
    wall clock includes waiting for a core; the process CPU time does not."""
    for _ in range(5):
        model.classify(window)
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.classify(window)
        wall.append((time.perf_counter() - start) * 1e3)
        cpu.append((time.process_time() - start_cpu) * 1e3)
    wall.sort()
    cpu.sort()
    return {'median_ms': statistics.median(wall), 'p95_ms': wall[int(0.95 * (len(wall) - 1))],
            'cpu_median_ms': statistics.median(cpu), 'cpu_p95_ms': cpu[int(0.95 * (len(cpu) - 1))]}


def emulator_cost(video: Path, frames: int, window) -> dict[str, float]:  # window: WindowOptions
    import cv2

    from attune.events.face_window import FaceEventEmulator, to_gray
    from attune.geometry import BoundingBox

    capture = cv2.VideoCapture(str(video))
    images = []
    while len(images) < frames:
        ok, bgr = capture.read()
        if not ok:
            break
        images.append(to_gray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    capture.release()
    emulator = FaceEventEmulator(window)
    box = BoundingBox(0.3, 0.2, 0.7, 0.7)
    times, events = [], 0
    for i, gray in enumerate(images):
        start = time.perf_counter()
        e, _ = emulator.step(gray, box, 1 + int(i * 1e9 / 30))
        times.append((time.perf_counter() - start) * 1e3)
        events += len(e)
    return {'frames': len(images), 'image': f'{images[0].shape[1]}x{images[0].shape[0]}',
            'median_ms_per_frame_per_face': statistics.median(times[1:]),
            'events_per_frame': events / max(len(images) - 1, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=SHARED / 'faces', help='faces-kind folder (default: %(default)s)')
    parser.add_argument('--videos', type=Path, default=None,
                        help='face videos, teacher-labelled (default: ../shared/data/video/faces; '
                             'none with --eval-only)')
    parser.add_argument('--events', type=Path, default=SHARED / 'events' / 'tonic_dvxplorer_face' / 'sample.aedat4',
                        help='a real AEDAT4 recording for the real-data energy (default: %(default)s)')
    parser.add_argument('--eval-only', action='store_true',
                        help='score every person in --data; train, fit and cache nothing')
    parser.add_argument('--model', type=Path, default=None, help='spiking model (default: the shipped one)')
    parser.add_argument('--twin', type=Path, default=None, help='C3D twin (default: the shipped one)')
    parser.add_argument('--seed', type=int, default=0, help='the training seed (fixes the held-out people)')
    parser.add_argument('--test-fraction', type=float, default=0.25)
    parser.add_argument('--runs', type=int, default=200, help='latency repetitions')
    parser.add_argument('--cache', type=Path, default=Path.home() / '.cache' / 'attune' / 'spiking_fer',
                        help='cache of faces, morphs and teacher labels (not used with --eval-only)')
    args = parser.parse_args(argv)

    from attune.events.aedat4 import read_aedat4
    from attune.events.dataset import BuildOptions, build_window_set, scan_images
    from attune.events.energy import compare_energy
    from attune.events.fer import SpikingFerModel, default_model_path
    from attune.events.sensor_roi import recording_windows
    from attune.events.window_set import headline, metrics

    snn = SpikingFerModel(args.model or default_model_path(), threads=1)
    twin = SpikingFerModel(args.twin or default_model_path().with_name(default_model_path().stem + '_c3d_twin.onnx'),
                           threads=1)
    spec = snn.window_spec()
    image_dirs = []
    for sub in sorted(p for p in args.data.iterdir() if p.is_dir()):
        try:
            scan_images(sub)
            image_dirs.append(sub)
        except Exception:  # noqa: BLE001 - not a labelled-photo folder
            continue
    videos = args.videos if args.videos is not None else (None if args.eval_only else SHARED / 'video' / 'faces')
    video_dirs = [videos] if videos is not None and str(videos) and videos.is_dir() else []
    options = BuildOptions(seed=args.seed, test_fraction=args.test_fraction, include_train=False,
                           all_test=args.eval_only)
    data = build_window_set(image_dirs, video_dirs, spec, options, cache_dir=None if args.eval_only else args.cache,
                            log=lambda m: print(m, file=sys.stderr))
    x = data.x.astype(np.float32)
    snn_probs, snn_ops = (np.concatenate(v) for v in zip(*(snn.classify(x[i:i + 32]) for i in range(0, len(x), 32))))
    twin_probs, twin_ops = (np.concatenate(v) for v in zip(*(twin.classify(x[i:i + 32]) for i in range(0, len(x), 32))))
    scores = {'cs3d_snn': metrics(snn_probs, data), 'c3d_twin': metrics(twin_probs, data)}
    result: dict = {'benchmark': 'spiking_fer', 'data': str(args.data), 'videos': [str(v) for v in video_dirs],
                    'eval_only': args.eval_only, 'people': 'all in --data' if args.eval_only else 'held out by seed',
                    'model': snn.path.name, 'twin': twin.path.name, 'windows': len(data),
                    'eval': headline(scores['cs3d_snn']), 'eval_twin': headline(scores['c3d_twin']),
                    'accuracy': scores}
    energy = {'per_op_pj': {'mac': snn.energy.mac_pj, 'ac': snn.energy.ac_pj, 'source': snn.energy.source},
              'held_out_emulated': compare_energy(snn_ops, twin_ops, snn.energy).as_dict()}
    if args.events.is_file():
        rec = read_aedat4(args.events)
        real = recording_windows(rec.events, spec.window_ns, 50_000_000, spec.bins, spec.size)
        if real:
            frames = np.stack(real).astype(np.float32)
            energy['real_aedat4'] = compare_energy(snn.classify(frames)[1], twin.classify(frames)[1],
                                                   snn.energy).as_dict()
            energy['real_aedat4']['recording'] = args.events.name
    result['energy'] = energy
    window = x[:1] if len(x) else np.zeros((1, 2, spec.bins, spec.size, spec.size), np.float32)
    result['latency_per_window'] = {'cs3d_snn': latency_ms(snn, window, args.runs),
                                    'c3d_twin': latency_ms(twin, window, args.runs), 'target_ms': 5.0,
                                    'threads': 1}
    clips = sorted(p for d in video_dirs for p in d.glob('*.mp4'))
    if clips:
        result['emulator'] = emulator_cost(clips[0], 60, spec.window_options())
    result['machine'] = {'python': platform.python_version(), 'cpu': platform.processor() or platform.machine()}
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
