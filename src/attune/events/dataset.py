"""Labelled event windows for training and evaluating the spiking FER model (numpy, no rclpy, no torch).

Sources, each emulated with the same face-window geometry and emulator as the event-emulator node:

- labelled still images, in either layout (see docs/spiking_fer.md):
    DIR/<label>/<file>.jpg|png           one folder per expression label, or
    DIR/labels.csv + DIR/images/...      CSV with columns image,emotion (muxspace's layout);
  every image gives several windows of N-MNIST-style saccades with randomized emulator settings;
- videos: DIR/*.mp4 (unlabelled) get soft labels from the expression teacher (attune.expression.teacher),
  frame by frame; DIR/<label>/*.mp4 (labelled) carry their folder's label. A window's label is the mean
  over its frames.

The held-out split is by subject (a person never lands in both sets): a file's subject is its stem
without a trailing `_<digits>` (london `001_03` -> `001`, muxspace `George_W_Bush_0226` ->
`George_W_Bush`, a video `d3.mp4` -> `d3`), split per source folder with a seeded shuffle.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from attune.events.emulator import EmulatorOptions
from attune.events.errors import EventError
from attune.events.face_window import FaceEventEmulator, WindowOptions
from attune.events.representation import event_frames
from attune.events.types import EventArray
from attune.expression.labels import EMOTIONS
from attune.geometry import BoundingBox

#: Folder and CSV label names understood besides EMOTIONS themselves.
LABEL_ALIASES = {'smiling': 'happy', 'smile': 'happy', 'happiness': 'happy', 'joy': 'happy',
                 'sadness': 'sad', 'angry': 'anger', 'surprised': 'surprise', 'fearful': 'fear',
                 'afraid': 'fear', 'disgusted': 'disgust', 'calm': 'neutral'}

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')


@dataclass(frozen=True)
class WindowSpec:
    """What one model input covers: window_s seconds in `bins` time bins on a size x size face window;
    still images are rendered at `fps` (the camera rate the node expects)."""

    window_s: float = 0.32
    bins: int = 8
    size: int = 32
    fps: float = 30.0

    @property
    def window_ns(self) -> int:
        return int(round(self.window_s * 1e9))


def label_index(name: str) -> int | None:
    """The EMOTIONS index of a label name or alias (case-insensitive), None if unknown (e.g. contempt)."""
    key = name.strip().lower()
    key = LABEL_ALIASES.get(key, key)
    return EMOTIONS.index(key) if key in EMOTIONS else None


def subject_of(path: Path | str) -> str:
    """The subject (person) a file shows: its stem without a trailing `_<digits>`."""
    stem = Path(path).stem
    return re.sub(r'_\d+$', '', stem) or stem


@dataclass(frozen=True)
class LabelledFile:
    path: Path
    label: int | None      #: EMOTIONS index; None for unlabelled videos (teacher labels)
    subject: str
    source: str            #: the folder it was found under (the split is per source)


def scan_images(folder: Path | str) -> tuple[list[LabelledFile], dict[str, int]]:
    """The labelled images of a folder in either layout, and {label: count} of files skipped because
    their label is not one of EMOTIONS.

    Raises:
        EventError: the folder does not exist or holds no labelled image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EventError(f'image folder {folder} does not exist')
    files: list[LabelledFile] = []
    skipped: dict[str, int] = {}
    source = folder.name
    csv_path = folder / 'labels.csv'
    if csv_path.is_file():
        with csv_path.open(newline='', encoding='utf-8') as f:
            for row in csv.DictReader(f):
                name = row.get('image') or row.get('file') or ''
                label = row.get('emotion') or row.get('label') or ''
                path = folder / 'images' / name
                index = label_index(label)
                if index is None:
                    skipped[label] = skipped.get(label, 0) + 1
                    continue
                if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                    files.append(LabelledFile(path, index, row.get('subject') or subject_of(path), source))
    else:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            index = label_index(sub.name)
            images = sorted(p for p in sub.iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith('.'))
            if index is None:
                if images:
                    skipped[sub.name] = skipped.get(sub.name, 0) + len(images)
                continue
            files += [LabelledFile(p, index, subject_of(p), source) for p in images]
    if not files:
        raise EventError(f'no labelled images in {folder} (expected <label>/<image> folders or labels.csv + '
                         'images/; labels: ' + ', '.join(EMOTIONS) + ')')
    return files, skipped


