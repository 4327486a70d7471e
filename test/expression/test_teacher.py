"""The teacher API: soft labels over EMOTIONS for one face, image folders and videos."""
from __future__ import annotations

import numpy as np
import pytest

from attune.expression.cnn import CropError
from attune.expression.teacher import EMOTIONS, ExpressionTeacher
from test.conftest import shared_data


def test_soft_labels_of_one_face(london) -> None:
    teacher = ExpressionTeacher()
    assert EMOTIONS == ('neutral', 'happy', 'sad', 'surprise', 'fear', 'disgust', 'anger')
    smiling = next(p for p in london if p.smiling and p.person == '030')
    p = teacher.soft_labels(smiling.rgb, smiling.landmarks)
    assert p.shape == (7,) and p.dtype == np.float32
    assert abs(float(p.sum()) - 1) < 1e-5
    assert EMOTIONS[int(np.argmax(p))] == 'happy'
    full = teacher.analyze(smiling.rgb, smiling.landmarks)
    assert set(full.sources) == {'rules', 'cnn', 'head'} and full.features.shape == (17 + 128 + 7,)
    np.testing.assert_allclose(p, full.sources['head'].probabilities, atol=1e-6)   # the default: the head
    cnn_only = ExpressionTeacher(weights={'cnn': 1.0}).soft_labels(smiling.rgb, smiling.landmarks)
    np.testing.assert_allclose(cnn_only, full.sources['cnn'].probabilities, atol=1e-6)
    with pytest.raises(ValueError, match='zero-size'):
        teacher.soft_labels(smiling.rgb, np.full_like(smiling.landmarks, 0.5))
    with pytest.raises(CropError, match='outside'):
        teacher.soft_labels(smiling.rgb, smiling.landmarks + 3.0)


def test_folders_and_videos_are_labelled() -> None:
    folder = shared_data('faces', 'london_ccby', 'smiling')
    video = shared_data('video', 'faces', 'd0.mp4')
    with ExpressionTeacher() as teacher:
        images = list(teacher.label_images(sorted(folder.glob('*.jpg'))[:3]))
        frames = list(teacher.label_video(video, every=20))
    assert len(images) == 3 and all(item.soft_labels.shape == (7,) for item in images)
    assert [item.frame for item in frames] == [0, 20, 40, 60]
    assert all(abs(float(item.soft_labels.sum()) - 1) < 1e-5 for item in frames)
