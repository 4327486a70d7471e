"""Quality guard of the shipped expression head on the people held out of its training.

`attune.expression.dataset.quality_holdout` fixes the people (12 London, 5 % of muxspace by name hash);
`attune train expression` never trains or selects on them and records the shipped model's numbers on them
in its metadata (`quality_holdout`). This test recomputes those numbers from the photos (FaceMesh, AUs,
CNN, head: the node's own code path; nothing cached) and fails when one falls below its floor, set just
under the value measured when the model shipped. Deterministic: no training, fixed photos.
"""
from __future__ import annotations

import json

import pytest

from test.conftest import shared_data

#: Floors just under the shipped model's numbers on the holdout (expression_head.md, "Quality holdout").
#: London has 24 photos: the floors allow one photo to change across CPUs (MediaPipe's float kernels).
FLOORS = {'london_accuracy': 0.79, 'london_calibrated_accuracy': 0.95, 'mux5_macro_f1': 0.62}


def test_shipped_head_keeps_its_quality_on_held_out_people() -> None:
    pytest.importorskip('torch')
    from attune.expression.dataset import extract, load_items, quality_holdout
    from attune.expression.head import ExpressionHead
    from attune.models.training.expression_head_training import build_matrix, scores

    items = [it for it in load_items(shared_data('faces')) if quality_holdout(it.person)]
    assert sum(it.source == 'london' for it in items) == 24 and sum(it.source == 'mux' for it in items) >= 100
    features = extract(items, cache_dir=None, log=lambda message: None)
    m = build_matrix(items, features)
    head = ExpressionHead()
    measured = scores(head.logits(m.x), m, head.margin)
    shipped = json.loads(head.metadata()['quality_holdout'])
    for key, floor in FLOORS.items():
        assert measured[key] >= floor, f'{key} {measured[key]} fell below {floor} (shipped: {shipped[key]})'
        assert floor <= shipped[key], f'the floor of {key} is above what the model shipped with'