def scan_videos(folder: Path | str) -> list[LabelledFile]:
    """Videos of a folder: top-level ones unlabelled (teacher), those in <label>/ folders labelled.

    Raises:
        EventError: the folder does not exist or holds no video.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EventError(f'video folder {folder} does not exist')
    source = f'videos/{folder.name}'
    files = [LabelledFile(p, None, subject_of(p), source)
             for p in sorted(folder.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        index = label_index(sub.name)
        if index is not None:
            files += [LabelledFile(p, index, subject_of(p), source)
                      for p in sorted(sub.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES]
    if not files:
        raise EventError(f'no videos ({", ".join(VIDEO_SUFFIXES)}) in {folder}')
    return files


def held_out_subjects(files: Iterable[LabelledFile], fraction: float, seed: int) -> set[tuple[str, str]]:
    """(source, subject) pairs held out for testing: per source, a seeded shuffle of its subjects and
    the first ceil(fraction * n) of them (at least one when the source has two or more subjects)."""
    by_source: dict[str, list[str]] = {}
    for f in files:
        by_source.setdefault(f.source, [])
        if f.subject not in by_source[f.source]:
            by_source[f.source].append(f.subject)
    held: set[tuple[str, str]] = set()
    for source, subjects in sorted(by_source.items()):
        if len(subjects) < 2 or fraction <= 0:
            continue
        rng = np.random.default_rng([seed, int(hashlib.sha256(source.encode()).hexdigest()[:8], 16)])
        order = sorted(subjects)
        rng.shuffle(order)
        n = min(max(1, math.ceil(fraction * len(order))), len(order) - 1)
        held.update((source, s) for s in order[:n])
    return held


def random_emulator(rng: np.random.Generator) -> EmulatorOptions:
    """Emulator settings drawn for augmentation: thresholds, mismatch and noise vary as between sensors."""
    threshold = float(rng.uniform(0.15, 0.3))
    return EmulatorOptions(pos_threshold=threshold * float(rng.uniform(0.9, 1.1)), neg_threshold=threshold,
                           threshold_sigma=float(rng.uniform(0.01, 0.05)), refractory_s=float(rng.uniform(0, 0.002)),
                           leak_hz=float(rng.uniform(0, 0.3)), shot_noise_hz=float(rng.uniform(0, 0.5)),
                           seed=int(rng.integers(2**31)))


def still_window(gray: np.ndarray, box: BoundingBox, spec: WindowSpec, rng: np.random.Generator,
                 emulator: EmulatorOptions | None = None, jitter: bool = True,
                 window: WindowOptions | None = None) -> np.ndarray:
    """(2, bins, size, size) uint8 frames of one emulated saccade window over a still image.

    The image is shown at spec.fps for a short warm-up plus window_s, with saccades (random phase),
    camera noise, and with `jitter` a slightly shifted and scaled box and random saccade size.
    """
    emulator = emulator or random_emulator(rng)
    window = window or WindowOptions(size=spec.size)
    if jitter:
        side = max(box.width, box.height)
        dx, dy = rng.uniform(-0.04, 0.04, 2) * side
        scale = rng.uniform(0.92, 1.08)
        cx, cy = box.center
        hw, hh = box.width * scale / 2, box.height * scale / 2
        box = BoundingBox(cx + dx - hw, cy + dy - hh, cx + dx + hw, cy + dy + hh)
        window = WindowOptions(size=window.size, margin=window.margin, smoothing=window.smoothing,
                               saccade_amplitude_px=float(rng.uniform(0.6, 1.4)) * window.saccade_amplitude_px,
                               saccade_period_s=window.saccade_period_s)
    gray, box = _region(gray, box, 4 * spec.size)
    face = FaceEventEmulator(window, emulator)
    step_ns = 1e9 / spec.fps
    start = int(rng.uniform(0, window.saccade_period_s) * 1e9) + 1_000_000_000
    frames = int(math.ceil((spec.window_s + 0.1) * spec.fps)) + 1
    noise = float(rng.uniform(0.0, 3.0)) if jitter else 0.0
    base = gray.astype(np.float32)
    parts = []
    t = start
    for k in range(frames):
        t = start + int(round(k * step_ns))
        image = base + rng.normal(0, noise, base.shape).astype(np.float32) if noise else base
        events, _ = face.step(np.clip(image, 0, 255), box, t)
        parts.append(events)
    events = EventArray.concatenate(parts, spec.size, spec.size)
    return event_frames(events, spec.bins, spec.size, spec.size, t - spec.window_ns, t + 1).astype(np.uint8)


def _region(gray: np.ndarray, box: BoundingBox, pixels: int) -> tuple[np.ndarray, BoundingBox]:
    """The image around a box (twice its side), shrunk to about `pixels` square, and the box in it:
    a still image is cropped once instead of every frame (same windows, a fraction of the cost)."""
    h, w = gray.shape
    cx, cy = box.center[0] * w, box.center[1] * h
    side = 2.0 * max(box.width * w, box.height * h) + 8
    x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
    x1, y1 = int(min(cx + side / 2, w)), int(min(cy + side / 2, h))
    region = gray[y0:y1, x0:x1]
    scale = min(1.0, pixels / max(region.shape))
    if scale < 1.0:
        size = (max(int(round(region.shape[1] * scale)), 1), max(int(round(region.shape[0] * scale)), 1))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    rw, rh = (x1 - x0), (y1 - y0)
    inner = BoundingBox((box.xmin * w - x0) / rw, (box.ymin * h - y0) / rh, (box.xmax * w - x0) / rw,
                        (box.ymax * h - y0) / rh)
    return region, inner


def video_windows(frames: Iterable[np.ndarray], stamps_ns: list[int], boxes: list[BoundingBox | None],
                  labels: np.ndarray, spec: WindowSpec, emulator: EmulatorOptions, stride: int = 3,
                  window: WindowOptions | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Windows over a video: the face is emulated frame by frame (frames without a box are skipped),
    a window ends every `stride` frames once window_s of history exists; its label is the mean of
    `labels` (one row per frame) over the frames inside it."""
    face = FaceEventEmulator(window or WindowOptions(size=spec.size), emulator)
    xs, ys = [], []
    parts: list[EventArray] = []
    seen: list[tuple[int, int]] = []  # (stamp, frame index) of frames fed
    first = None
    for i, gray in enumerate(frames):
        box = boxes[i] if i < len(boxes) else None
        if box is None:
            continue
        t = stamps_ns[i]
        events, _ = face.step(gray, box, t)
        parts.append(events)
        seen.append((t, i))
        first = t if first is None else first
        if len(seen) % stride or t - first < spec.window_ns:
            continue
        start = t - spec.window_ns
        parts = [p for p in parts if len(p) and p.t[-1] >= start]
        merged = EventArray.concatenate(parts, spec.size, spec.size)
        xs.append(event_frames(merged, spec.bins, spec.size, spec.size, start, t + 1).astype(np.uint8))
        inside = [j for s, j in seen if s >= start]
        ys.append(labels[inside].mean(axis=0).astype(np.float32))
    return xs, ys


