#!/usr/bin/env python3
"""How often the automatic calibration's neutral gate lets a smile through, and what it costs.

    python tools/expression_calibration_gate.py --data ../shared/data/faces --threads 2

The head's out-of-fold logits (the shipped settings, the 5 person-wise folds of
tools/expression_head_levers.py; the quality holdout left out) through the gate of
attune.expression.calibration (p(happy + surprise + fear) under a threshold, AU25 at most
max_lips_apart): the fraction of London and muxspace neutral and smiling photos it passes, per threshold;
and London calibrated accuracy (margin 0.5) when every person's reference is their smiling photo where the
gate passes it (a greeting smile through the whole warm-up), else their neutral photo.
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from attune.emotions import EMOTIONS
from attune.expression.action_units import AU_INDEX
from attune.expression.calibration import EXPRESSIVE, CalibrationOptions
from attune.models.training.expression_head_training import calibrated_logits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from expression_head_levers import SHIPPED_HEAD, cross_validated, lever_parser, training_people

THRESHOLDS = (0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15)


def main(argv: list[str] | None = None) -> int:
    ns = lever_parser(__doc__).parse_args(argv)
    _, features, m, fold = training_people(ns.data, ns.cache)
    z = cross_validated(m, fold, [], 0, replace(SHIPPED_HEAD, threads=ns.threads))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    options = CalibrationOptions()
    expressive = p[:, list(EXPRESSIVE)].sum(axis=1)
    lips_closed = features.au[m.index][:, AU_INDEX['AU25']] <= options.max_lips_apart
    happy, neutral = EMOTIONS.index('happy'), EMOTIONS.index('neutral')
    groups = {f'{source}_{EMOTIONS[label]}': (m.source == source) & (m.y == label)
              for source in ('london', 'mux') for label in (neutral, happy)}
    table = {str(t): {name: round(float(((expressive < t) & lips_closed)[rows].mean()), 3)
                      for name, rows in groups.items()} for t in THRESHOLDS}
    gate = (expressive < options.max_expressive) & lips_closed
    right, greeted = [], []
    london = m.source == 'london'
    for person in np.unique(m.person[london]):
        rows = np.flatnonzero(london & (m.person == person))
        smiles, neutrals = rows[m.y[rows] == happy], rows[m.y[rows] == neutral]
        if not len(smiles) or not len(neutrals):
            continue
        reference = smiles[0] if gate[smiles[0]] else neutrals[0]
        if reference == smiles[0]:
            greeted.append(str(person))
        right += [(calibrated_logits(z[r], z[reference], 0.5).argmax() == happy) == (m.y[r] == happy) for r in rows]
    for t, row in table.items():
        print(f't={t}: ' + ', '.join(f'{k} {v:.3f}' for k, v in row.items()))
    print(json.dumps({'pass_fraction_by_threshold': table, 'shipped_threshold': options.max_expressive,
                      'london_smiles_passing': greeted,
                      'london_calibrated_accuracy_if_greeted_with_a_smile': round(float(np.mean(right)), 4)}))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
