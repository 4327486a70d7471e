"""`attune train retouch` end to end on made-up feature rows: held-out and cross-validated reports, with
and without the invisible edits, and --train-on visible fitting without them."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

pytest.importorskip('torch')

from attune.cli import train_retouch
from attune.integrity import retouch_data as rd
from attune.integrity import retouch_training as rt
from attune.integrity.retouch_features import FEATURES


def _samples(n: int = 600, seed: int = 0) -> rd.SampleSet:
    rng = np.random.default_rng(seed)
    operation = np.where(rng.random(n) < 0.3, rd.ORIGINAL, 'skin_smoothing')
    strength = np.where(operation == rd.ORIGINAL, 0, rng.integers(1, 4, n))
    # Light copies are invisible and look like originals; the others are smoother.
    changed = np.where(operation == rd.ORIGINAL, 0.0, np.where(strength == 1, 0.0, 0.01))
    x = rng.normal(size=(n, len(FEATURES)))
    x[:, FEATURES.index('fine_ratio')] -= 2.0 * (changed > 0)
    person = np.array([f'{i % 50:03d}' for i in range(n)])
    return rd.SampleSet(x, person, np.array([f'{p}_03.jpg' for p in person]), operation, strength.astype(np.int64),
                        changed, [])


@pytest.mark.parametrize('train_on', ['all', 'visible'])
def test_training_writes_the_model_and_reports_visible_edits_apart(tmp_path, monkeypatch, capsys, train_on) -> None:
    data = _samples()
    monkeypatch.setattr(train_retouch, 'samples', lambda ns: data)
    fitted_rows: list[int] = []
    real_fit = rt.fit

    def fit(x, y, config):
        fitted_rows.append(len(y))
        return real_fit(x, y, config)

    monkeypatch.setattr(rt, 'fit', fit)
    out = tmp_path / 'retouch.onnx'
    ns = argparse.Namespace(data=tmp_path, out=out, seed=3, originals=1, epochs=40, hidden=8, threads=1,
                            train_on=train_on, cache=tmp_path)
    assert train_retouch.run(ns) == 0
    results = json.loads(out.with_suffix('.eval.json').read_text())
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    held = results['held_out']
    invisible = int(((data.operation != rd.ORIGINAL) & (data.changed == 0)
                     & np.array([rt.person_fold(p) == rt.HELD_OUT_FOLD for p in data.person])).sum())
    assert held['visible']['left_out'] == invisible > 0
    assert held['visible']['retouched'] == held['retouched'] - invisible
    assert held['visible']['d_eer'] < held['d_eer']  # the invisible copies look like originals
    assert printed['held_out_d_eer_visible'] == held['visible']['d_eer']
    train = np.array([rt.person_fold(p) != rt.HELD_OUT_FOLD for p in data.person])
    fitted_on = int(train.sum()) - (int((train & ~data.visible).sum()) if train_on == 'visible' else 0)
    assert fitted_rows[-1] == fitted_on  # the shipped model: every training person's usable row
    assert out.is_file() and results['onnx_vs_torch']['max_abs_diff'] < 1e-5