@dataclass
class WindowSet:
    """Event windows with soft labels and where they came from.

    x: (N, 2, bins, size, size) uint8 0/1; y: (N, len(EMOTIONS)) float32 rows summing to 1;
    subject, source, kind ('image' | 'video'): (N,) str; test: (N,) bool (held-out subject).
    """

    x: np.ndarray
    y: np.ndarray
    subject: np.ndarray
    source: np.ndarray
    kind: np.ndarray
    test: np.ndarray
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, mask: np.ndarray) -> WindowSet:
        return WindowSet(self.x[mask], self.y[mask], self.subject[mask], self.source[mask], self.kind[mask],
                         self.test[mask], list(self.notes))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, x=np.packbits(self.x, axis=-1), shape=np.array(self.x.shape), y=self.y,
                            subject=self.subject, source=self.source, kind=self.kind, test=self.test,
                            notes=np.array(self.notes))

    @staticmethod
    def load(path: Path) -> WindowSet:
        with np.load(path, allow_pickle=False) as z:
            shape = tuple(int(v) for v in z['shape'])
            x = np.unpackbits(z['x'], axis=-1, count=shape[-1]).reshape(shape)
            return WindowSet(x, z['y'], z['subject'], z['source'], z['kind'], z['test'], list(z['notes']))


