"""`attune train expression` end to end on a tiny faces folder: features, person-wise cross-validation,
ONNX (onnxruntime agrees with torch), model card, evaluation JSON; and the data set's person ids."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from attune.expression.dataset import load_items, mux_person, quality_holdout
from test.conftest import shared_data

LONDON = ('026', '027', '028', '029')


def tiny_faces(root: Path) -> Path:
    """4 London people (neutral + smiling) and 12 muxspace photos of 3 classes, as symlinks."""
    faces = shared_data('faces')
    for folder, suffix in (('neutral', '03'), ('smiling', '08')):
        (root / 'london_ccby' / folder).mkdir(parents=True)
        for person in LONDON:
            name = f'{person}_{suffix}.jpg'
            (root / 'london_ccby' / folder / name).symlink_to(faces / 'london_ccby' / folder / name)
    (root / 'muxspace' / 'images').mkdir(parents=True)
    with open(faces / 'muxspace' / 'labels.csv', newline='') as stream:
        rows = list(csv.DictReader(stream))
    chosen = [r for label in ('anger', 'happiness', 'neutral') for r in
              [r for r in rows if r['emotion'] == label and not quality_holdout('mux:' + mux_person(r['image']))][:4]]
    with open(root / 'muxspace' / 'labels.csv', 'w', newline='') as stream:
        writer = csv.writer(stream)
        writer.writerow(['image', 'emotion'])
        for r in chosen:
            writer.writerow([r['image'], r['emotion']])
            (root / 'muxspace' / 'images' / r['image']).symlink_to(faces / 'muxspace' / 'images' / r['image'])
    return root


def test_person_ids() -> None:
    assert mux_person('George_W_Bush_0226.jpg') == 'George_W_Bush'
    assert mux_person('facial-expressions_2868588k.jpg') == 'facial-expressions_2868588k'
    items = load_items(shared_data('faces'))
    assert {it.person for it in items if it.source == 'london'} == {f'london:{p}' for p in
                                                                   {it.path.stem[:3] for it in items
                                                                    if it.source == 'london'}}
    assert all(it.label != 'contempt' for it in items)
    assert quality_holdout('london:030') and not quality_holdout('london:026')


@pytest.mark.slow
def test_train_expression_writes_a_working_model(tmp_path) -> None:
    pytest.importorskip('torch')
    from attune.expression.head import ExpressionHead

    data = tiny_faces(tmp_path / 'faces')
    out = tmp_path / 'model' / 'tiny_head.onnx'
    result = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'train', 'expression', '--data', str(data),
                             '--output', str(out), '--cache', '', '--no-search', '--folds', '2', '--epochs', '3',
                             '--hidden', '16', '--threads', '1'], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(out.with_name('tiny_head.eval.json').read_text())
    assert summary['people'] >= 4 + 3 and summary['quality_holdout']['people'] == 0   # none of them held out
    assert summary['faces'] >= 14 and summary['onnx_check']['max_abs_diff'] < 1e-4   # 20 photos, not all found
    assert 0 <= summary['cross_validation']['london_accuracy'] <= 1
    card = out.with_suffix('.md').read_text()
    assert 'attune train expression' in card and 'Quality holdout' in card
    head = ExpressionHead(out)
    assert head.margin == summary['cross_validation']['calibration_margin']
