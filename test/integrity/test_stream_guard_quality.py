"""The shipped stream-guard model against regressions: streams generated with a fixed seed from a
recording it was not trained on (d3.mp4; the model saw d6.mp4 only), genuine and every attack kind.
Floors sit just under the measured values (docs/integrity.md)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from attune.integrity.model import MODEL_PATH, StreamGuardModel
from attune.integrity.simulate import ATTACK_KINDS
from attune.integrity.training import generate
from test.conftest import shared_data

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def scored() -> list[tuple[str, float, tuple[str, ...]]]:
    model = StreamGuardModel.load()
    assert 'd3.mp4' not in json.loads(MODEL_PATH.read_text())['trained_on']
    samples = generate([str(shared_data('video', 'faces', 'd3.mp4'))], genuine=8, per_attack=2, seed=7)
    return [(kind, *(lambda v: (v.score, v.reasons))(model.verdict(features))) for kind, _, features in samples]


def test_genuine_streams_are_live_and_attacks_score_lower(scored) -> None:
    genuine = np.array([s for k, s, _ in scored if k == 'genuine'])
    attacks = np.array([s for k, s, _ in scored if k in ATTACK_KINDS])
    threshold = StreamGuardModel.load().threshold
    assert (genuine >= threshold).mean() >= GENUINE_LIVE_FLOOR
    assert (attacks < threshold).mean() >= ATTACKS_CAUGHT_FLOOR
    auc = float((genuine[:, None] > attacks[None, :]).mean())
    assert auc >= AUC_FLOOR


def test_every_verdict_against_liveness_has_reasons(scored) -> None:
    threshold = StreamGuardModel.load().threshold
    assert all(reasons for _, score, reasons in scored if score < threshold)


GENUINE_LIVE_FLOOR = 0.875   # measured 1.0 (8 of 8)
ATTACKS_CAUGHT_FLOOR = 0.8    # measured 0.9 (9 of 10; a renamed, re-stamped replay of a camera bag passes)
AUC_FLOOR = 0.95             # measured 1.0