def _read_gray(path: Path) -> np.ndarray | None:
    bgr = cv2.imread(str(path))
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def detect_boxes(paths: list[Path], cache: Path | None, log: Callable[[str], object] = print
                 ) -> dict[Path, BoundingBox | None]:
    """The largest MediaPipe face-detector box of each image (None when no face), cached in `cache`
    (a JSON file keyed by path, size and modification time)."""
    known: dict[str, list[float] | None] = {}
    if cache is not None and cache.is_file():
        known = json.loads(cache.read_text())

    def key(p: Path) -> str:
        s = p.stat()
        return f'{p.resolve()}:{s.st_size}:{int(s.st_mtime)}'

    missing = [p for p in paths if key(p) not in known]
    if missing:
        from attune.face import FaceAnalyzer, FaceAnalyzerOptions

        log(f'detecting faces in {len(missing)} images')
        with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, landmarks=False, max_faces=4)) as analyzer:
            for p in missing:
                bgr = cv2.imread(str(p))
                faces = analyzer.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) if bgr is not None else ()
                best = max(faces, key=lambda f: f.box.area, default=None)
                known[key(p)] = None if best is None else [best.box.xmin, best.box.ymin, best.box.xmax, best.box.ymax]
        if cache is not None:
            cache.write_text(json.dumps(known))
    return {p: (None if known[key(p)] is None else BoundingBox(*known[key(p)])) for p in paths}


def teacher_track(path: Path, cache: Path | None, log: Callable[[str], object] = print
                  ) -> tuple[float, list[BoundingBox | None], np.ndarray]:
    """(fps, box per frame or None, (frames, 7) soft labels) of the largest face in a video, from the
    expression teacher (frames without a face get the previous labels), cached as .npz."""
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            boxes = [None if np.isnan(b[0]) else BoundingBox(*map(float, b)) for b in z['boxes']]
            return float(z['fps']), boxes, z['labels']
    from attune.expression.teacher import ExpressionTeacher
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 30.0)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    log(f'teacher labels for {path.name} ({count} frames)')
    boxes: list[BoundingBox | None] = [None] * count
    labels = np.full((count, len(EMOTIONS)), np.nan, np.float32)
    with ExpressionTeacher() as teacher:
        for item in teacher.label_video(path, every=1):
            if item.frame >= count:
                boxes += [None] * (item.frame + 1 - count)
                labels = np.vstack([labels, np.full((item.frame + 1 - count, len(EMOTIONS)), np.nan, np.float32)])
                count = item.frame + 1
            old = boxes[item.frame]
            if old is None or item.box.area > old.area:
                boxes[item.frame] = item.box
                labels[item.frame] = item.soft_labels
    last = np.full(len(EMOTIONS), 1.0 / len(EMOTIONS), np.float32)
    for i in range(count):
        if np.isnan(labels[i, 0]):
            labels[i] = last
        last = labels[i]
    if cache is not None:
        arr = np.array([[np.nan] * 4 if b is None else [b.xmin, b.ymin, b.xmax, b.ymax] for b in boxes], np.float32)
        np.savez(cache, fps=fps, boxes=arr, labels=labels)
    return fps, boxes, labels


