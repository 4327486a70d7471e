"""Event windows with their labels, as the spiking FER model is trained and scored on (numpy only).

Each window carries three kinds of label: `y`, the training target (the teacher's soft labels,
mixed with the photo's label where a photo pair gives one); `teacher`, the frame-based expression
teacher's soft labels for the face the window ends on; and `truth`, the human label (EMOTIONS index)
where one exists, else -1.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.events.face_window import WindowOptions

#: Window kinds: emulated saccades over a still photo; a neutral -> smile onset or smile -> neutral
#: offset morphed between a person's two photos; a stretch of a face video.
KINDS = ('still', 'onset', 'offset', 'video')


@dataclass(frozen=True)
class WindowSpec:
    """What one model input covers: window_s seconds in `bins` time bins on a size x size face window
    (`margin` and `saccade_px`: the face window's, see WindowOptions); still images and morphs are
    rendered at `fps` (the camera rate the node expects)."""

    window_s: float = 0.32
    bins: int = 8
    size: int = 32
    fps: float = 30.0
    margin: float = WindowOptions.margin
    saccade_px: float = WindowOptions.saccade_amplitude_px

    def window_options(self) -> WindowOptions:
        """The face window the windows are emulated with (training draws saccades around saccade_px)."""
        return WindowOptions(size=self.size, margin=self.margin, saccade_amplitude_px=self.saccade_px)

    @property
    def window_ns(self) -> int:
        return int(round(self.window_s * 1e9))


def window_key(spec: WindowSpec) -> dict[str, Any]:
    """The spec's fields for a cache key, less the face window's (keyed as `spec.window_options()`, so
    caches made before WindowSpec carried them are found again)."""
    return {k: v for k, v in asdict(spec).items() if k not in ('margin', 'saccade_px')}


@dataclass
class WindowSet:
    """Event windows with labels and where they came from.

    x: (N, 2, bins, size, size) uint8 0/1; y, teacher: (N, len(EMOTIONS)) float32 rows summing to 1;
    truth: (N,) int16 (-1: none); subject, source, kind: (N,) str; test: (N,) bool (held-out subject).
    """

    x: npt.NDArray[Any]
    y: npt.NDArray[Any]
    teacher: npt.NDArray[Any]
    truth: npt.NDArray[Any]
    subject: npt.NDArray[Any]
    source: npt.NDArray[Any]
    kind: npt.NDArray[Any]
    test: npt.NDArray[Any]
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, mask: npt.NDArray[Any]) -> WindowSet:
        return WindowSet(self.x[mask], self.y[mask], self.teacher[mask], self.truth[mask], self.subject[mask],
                         self.source[mask], self.kind[mask], self.test[mask], list(self.notes))

    @staticmethod
    def concatenate(parts: list[WindowSet]) -> WindowSet:
        parts = [p for p in parts if len(p)]
        if not parts:
            return WindowSet.empty()
        cat = {name: np.concatenate([getattr(p, name) for p in parts])
               for name in ('x', 'y', 'teacher', 'truth', 'subject', 'source', 'kind', 'test')}
        return WindowSet(**cat, notes=[n for p in parts for n in p.notes])

    @staticmethod
    def empty(spec: WindowSpec | None = None) -> WindowSet:
        spec = spec or WindowSpec()
        k = len(EMOTIONS)
        return WindowSet(np.zeros((0, 2, spec.bins, spec.size, spec.size), np.uint8), np.zeros((0, k), np.float32),
                         np.zeros((0, k), np.float32), np.zeros(0, np.int16), np.zeros(0, '<U1'),
                         np.zeros(0, '<U1'), np.zeros(0, '<U1'), np.zeros(0, bool))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, x=np.packbits(self.x, axis=-1), shape=np.array(self.x.shape), y=self.y,
                            teacher=self.teacher, truth=self.truth, subject=self.subject, source=self.source,
                            kind=self.kind, test=self.test, notes=np.array(self.notes))

    @staticmethod
    def load(path: Path) -> WindowSet:
        with np.load(path, allow_pickle=False) as z:
            shape = tuple(int(v) for v in z['shape'])
            x = np.unpackbits(z['x'], axis=-1, count=shape[-1]).reshape(shape)
            return WindowSet(x, z['y'], z['teacher'], z['truth'], z['subject'], z['source'], z['kind'], z['test'],
                             list(z['notes']))


def _two_way(probs: npt.NDArray[Any], truth: npt.NDArray[Any], classes: npt.NDArray[Any]) -> float:
    restricted = classes[probs[:, classes].argmax(axis=1)]
    return float((restricted == truth).mean())


def metrics(probs: npt.NDArray[Any], data: WindowSet) -> dict[str, dict[str, float]]:
    """Scores per `source/kind` group of `data` (e.g. `london_ccby/onset`, `muxspace/still`).

    - `teacher_agreement`: top-1 equals the teacher's top label (every group);
    - where human labels exist: `accuracy` (top-1 of 7 against them), `majority_rate` (what always
      answering the commonest label scores), and for groups with exactly two labels (london:
      neutral/happy) `accuracy_2way` (top-1 among those two) and `recall` per label;
    - `windows`, `subjects`.
    Onset/offset windows whose morph ends between the two photos (0 < alpha < 0.5) have no truth and
    count for teacher agreement only.
    """
    out: dict[str, dict[str, float]] = {}
    pred = probs.argmax(axis=1)
    for group in sorted({f'{s}/{k}' for s, k in zip(data.source.tolist(), data.kind.tolist())}):
        source, kind = group.rsplit('/', 1)
        mask = (data.source == source) & (data.kind == kind)
        entry: dict[str, Any] = {'windows': int(mask.sum()), 'subjects': len(set(data.subject[mask].tolist())),
                       'teacher_agreement': float((pred[mask] == data.teacher[mask].argmax(axis=1)).mean())}
        labelled = mask & (data.truth >= 0)
        if labelled.any():
            truth = data.truth[labelled].astype(np.int64)
            classes = np.unique(truth)
            entry['labelled_windows'] = int(labelled.sum())
            entry['accuracy'] = float((pred[labelled] == truth).mean())
            entry['majority_rate'] = float(np.bincount(truth).max() / len(truth))
            entry['teacher_accuracy'] = float((data.teacher[labelled].argmax(axis=1) == truth).mean())
            if len(classes) == 2:
                entry['accuracy_2way'] = _two_way(probs[labelled], truth, classes)
                entry['teacher_accuracy_2way'] = _two_way(data.teacher[labelled], truth, classes)
                entry['recall'] = {EMOTIONS[c]: _two_way(probs[labelled][truth == c], truth[truth == c], classes)
                                   for c in classes}
        out[group] = entry
    return out


def _pooled(groups: list[dict[str, Any]], key: str, weight: str = 'windows') -> float | None:
    pairs = [(g[key], g[weight]) for g in groups if key in g and g.get(weight)]
    total = sum(w for _, w in pairs)
    return None if not total else float(sum(v * w for v, w in pairs) / total)


def headline(scores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The numbers the issue asks for, from metrics(): London onset windows (neutral vs smile, top-1
    among the two; with the frame teacher's score on the same morph frames as the baseline), the
    offsets, agreement with the teacher on muxspace stills (all stills when no muxspace folder is
    there), and agreement on video windows."""
    out: dict[str, Any] = {}
    for kind in ('onset', 'offset'):
        groups = [g for name, g in scores.items() if name.endswith(f'/{kind}') and 'accuracy_2way' in g]
        if groups:
            out[f'london_{kind}'] = {
                'accuracy': _pooled(groups, 'accuracy_2way', 'labelled_windows'),
                'accuracy_7way': _pooled(groups, 'accuracy', 'labelled_windows'),
                'teacher_accuracy': _pooled(groups, 'teacher_accuracy_2way', 'labelled_windows'),
                'teacher_agreement': _pooled(groups, 'teacher_agreement'),
                'recall': {label: _pooled([{**g, 'r': g['recall'][label]} for g in groups if label in g['recall']],
                                          'r', 'labelled_windows')
                           for label in ('neutral', 'happy')},
                'windows': sum(g['labelled_windows'] for g in groups),
                'subjects': sum(g['subjects'] for g in groups)}
    stills = {name: g for name, g in scores.items() if name.endswith('/still')}
    mux = [g for name, g in stills.items() if 'muxspace' in name] or list(stills.values())
    if mux:
        out['teacher_agreement'] = _pooled(mux, 'teacher_agreement')
        out['stills'] = {'windows': sum(g['windows'] for g in mux), 'subjects': sum(g['subjects'] for g in mux),
                         'accuracy_vs_human_labels': _pooled(mux, 'accuracy', 'labelled_windows'),
                         'teacher_accuracy_vs_human_labels': _pooled(mux, 'teacher_accuracy', 'labelled_windows')}
    videos = [g for name, g in scores.items() if name.endswith('/video')]
    if videos:
        out['video_teacher_agreement'] = _pooled(videos, 'teacher_agreement')
    return out
