#!/usr/bin/env python3
"""How stable is the expression node's per-frame output on video, and what would smoothing it cost?

    python tools/expression_video_stability.py --data ../shared/data/faces [--people N] [--demo-bag out/demo/faces]

Per London person: their neutral photo morphed into their smile and back (attune.events.onsets: 3.5 s
neutral, 0.4 s onset, 1.5 s smile, 0.4 s offset, 1.5 s neutral) as a 15 fps camera sees it (per frame a
random turn of +-1.5 deg, scale +-1 %, shift +-1.5 px and Gaussian noise of 2 grey levels), through
MediaPipe and the expression analyzer with per-person calibration, as the node runs them. Truth: happy
while the morph is at least half way. Then an exponential moving average of the published probabilities
with time constant tau (0 = as published), scored on the calibrated frames: 2-way frame accuracy, label
changes per second within the holds, onset and offset latency (median), for the quality-holdout people
(the head never saw them) and the others apart. With --demo-bag (a bag `attune demo` recorded): its
Expressions smoothed the same way, agreement with the clip's majority label and label changes.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from attune.emotions import EMOTIONS

FPS = 15.0
HAPPY = EMOTIONS.index('happy')
SEGMENTS = ((3.5, 0.0, 0.0), (0.4, 0.0, 1.0), (1.5, 1.0, 1.0), (0.4, 1.0, 0.0), (1.5, 0.0, 0.0))
TAUS = (0.0, 0.1, 0.2, 0.3, 0.5)


def morph_amounts(segments: tuple[tuple[float, float, float], ...] = SEGMENTS) -> np.ndarray:
    """alpha per frame of (seconds, start, stop) segments, each a smoothstep from start to stop."""
    out: list[float] = []
    for seconds, start, stop in segments:
        u = (np.arange(int(round(seconds * FPS))) + 1) / int(round(seconds * FPS))
        out += list(start + (stop - start) * (u * u * (3 - 2 * u)))
    return np.array(out)


def camera_view(pair: Any, alpha: np.ndarray, rng: np.random.Generator) -> list[tuple[np.ndarray, Any]]:
    """Each frame as a camera sees it (a small random turn, scale and shift, sensor noise) and its FaceMesh
    landmarks (None where MediaPipe found no face)."""
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    faces = FaceAnalyzer(FaceAnalyzerOptions())
    views = []
    for a in alpha:
        pos = a * (len(pair.alphas) - 1)
        i = min(int(pos), len(pair.alphas) - 2)
        rgb = (1 - (pos - i)) * pair.rgb[i].astype(np.float32) + (pos - i) * pair.rgb[i + 1].astype(np.float32)
        h, w = rgb.shape[:2]
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1.5, 1.5), rng.uniform(0.99, 1.01))
        turn[:, 2] += rng.uniform(-1.5, 1.5, 2)
        rgb = cv2.warpAffine(rgb, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
        rgb = np.clip(rgb + rng.normal(0, 2.0, rgb.shape), 0, 255).astype(np.uint8)
        found = faces.process(rgb)
        views.append((rgb, found[0].landmarks if found else None))
    return views


def published(views: list[tuple[np.ndarray, Any]], calibration: Any = None) -> dict[str, np.ndarray]:
    """The (7,) probabilities the node would publish for each frame (NaN without a face) and whether they
    are calibrated, with per-person calibration `calibration` (CalibrationOptions; None: the defaults)."""
    from attune.expression.analyzer import AnalyzerOptions, ExpressionAnalyzer, FaceInput
    from attune.expression.calibration import CalibrationOptions

    analyzer = ExpressionAnalyzer(AnalyzerOptions(person_calibration=calibration or CalibrationOptions()))
    probabilities = np.full((len(views), 7), np.nan)
    calibrated = np.zeros(len(views), bool)
    for k, (rgb, landmarks) in enumerate(views):
        if landmarks is None:
            continue
        h, w = rgb.shape[:2]
        result = analyzer.analyze(rgb, [FaceInput('f1', landmarks)], w, h, stamp_ns=int(k * 1e9 / FPS))[0]
        if isinstance(result, ValueError):
            continue
        d = result.ensemble
        probabilities[k] = 0.0
        for label, p in zip(d.labels, d.probabilities):
            probabilities[k, EMOTIONS.index(label)] = p
        calibrated[k] = 'ensemble' in result.calibrated
    return {'probabilities': probabilities, 'calibrated': calibrated}


def run_person(pair: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The published (7,) probabilities and calibrated flag of every frame of one person's sequence."""
    alpha = morph_amounts()
    return {'alpha': alpha, **published(camera_view(pair, alpha, rng))}


