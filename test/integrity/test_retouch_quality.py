"""The shipped retouch model against regressions, on people it never saw: the neutral photos of the
held-out fold's persons, retouched copies generated with a fixed seed (not the training seed).
Floors sit just under the measured values (models/resources/retouch.md)."""
from __future__ import annotations

import pytest

from attune.integrity import retouch_data as rd
from attune.integrity.retouch_check import RetouchCheck
from attune.integrity.retouch_metrics import report
from test.conftest import shared_data

# ~240 generated photos: about a minute on an idle 2-core machine, several when it is shared.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

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
    scores = check.scores(data.features)
    out = report(scores, data.operation, data.strength, threshold=check.threshold)
    visible = data.visible
    out['visible'] = report(scores[visible], data.operation[visible], data.strength[visible], threshold=check.threshold)
    return out


def test_detection_on_unseen_people(measured) -> None:
    assert measured['d_eer'] <= D_EER_CEILING
    assert measured['tpr_at_fpr_0.05'] >= TPR_FLOOR
    assert measured['originals_flagged'] <= ORIGINALS_FLAGGED_CEILING


def test_detection_of_visible_edits_on_unseen_people(measured) -> None:
    assert measured['visible']['d_eer'] <= VISIBLE_D_EER_CEILING


# Blemish removal is not caught (0 of 9 copies at strength 3: chance; models/resources/retouch.md).
@pytest.mark.parametrize('operation', ['skin_smoothing', 'eye_enlargement', 'face_slimming', 'colour_grading'])
def test_each_operation_at_full_strength_is_caught(measured, operation) -> None:
    strong = measured['operations'][operation]['strengths']['3']
    assert strong['caught'] >= STRONG_CAUGHT_FLOOR[operation]


# Measured (14 unseen people, 28 originals, 203 retouched copies (blemish removal only where there are
# blemishes: 14 / 12 / 9 photos), generator version 2, seed 11):
D_EER_CEILING = 0.27              # measured 0.246
VISIBLE_D_EER_CEILING = 0.27      # measured 0.242 (19 invisible copies left out: light smoothing, 2 blemish)
TPR_FLOOR = 0.53                  # measured 0.552 (retouched caught at 5 % of originals flagged)
ORIGINALS_FLAGGED_CEILING = 0.08  # measured 0.0 (0 of 28 at the shipped threshold; 2 of 28 would fail)
STRONG_CAUGHT_FLOOR = {           # at the shipped threshold, strength 3, 14 copies each
    'skin_smoothing': 0.92,       # measured 1.0
    'eye_enlargement': 0.85,      # measured 0.929
    'face_slimming': 0.35,        # measured 0.357 (generator version 1's draws: 0.5; 14 copies, 1 copy = 0.07)
    'colour_grading': 0.85,       # measured 0.857 (version 1's draws: 1.0)
}