def read_video_gray(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    finally:
        capture.release()
    return frames


def build_window_set(image_dirs: Iterable[Path], video_dirs: Iterable[Path], spec: WindowSpec, *, seed: int = 0,
                     test_fraction: float = 0.25, image_windows: int = 4, test_windows: int = 2,
                     video_passes: int = 2, video_stride: int = 3, max_images: int | None = None,
                     include_train: bool = True, cache_dir: Path | None = None,
                     log: Callable[[str], object] = print) -> WindowSet:
    """Emulated, labelled event windows from image and video folders, with a subject-level split.

    Training subjects get `image_windows` augmented windows per image and `video_passes` emulation
    passes per video (different sensor settings); held-out subjects get `test_windows` windows per
    image and one pass, so the test set is fixed by the seed. include_train=False makes only the
    held-out windows (benchmarks).
    """
    rng = np.random.default_rng(seed)
    images: list[LabelledFile] = []
    notes: list[str] = []
    for folder in image_dirs:
        found, skipped = scan_images(folder)
        if max_images is not None:
            found = found[:max_images]
        images += found
        if skipped:
            notes.append(f'{Path(folder).name}: skipped labels outside EMOTIONS: {skipped}')
    videos = [v for folder in video_dirs for v in scan_videos(folder)]
    held = held_out_subjects(images + videos, test_fraction, seed)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    if not include_train:
        images = [f for f in images if (f.source, f.subject) in held]
        videos = [f for f in videos if (f.source, f.subject) in held]
    boxes = detect_boxes([f.path for f in images], cache_dir / 'face_boxes.json' if cache_dir else None, log)
    xs, ys, subjects, sources, kinds, tests = [], [], [], [], [], []
    no_face = 0

    def add(x: np.ndarray, y: np.ndarray, f: LabelledFile, kind: str, test: bool) -> None:
        xs.append(x)
        ys.append(y)
        subjects.append(f.subject)
        sources.append(f.source)
        kinds.append(kind)
        tests.append(test)

    for f in images:
        box = boxes[f.path]
        gray = _read_gray(f.path) if box is not None else None
        if gray is None:
            no_face += 1
            continue
        test = (f.source, f.subject) in held
        onehot = np.eye(len(EMOTIONS), dtype=np.float32)[f.label]
        if test:
            key = f'{f.source}/{f.path.parent.name}/{f.path.name}'  # the same windows wherever the data lies
            sub = np.random.default_rng([seed, int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)])
            for _ in range(test_windows):
                add(still_window(gray, box, spec, sub, EmulatorOptions(seed=int(sub.integers(2**31))), jitter=False),
                    onehot, f, 'image', True)
        else:
            for _ in range(image_windows):
                add(still_window(gray, box, spec, rng), onehot, f, 'image', False)
    if no_face:
        notes.append(f'{no_face} images without a detected face were skipped')
    for f in videos:
        test = (f.source, f.subject) in held
        name = hashlib.sha256(str(f.path.resolve()).encode()).hexdigest()[:12]
        cache = cache_dir / f'teacher_{f.path.stem}_{name}.npz' if cache_dir else None
        fps, vboxes, labels = teacher_track(f.path, cache, log)
        if f.label is not None:
            labels = np.tile(np.eye(len(EMOTIONS), dtype=np.float32)[f.label], (len(labels), 1))
        frames = read_video_gray(f.path)
        stamps = [1_000_000_000 + int(round(i * 1e9 / fps)) for i in range(len(frames))]
        passes = 1 if test else video_passes
        for k in range(passes):
            options = EmulatorOptions(seed=seed + k) if test else random_emulator(rng)
            wx, wy = video_windows(frames, stamps, vboxes, labels, spec, options, stride=video_stride)
            for x, y in zip(wx, wy):
                add(x, y, f, 'video', test)
        log(f'{f.path.name}: {len(frames)} frames, {"held out" if test else "training"}')
    if not xs:
        raise EventError('no event windows could be made (no faces found in the data)')
    return WindowSet(np.stack(xs), np.stack(ys), np.array(subjects), np.array(sources), np.array(kinds),
                     np.array(tests), notes)


def metrics(probs: np.ndarray, data: WindowSet) -> dict[str, dict[str, float]]:
    """Accuracy per source on `data`: top-1 against the label (images) or against the teacher's top
    label (videos: `teacher_agreement`), with window and subject counts and the majority-class rate
    (what always answering the most frequent label scores). Sources labelled with only two classes
    (london: neutral/happy) also get `accuracy_2way`, the top-1 among those two labels."""
    out: dict[str, dict[str, float]] = {}
    for source in sorted(set(data.source.tolist())):
        mask = data.source == source
        truth = data.y[mask].argmax(axis=1)
        pred = probs[mask].argmax(axis=1)
        classes = np.unique(truth)
        entry = {'windows': int(mask.sum()), 'subjects': len(set(data.subject[mask].tolist())),
                 'accuracy': float((pred == truth).mean()),
                 'majority_rate': float(np.bincount(truth).max() / len(truth))}
        if data.kind[mask][0] == 'video':
            entry = {'windows': entry['windows'], 'subjects': entry['subjects'],
                     'teacher_agreement': entry['accuracy'], 'majority_rate': entry['majority_rate']}
        elif len(classes) == 2:
            restricted = classes[probs[mask][:, classes].argmax(axis=1)]
            entry['accuracy_2way'] = float((restricted == truth).mean())
        out[source] = entry
    return out