def london_pairs(data: Path, people: int = 0) -> list[tuple[str, Any]]:
    """(person, MorphPair at 320 px) of the first `people` London people (0: all) with both photos found."""
    from attune.events.face_labels import find_faces
    from attune.events.onsets import morph_pair
    from attune.expression.dataset import load_items

    photos: dict[str, dict[str, Path]] = {}
    for item in load_items(data, sources=('london',)):
        photos.setdefault(item.person, {})[item.label] = item.path
    chosen = sorted(p for p, found in photos.items() if len(found) == 2)[:people or None]
    records = find_faces([photos[p][k] for p in chosen for k in ('neutral', 'happy')], None)
    out = []
    for person in chosen:
        neutral, smile = (records[photos[person][k]] for k in ('neutral', 'happy'))
        if neutral is not None and smile is not None:
            rgb = [cv2.cvtColor(cv2.imread(str(photos[person][k])), cv2.COLOR_BGR2RGB) for k in ('neutral', 'happy')]
            out.append((person, morph_pair(person, *rgb, neutral, smile, pixels=320)))
    return out


def smoothed(probabilities: np.ndarray, tau: float, fps: float = FPS) -> np.ndarray:
    """Exponential moving average over frames (a missing frame keeps the average)."""
    if tau <= 0:
        return probabilities.copy()
    weight = 1 - np.exp(-1 / (fps * tau))
    out = np.full_like(probabilities, np.nan)
    average = None
    for t, p in enumerate(probabilities):
        if np.all(np.isfinite(p)):
            average = p if average is None else (1 - weight) * average + weight * p
            out[t] = average
    return out


def score(runs: list[dict[str, Any]], tau: float) -> dict[str, Any]:
    right, changes, hold_s, onsets, offsets = [], 0, 0.0, [], []
    for run in runs:
        p = smoothed(run['probabilities'], tau)
        usable = np.all(np.isfinite(p), axis=1) & run['calibrated']
        if not usable.any():
            continue
        label, truth = p.argmax(axis=1), run['alpha'] >= 0.5
        happy = label == HAPPY
        right += list((happy == truth)[usable])
        still = np.r_[False, np.abs(np.diff(run['alpha'])) < 1e-9] & usable & np.r_[False, usable[:-1]]
        changes += int(np.sum((label[1:] != label[:-1]) & still[1:]))
        hold_s += still.sum() / FPS
        up = int(np.argmax(truth))
        down = up + int(np.argmax(~truth[up:]))
        if len(first := np.flatnonzero(happy[up:down] & usable[up:down])):
            onsets.append(first[0] / FPS)
        if len(first := np.flatnonzero(~happy[down:] & usable[down:])):
            offsets.append(first[0] / FPS)
    return {'tau_s': tau, 'calibrated_frames': len(right), 'frame_accuracy': round(float(np.mean(right)), 4),
            'label_changes_per_s_in_holds': round(changes / max(hold_s, 1e-9), 3),
            'onset_latency_s_median': round(float(np.median(onsets)), 3) if onsets else None,
            'offset_latency_s_median': round(float(np.median(offsets)), 3) if offsets else None}


def demo_bag(bag: Path) -> list[dict[str, Any]]:
    from attune.bag import read_messages
    from attune.ros.stamps import to_ns

    messages = sorted((m.deserialize() for m in read_messages(bag, ['/attune/expression'])),
                      key=lambda m: to_ns(m.header.stamp))
    p = np.array([np.asarray(m.probabilities, np.float64) for m in messages])
    calibrated = np.array([bool(m.calibrated) for m in messages])
    rows = []
    for tau in TAUS:
        label = smoothed(p, tau).argmax(axis=1)
        majority = int(np.bincount(label[calibrated]).argmax())
        rows.append({'tau_s': tau, 'majority': str(messages[0].labels[majority]),
                     'agreement': round(float(np.mean(label[calibrated] == majority)), 3),
                     'label_changes': int(np.sum(label[1:] != label[:-1]))})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=Path('../shared/data/faces'))
    parser.add_argument('--people', type=int, default=0, help='the first N London people (0: all)')
    parser.add_argument('--demo-bag', type=Path)
    ns = parser.parse_args(argv)
    from attune.expression.dataset import quality_holdout

    rng = np.random.default_rng(0)
    runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for person, pair in london_pairs(ns.data, ns.people):
        runs[quality_holdout(person)].append(run_person(pair, rng))
    report: dict[str, Any] = {group: [score(runs[held], tau) for tau in TAUS]
                              for group, held in (('holdout_people', True), ('other_people', False))}
    report['uncalibrated_people'] = sum(not r['calibrated'].any() for rs in runs.values() for r in rs)
    if ns.demo_bag:
        report['demo_bag'] = demo_bag(ns.demo_bag)
    for group in ('holdout_people', 'other_people'):
        for row in report[group]:
            print(group, row)
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
