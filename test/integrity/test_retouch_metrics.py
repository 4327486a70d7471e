"""Detection error rates on scores whose answer is known."""
from __future__ import annotations

import numpy as np

from attune.integrity.retouch_metrics import auc, d_eer, report, threshold_at_fpr, tpr_at_fpr


def test_separated_identical_and_overlapping_scores() -> None:
    assert d_eer(np.array([0.1, 0.2]), np.array([0.8, 0.9])) == 0.0
    assert d_eer(np.array([0.5] * 4), np.array([0.5] * 4)) == 0.5
    # 10 originals 0..9, 10 retouched 5..14: at t=7.5 3/10 originals flagged, 3/10 retouched passed (5, 6, 7).
    assert abs(d_eer(np.arange(10.0), np.arange(5.0, 15.0)) - 0.25) <= 0.05
    assert auc(np.arange(10.0), np.arange(10.0, 20.0)) == 1.0


def test_threshold_at_fpr_flags_at_most_that_many_originals() -> None:
    original = np.arange(100.0)
    t = threshold_at_fpr(original, 0.05)
    assert np.mean(original >= t) == 0.05
    assert tpr_at_fpr(original, np.array([96.0, 94.0]), 0.05) == 0.5


def test_report_has_the_contract_keys_per_operation_and_strength() -> None:
    operation = np.array(['original'] * 4 + ['skin_smoothing'] * 4)
    strength = np.array([0] * 4 + [1, 1, 3, 3])
    out = report(np.array([0.1, 0.2, 0.3, 0.4, 0.35, 0.5, 0.9, 0.95]), operation, strength, threshold=0.45)
    assert {'d_eer', 'tpr_at_fpr_0.05', 'operations'} <= set(out)
    op = out['operations']['skin_smoothing']
    assert set(op['strengths']) == {'1', '3'} and op['strengths']['3']['d_eer'] == 0.0
    assert out['originals_flagged'] == 0.0 and out['retouched_caught'] == 0.75
    # All operations at one strength: strength 1 (0.35, 0.5) overlaps the originals, strength 3 does not.
    assert set(out['strengths']) == {'1', '3'} and out['strengths']['3']['d_eer'] == 0.0
    assert out['strengths']['1']['caught'] == 0.5 and out['strengths']['1']['retouched'] == 2
