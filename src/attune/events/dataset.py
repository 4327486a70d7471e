"""Labelled event windows for training and scoring the spiking FER model (numpy, no rclpy, no torch).

From photo folders (see attune.events.labelled_files for the layouts) and face videos:

- every photo gives saccade windows (stills); its target is the teacher's soft labels;
- in a folder of the <label>/ layout (a photo session: london_ccby), a person's neutral and smiling
  photos (with the face in the same place) also give neutral -> smile onsets and smile -> neutral
  offsets, morphed along the FaceMesh landmarks (attune.events.onsets); their target is the teacher's
  labels of the morph each window ends on, mixed (`label_mix`) with the photo labels interpolated
  along the morph;
- videos give windows along the recording; targets are the teacher's labels of the last frames.

The split is by person (attune.events.labelled_files.held_out_subjects); held-out people get fixed
windows (sensor settings seeded by file or subject), so a test set is the same on every run.
Emulated windows are cached apart from their labels: a new teacher relabels without re-emulating.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.events.emulated_windows import random_emulator
from attune.events.emulator import EmulatorOptions
from attune.events.errors import EventError
from attune.events.face_labels import (
    FaceRecord,
    Log,
    find_faces,
    photo_teacher_labels,
    read_rgb,
    read_video_gray,
    teacher_fingerprint,
    teacher_track,
)
from attune.events.labelled_files import (  # noqa: F401
    LabelledFile,
    held_out_subjects,
    label_index,
    scan_images,
    scan_videos,
    subject_of,
)
from attune.events.onsets import MorphPair, label_morphs, morph_pair
from attune.events.window_set import KINDS, WindowSet, WindowSpec, metrics, window_key  # noqa: F401 - re-exported
from attune.events.window_sources import (
    EVAL_OFFSET,
    EVAL_ONSET,
    RawWindows,
    add_sequence,
    add_stills,
    add_video,
    keyed_rng,
    random_curve,
)
from attune.geometry import BoundingBox

NEUTRAL, HAPPY = EMOTIONS.index('neutral'), EMOTIONS.index('happy')


@dataclass(frozen=True)
class BuildOptions:
    """How many windows of what.

    still_windows / test_still_windows: windows per training / held-out photo.
    sequences: onsets and as many offsets per training person with a photo pair (held-out: one each).
    max_photos: at most this many training photos per folder (a seeded sample; held-out photos all).
    video_passes: emulation passes per training video; video_stride: frames between video windows.
    label_mix: weight of the photo labels in the target where they exist (onsets and london stills).
    onset_truth: the photo part of an onset/offset target follows the truth the windows are scored
    against (neutral at the neutral photo, smile from half way: smile weight min(1, 2 alpha)) instead
    of the morph amount (smile weight alpha, the teacher-like blend).
    all_test: every person is held out (benchmarks on data kept aside); include_train=False skips
    the training people's windows.
    kinds: the window kinds to make (see attune.events.window_set.KINDS).
    teacher: run the teacher; False leaves `teacher` uniform and targets from photo labels only (fast
    checks of onset accuracy against the photo labels).
    """

    seed: int = 0
    test_fraction: float = 0.25
    still_windows: int = 2
    test_still_windows: int = 1
    sequences: int = 3
    max_photos: int | None = None
    video_passes: int = 1
    video_stride: int = 3
    label_mix: float = 0.5
    onset_truth: bool = False
    all_test: bool = False
    include_train: bool = True
    morph_pixels: int = 160
    kinds: tuple[str, ...] = KINDS
    teacher: bool = True


def photo_pairs(files: list[LabelledFile]) -> dict[str, tuple[LabelledFile, LabelledFile]]:
    """subject -> (neutral photo, happy photo) for people with both (the first of each, by name)."""
    neutral: dict[str, LabelledFile] = {}
    happy: dict[str, LabelledFile] = {}
    for f in sorted(files, key=lambda f: f.path.name):
        if f.label == NEUTRAL:
            neutral.setdefault(f.subject, f)
        elif f.label == HAPPY:
            happy.setdefault(f.subject, f)
    return {s: (neutral[s], happy[s]) for s in sorted(neutral) if s in happy}


def photo_target(alpha: float, truth: bool = False) -> npt.NDArray[Any]:
    """The photo labels' target of a morph frame at `alpha` (0: neutral photo, 1: smiling photo): the
    blend (smile weight alpha) or, with `truth`, what the frame is scored as (smile from half way)."""
    smile = min(1.0, 2.0 * alpha) if truth else alpha
    target = np.zeros(len(EMOTIONS), np.float32)
    target[NEUTRAL], target[HAPPY] = 1.0 - smile, smile
    return target


def same_setup(a: FaceRecord | None, b: FaceRecord | None, min_iou: float = 0.5) -> bool:
    """Whether two photos of a person can be morphed into each other: both have landmarks and the face
    sits in the same place (box IoU >= min_iou), as in a photo session (london), not two news photos."""
    return (a is not None and b is not None and a.landmarks is not None and b.landmarks is not None
            and a.box.iou(b.box) >= min_iou)


def _morphs(pairs: dict[str, tuple[LabelledFile, LabelledFile]], faces: dict[Path, FaceRecord | None], pixels: int,
            cache: Path | None, log: Log) -> dict[str, MorphPair]:
    """Morph pairs per subject (cached without labels: they do not depend on the teacher)."""
    stored: dict[str, MorphPair] = {}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            for s in z['subjects'].tolist():
                boxes = z[f'{s}/boxes']
                stored[s] = MorphPair(s, z[f'{s}/alphas'], z[f'{s}/gray'], z[f'{s}/rgb'], z[f'{s}/landmarks'],
                                      box0=_box(boxes[0]), box1=_box(boxes[1]))
    todo = [s for s in pairs if s not in stored and faces.get(pairs[s][0].path) and faces.get(pairs[s][1].path)]
    if todo:
        log(f'morphing {len(todo)} photo pairs')
    for s in todo:
        n, h = pairs[s]
        neutral, happy = faces[n.path], faces[h.path]
        assert neutral is not None and happy is not None  # todo holds only pairs with both faces found
        neutral_rgb, happy_rgb = read_rgb(n.path), read_rgb(h.path)
        if neutral_rgb is None or happy_rgb is None:
            log(f'skipped pair {s}: a photo could not be read')
            continue
        try:
            stored[s] = morph_pair(s, neutral_rgb, happy_rgb, neutral, happy, pixels)
        except EventError as exc:
            log(f'skipped pair {s}: {exc}')
    if todo and cache is not None:
        arrays = {'subjects': np.array(sorted(stored))}
        for s, m in stored.items():
            arrays.update({f'{s}/alphas': m.alphas, f'{s}/gray': m.gray, f'{s}/rgb': m.rgb,
                           f'{s}/landmarks': m.landmarks,
                           f'{s}/boxes': np.array([[b.xmin, b.ymin, b.xmax, b.ymax] for b in (m.box0, m.box1)])})
        np.savez(cache, **arrays)
    return {s: stored[s] for s in pairs if s in stored}


def _box(v: npt.NDArray[Any]) -> BoundingBox:
    return BoundingBox(*map(float, v))


def _cache(cache_dir: Path | None, name: str) -> Path | None:
    return None if cache_dir is None else cache_dir / name


def build_window_set(image_dirs: Iterable[Path], video_dirs: Iterable[Path], spec: WindowSpec,
                     options: BuildOptions | None = None, cache_dir: Path | None = None,
                     log: Log = print) -> WindowSet:
    """Emulated, labelled event windows from photo and video folders, split by person.

    Raises:
        EventError: a folder is missing or empty, or no window could be made.
    """
    o = options or BuildOptions()
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    photos: list[LabelledFile] = []
    notes: list[str] = []
    for folder in image_dirs:
        found, skipped = scan_images(folder)
        photos += found
        if skipped:
            notes.append(f'{Path(folder).name}: skipped labels outside EMOTIONS: {skipped}')
    videos = [v for folder in video_dirs for v in scan_videos(folder)] if 'video' in o.kinds and o.teacher else []
    everyone = {(f.source, f.subject) for f in photos + videos}
    held = everyone if o.all_test else held_out_subjects(photos + videos, o.test_fraction, o.seed)
    if not o.include_train:
        photos = [f for f in photos if (f.source, f.subject) in held]
        videos = [f for f in videos if (f.source, f.subject) in held]
    rng = np.random.default_rng(o.seed)
    chosen: list[LabelledFile] = []
    for source in sorted({f.source for f in photos}):
        mine = [f for f in photos if f.source == source]
        train = [f for f in mine if (f.source, f.subject) not in held]
        if o.max_photos is not None and len(train) > o.max_photos:
            train = [train[i] for i in sorted(rng.choice(len(train), o.max_photos, replace=False))]
        chosen += [f for f in mine if (f.source, f.subject) in held] + train
    sequences = bool({'onset', 'offset'} & set(o.kinds))
    sessions = {Path(folder).name for folder in image_dirs if not (Path(folder) / 'labels.csv').is_file()}
    pairs = {source: photo_pairs([f for f in chosen if f.source == source]) if sequences and source in sessions else {}
             for source in sorted({f.source for f in chosen})}
    if 'still' not in o.kinds:
        wanted = {str(f.path) for found in pairs.values() for pair in found.values() for f in pair}
        chosen = [f for f in chosen if str(f.path) in wanted]
    faces: dict[Path, FaceRecord | None] = {}
    for source in sorted({f.source for f in chosen}):
        paths = [f.path for f in chosen if f.source == source]
        faces.update(find_faces(paths, _cache(cache_dir, f'faces_{source}.npz'), log))
    pairs = {source: {s: pair for s, pair in found.items() if same_setup(faces.get(pair[0].path),
                                                                         faces.get(pair[1].path))}
             for source, found in pairs.items()}
    morphs = {source: _morphs(found, faces, o.morph_pixels, _cache(cache_dir, f'morphs_{source}.npz'), log)
              for source, found in pairs.items() if found}
    emulation = {k: v for k, v in asdict(o).items() if k not in ('label_mix', 'onset_truth', 'teacher', 'kinds')}
    if tuple(o.kinds) != KINDS:
        emulation['kinds'] = list(o.kinds)
    key = hashlib.sha256(json.dumps([sorted(str(f.path.resolve()) for f in chosen),
                                     sorted(str(v.path.resolve()) for v in videos),
                                     window_key(spec), emulation, asdict(spec.window_options())],
                                    default=str).encode()).hexdigest()[:12]
    raw_path = _cache(cache_dir, f'windows_{key}.npz')
    if raw_path is not None and raw_path.is_file():
        with np.load(raw_path, allow_pickle=False) as z:
            raw = {k: z[k] for k in z.files}
        raw['x'] = np.unpackbits(raw.pop('packed'), axis=-1, count=spec.size)
        log(f'{len(raw["x"])} emulated windows from the cache')
    else:
        raw = _emulate(chosen, faces, morphs, videos, held, spec, o, cache_dir, log).arrays()
        if raw_path is not None and len(raw['x']):
            np.savez(raw_path, packed=np.packbits(raw['x'], axis=-1), **{k: v for k, v in raw.items() if k != 'x'})
    if not len(raw['kind']):
        raise EventError('no event windows could be made (no faces found in the data)')
    return _label(raw, chosen, faces, morphs, videos, o, cache_dir, notes, log)


def _emulate(photos: list[LabelledFile], faces: dict[Path, FaceRecord | None], morphs: dict[str, dict[str, MorphPair]],
             videos: list[LabelledFile], held: set[tuple[str, str]], spec: WindowSpec, o: BuildOptions,
             cache_dir: Path | None, log: Log) -> RawWindows:
    out = RawWindows()
    rng = np.random.default_rng(o.seed)
    log(f'emulating {len(photos)} photos, {sum(len(m) for m in morphs.values())} photo pairs, {len(videos)} videos')
    for f in photos if 'still' in o.kinds else ():
        face = faces.get(f.path)
        if face is None or face.landmarks is None:
            continue
        test = (f.source, f.subject) in held
        rgb = read_rgb(f.path)
        if rgb is None:  # its face was found earlier, so the file changed since: skip it
            continue
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        sub = keyed_rng(o.seed, f'{f.source}/{f.path.parent.name}/{f.path.name}') if test else rng
        add_stills(out, gray, face.box, spec, o.test_still_windows if test else o.still_windows, sub,
                   source=f.source, subject=f.subject, ref=str(f.path.resolve()), test=test)
    for source, pairs in morphs.items():
        for subject, pair in pairs.items():
            test = (source, subject) in held
            if test:
                for curve in [c for c in (EVAL_ONSET, EVAL_OFFSET) if c.kind in o.kinds]:
                    add_sequence(out, pair, curve, spec, keyed_rng(o.seed, f'{source}/{subject}/{curve.start}'),
                                 source=source, test=True)
                continue
            for k in range(2 * o.sequences):
                curve = random_curve(rng, onset=k % 2 == 0)
                if curve.kind in o.kinds:
                    add_sequence(out, pair, curve, spec, rng, source=source, test=False)
    for f in videos:
        test = (f.source, f.subject) in held
        fps, boxes, _ = teacher_track(f.path, _video_cache(cache_dir, f), log)
        frames = read_video_gray(f.path)
        for k in range(1 if test else o.video_passes):
            emulator = EmulatorOptions(seed=o.seed + k) if test else random_emulator(rng)
            add_video(out, frames, boxes, fps, spec, emulator, source=f.source, subject=f.subject,
                      ref=str(f.path.resolve()),
                      test=test, stride=o.video_stride)
        log(f'{f.path.name}: {len(frames)} frames, {"held out" if test else "training"}')
    return out


def _video_cache(cache_dir: Path | None, f: LabelledFile) -> Path | None:
    name = hashlib.sha256(str(f.path.resolve()).encode()).hexdigest()[:12]
    return _cache(cache_dir, f'teacher_{teacher_fingerprint()}_{f.path.stem}_{name}.npz')


def _label(raw: dict[str, npt.NDArray[Any]], photos: list[LabelledFile], faces: dict[Path, FaceRecord | None],
           morphs: dict[str, dict[str, MorphPair]], videos: list[LabelledFile], o: BuildOptions,
           cache_dir: Path | None, notes: list[str], log: Log) -> WindowSet:
    """Targets, teacher labels and truth for the emulated windows (windows the teacher cannot label are dropped)."""
    fingerprint = teacher_fingerprint()
    by_path = {str(f.path.resolve()): f for f in photos}
    teacher_photo: dict[str, npt.NDArray[Any] | None] = {}
    uniform = np.full(len(EMOTIONS), 1.0 / len(EMOTIONS), np.float32)
    for source in sorted({f.source for f in photos}):
        paths = [f.path for f in photos if f.source == source]
        if not o.teacher:
            teacher_photo.update({str(p.resolve()): uniform for p in paths})
            continue
        labels = photo_teacher_labels(paths, faces, _cache(cache_dir, f'teacher_{fingerprint}_{source}.npz'), log)
        teacher_photo.update({str(p.resolve()): v for p, v in labels.items()})
    for source, pairs in morphs.items():
        if not o.teacher:
            for pair in pairs.values():
                pair.teacher = np.tile(uniform, (len(pair.alphas), 1))
            continue
        _teach_morphs(pairs, _cache(cache_dir, f'teacher_{fingerprint}_morphs_{source}.npz'), log)
    tracks = {str(f.path.resolve()): teacher_track(f.path, _video_cache(cache_dir, f), log)[2] for f in videos}
    video_label = {str(f.path.resolve()): f.label for f in videos}
    eye = np.eye(len(EMOTIONS), dtype=np.float32)
    n = len(raw['kind'])
    y = np.zeros((n, len(EMOTIONS)), np.float32)
    teacher = np.zeros_like(y)
    truth = np.full(n, -1, np.int16)
    keep = np.ones(n, bool)
    for i in range(n):
        kind, ref = str(raw['kind'][i]), str(raw['ref'][i])
        if kind == 'still':
            t = teacher_photo.get(ref)
            if t is None:
                keep[i] = False
                continue
            f = by_path[ref]
            teacher[i], truth[i] = t, f.label
            y[i] = o.label_mix * eye[f.label] + (1 - o.label_mix) * t if raw['source'][i] in morphs else t
        elif kind in ('onset', 'offset'):
            a = float(raw['alpha'][i])
            teacher[i] = morphs[str(raw['source'][i])][ref].teacher_at(a)
            truth[i] = NEUTRAL if a <= 0.0 else HAPPY if a >= 0.5 else -1
            y[i] = o.label_mix * photo_target(a, o.onset_truth) + (1 - o.label_mix) * teacher[i]
        else:
            lo, hi = raw['frames'][i]
            teacher[i] = tracks[ref][lo:hi].mean(axis=0)
            label = video_label[ref]
            truth[i] = -1 if label is None else label
            y[i] = teacher[i] if label is None else eye[label]
    if (~keep).any():
        notes.append(f'{int((~keep).sum())} still windows dropped: the teacher could not label their photo')
    return WindowSet(raw['x'][keep], y[keep], teacher[keep], truth[keep], raw['subject'][keep], raw['source'][keep],
                     raw['kind'][keep], raw['test'][keep], notes)


def _teach_morphs(pairs: dict[str, MorphPair], cache: Path | None, log: Log) -> None:
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            for s in z.files:
                if s in pairs:
                    pairs[s].teacher = z[s]
    todo = [p for p in pairs.values() if p.teacher is None]
    if not todo:
        return
    from attune.expression.teacher import ExpressionTeacher

    log(f'teacher labels for the morphs of {len(todo)} photo pairs')
    with ExpressionTeacher() as teacher:
        label_morphs(todo, teacher)
    if cache is not None:
        np.savez(cache, **{s: p.teacher for s, p in pairs.items() if p.teacher is not None})
