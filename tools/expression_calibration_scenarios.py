#!/usr/bin/env python3
"""Per-person calibration over a session's first seconds on video: with and without its recheck and fallback.

    python tools/expression_calibration_scenarios.py --data ../shared/data/faces [--people N]

Each London person's neutral photo morphed into their smile (attune.events.onsets, as a 15 fps camera
sees it: tools/expression_video_stability.py) in two sessions:
  rest_first   12 s at rest, then a smile (0.4 s onset, 2 s, 0.4 s offset), 2 s at rest;
  smile_first  greets with a smile for 4 s, relaxes (0.4 s), 8 s at rest, then the same smile and rest.
Each through the expression analyzer as the node runs it: with the shipped calibration (the recheck of
a reference until 12 s, the fallback at 10 s), without the recheck, and as before both (neither).
Scored on the frames after 12 s (the smile a robot would act on, and the rest after it): smiling or
not right, as the node publishes it (calibrated or not), per person group: the people none of whose
frames passes the neutral gate in the first 12 s ("never neutral") and the others; and how many people
each setting leaves uncalibrated.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from attune.expression.calibration import CalibrationOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from expression_video_stability import FPS, HAPPY, camera_view, london_pairs, morph_amounts, published

SCENARIOS = {
    'rest_first': ((12.0, 0.0, 0.0), (0.4, 0.0, 1.0), (2.0, 1.0, 1.0), (0.4, 1.0, 0.0), (2.0, 0.0, 0.0)),
    'smile_first': ((4.0, 1.0, 1.0), (0.4, 1.0, 0.0), (7.6, 0.0, 0.0), (0.4, 0.0, 1.0), (2.0, 1.0, 1.0),
                    (0.4, 1.0, 0.0), (2.0, 0.0, 0.0)),
}
#: The shipped calibration, without its recheck, and as before both the recheck and the fallback.
BEFORE = 'no recheck, no fallback (before)'
SETTINGS = {'shipped (recheck until 12 s, fallback 10 s)': CalibrationOptions(),
            'no recheck (fallback 10 s)': CalibrationOptions(recheck_s=0.0),
            BEFORE: CalibrationOptions(recheck_s=0.0, fallback_s=0.0)}
SCORED_FROM_S = 12.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=Path('../shared/data/faces'))
    parser.add_argument('--people', type=int, default=0, help='the first N London people (0: all)')
    ns = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    rows: dict[tuple[str, str, str], list[float]] = {}
    uncalibrated: dict[tuple[str, str], int] = {}
    never_neutral: dict[str, list[str]] = {name: [] for name in SCENARIOS}
    for person, pair in london_pairs(ns.data, ns.people):
        for scenario, segments in SCENARIOS.items():
            alpha = morph_amounts(segments)
            views = camera_view(pair, alpha, rng)
            scored = np.arange(len(alpha)) >= int(SCORED_FROM_S * FPS)
            out = {name: published(views, options) for name, options in SETTINGS.items()}
            gate_only = out[BEFORE]['calibrated']
            group = 'never neutral' if not gate_only[~scored].any() else 'others'
            if group == 'never neutral':
                never_neutral[scenario].append(person)
            for name, result in out.items():
                usable = np.all(np.isfinite(result['probabilities']), axis=1) & scored
                right = (result['probabilities'].argmax(axis=1) == HAPPY) == (alpha >= 0.5)
                rows.setdefault((scenario, group, name), []).extend(right[usable].tolist())
                uncalibrated[scenario, name] = uncalibrated.get((scenario, name), 0) + (not result['calibrated'].any())
    report: dict[str, Any] = {
        'frame_accuracy_after_12s': [{'scenario': s, 'people': g, 'setting': n, 'frames': len(v),
                                      'accuracy': round(float(np.mean(v)), 4)}
                                     for (s, g, n), v in sorted(rows.items())],
        'uncalibrated_people': {f'{s} / {n}': k for (s, n), k in sorted(uncalibrated.items())},
        'never_neutral_before_12s': never_neutral}
    for row in report['frame_accuracy_after_12s']:
        print(row)
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
