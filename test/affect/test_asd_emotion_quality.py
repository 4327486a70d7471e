"""Quality guard of the shipped ASD emotion model: accuracy and macro-F1 on people it never saw.

The people are the test people of the split the model was trained with (listed in asd_emotion.eval.json
beside it, chosen before training by a seeded stratified person-wise split of ../shared/data/faces): their
faces are found with MediaPipe and cut at the model's input size exactly as the node does, then scored
against their hard labels. Deterministic (no training, no randomness); the floors sit just under the
values measured when the model shipped, so a worse model, a broken crop or landmark alignment, or a
changed face pipeline fails here. Retraining the model means measuring again and moving the floors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from attune.affect.dataset import FaceDataset, discover
from attune.affect.evaluation import model_probabilities, published_probabilities
from attune.affect.face_extraction import extract_faces, label_faces
from attune.affect.model import AsdEmotionModel, default_model_path
from attune.models.training.asd_emotion_metrics import classification
from test.conftest import shared_data

#: Measured on these faces when the shipped model was made (0.7015 and 0.4587; the model card's 0.4554 is on
#: crops resized from the training cache), minus a margin of one or two faces.
FLOOR_ACCURACY = 0.69
FLOOR_MACRO_F1 = 0.445
#: Faces of the held-out people (849 files; MediaPipe finds a face in 841), and the F1 floors of the classes
#: with enough faces to score (measured: neutral 0.751, happy 0.838, surprise 0.600, disgust 0.356, anger 0.496).
FACES = 841
FLOOR_CLASS_F1 = {'neutral': 0.735, 'happy': 0.825, 'surprise': 0.57, 'disgust': 0.32, 'anger': 0.46}
#: The network pooled with the shipped teacher on the same faces (measured when the pool shipped: see the test).
FUSED_FLOOR_ACCURACY = 0.79   # measured 0.8002
FUSED_FLOOR_MACRO_F1 = 0.60   # measured 0.6178 (its own teacher alone: see the model card)


@pytest.fixture(scope='module')
def held_out() -> tuple[AsdEmotionModel, set[str], FaceDataset]:
    """The shipped model, its test people, and their faces cut as the node cuts them."""
    model = AsdEmotionModel()
    people = set(json.loads(default_model_path().with_name('asd_emotion.eval.json').read_text())['people']['test'])
    sources = [s for s in discover(shared_data('faces')) if s.label >= 0 and s.subject in people]
    assert len({s.subject for s in sources}) == len(people)  # every held-out person is still in the data
    return model, people, extract_faces(sources, size=model.input_size)


def test_the_shipped_model_keeps_its_quality_on_held_out_people(held_out) -> None:
    model, people, data = held_out
    pred = model_probabilities(model, data).argmax(axis=1)
    scores = classification(pred, data.hard)
    print(json.dumps({k: scores[k] for k in ('accuracy', 'macro_f1', 'f1')}))
    assert abs(len(data) - FACES) <= 4  # another CPU may find a face more or less
    assert scores['accuracy'] >= FLOOR_ACCURACY
    assert scores['macro_f1'] >= FLOOR_MACRO_F1
    for emotion, floor in FLOOR_CLASS_F1.items():
        assert scores['f1'][emotion] >= floor, emotion
    assert np.isin(data.subjects, list(people)).all()


def test_what_the_node_publishes_keeps_its_quality_on_the_same_people(held_out) -> None:
    """The network pooled with its teacher (attune.affect.teacher_fusion), as the node publishes it. The
    teacher here is the shipped expression head, which was fit on every person of ../shared/data/faces,
    these included: a regression guard of the pool and the teacher's inputs, not an unseen-people number
    (that is the model card's, with the teacher refit without them)."""
    from attune.expression.teacher import ExpressionTeacher

    model, _, data = held_out
    with ExpressionTeacher() as teacher:
        data = data.with_soft(label_faces(data, teacher))
    assert np.isfinite(data.soft).all()
    scores = classification(published_probabilities(model, data).argmax(axis=1), data.hard)
    print(json.dumps({k: scores[k] for k in ('accuracy', 'macro_f1', 'f1')}))
    assert scores['accuracy'] >= FUSED_FLOOR_ACCURACY
    assert scores['macro_f1'] >= FUSED_FLOOR_MACRO_F1
