"""`attune train retouch-cnn` end to end on made-up patches (grain vs blurred grain) and made-up classical
feature rows: validation among the training persons only, fusion, threshold, held-out block, ONNX."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('torch')

from attune.cli import train_retouch_cnn
from attune.integrity import retouch_data as rd
from attune.integrity import retouch_patches as rp
from attune.integrity import retouch_training as rt
from attune.integrity.retouch_features import FEATURES


def _patch_set(persons: int = 20, seed: int = 0) -> rp.PatchSet:
    import cv2

    rng = np.random.default_rng(seed)
    patches, meta = [], []
    for i in range(persons):
        person = f'{i:03d}'
        for operation, strength in (('original', 0), ('original', 0), ('skin_smoothing', 3), ('colour_grading', 3)):
            planes = np.clip(128 + rng.normal(0, 6, (3, 3, rp.PATCH, rp.PATCH)), 0, 255).astype(np.float32)
            if operation == 'skin_smoothing':
                planes = np.stack([[cv2.GaussianBlur(c, (0, 0), 1.2) for c in p] for p in planes])
            patches.append(np.round(planes).astype(np.uint8))
            meta.append((person, f'{person}_03.jpg', operation, strength, 0.0 if operation == 'original' else 0.01))
    columns = [np.array(c) for c in zip(*meta, strict=True)]
    return rp.PatchSet(patches, columns[0], columns[1], columns[2], columns[3].astype(np.int64),
                       columns[4].astype(float), [])


def _classical_cache(data: rp.PatchSet, path: Path) -> None:
    """Feature rows for the same copies (the last one missing): colour grading shows in 'skin_a'."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(len(data.label), len(FEATURES)))
    x[:, FEATURES.index('skin_a')] += 3.0 * (data.operation == 'colour_grading')
    keep = np.arange(len(data.label) - 1)
    rd.SampleSet(x[keep], data.person[keep], data.photo[keep], data.operation[keep], data.strength[keep],
                 data.changed[keep], []).save(path, 'made-up')


def test_training_validates_on_training_persons_fuses_and_writes_the_model(tmp_path, monkeypatch, capsys) -> None:
    data = _patch_set()
    assert {rt.person_fold(p) for p in data.person} == set(range(rt.FOLDS))
    monkeypatch.setattr(rd, 'faces_photos', lambda root: [])
    monkeypatch.setattr(rp, 'generate', lambda photos, seed, **kwargs: data)
    classical = tmp_path / 'features.npz'
    _classical_cache(data, classical)
    out = tmp_path / 'retouch_cnn.onnx'
    ns = argparse.Namespace(data=tmp_path, out=out, seed=3, originals=2, epochs=3, width=4, patches_per_copy=3,
                            classical=classical, validate_only=False, limit=None, threads=1)
    assert train_retouch_cnn.run(ns) == 0
    results = json.loads(out.with_suffix('.eval.json').read_text())
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    held = np.array([rt.person_fold(p) == rt.HELD_OUT_FOLD for p in data.person])
    validation = results['validation']
    assert validation['cnn']['original'] + validation['cnn']['retouched'] == int((~held).sum())
    assert set(validation['cnn_folds']) == {'1', '2', '3', '4', 'mean', 'sd'}
    assert validation['matched_copies'] == int((~held).sum()) - (0 if held[-1] else 1)
    assert validation['classical']['original'] + validation['classical']['retouched'] == validation['matched_copies']
    assert 0.0 <= validation['fused']['d_eer'] <= 1.0 and len(validation['fusion_weights']['coef']) == 2
    assert set(validation['fused_folds']) == {'1', '2', '3', '4', 'mean', 'sd'}
    assert results['held_out']['original'] + results['held_out']['retouched'] == int(held.sum())
    assert sorted(results['persons']['held_out']) == sorted(set(data.person[held].tolist()))
    assert printed['validation_d_eer'] == validation['cnn']['d_eer']
    assert results['onnx_vs_torch']['max_abs_diff'] < 1e-4 and out.is_file()

    ns.validate_only, ns.out = True, tmp_path / 'not_written.onnx'
    assert train_retouch_cnn.run(ns) == 0
    assert not ns.out.exists()
    assert 'validation' in json.loads(capsys.readouterr().out.strip().splitlines()[-1])
