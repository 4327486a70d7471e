"""The parts of ASD emotion training that decide what the model learns from: the stratified person-wise
split, class balancing, validation bias offsets, the faces/teacher cache, and the scores."""
from __future__ import annotations

import numpy as np
import pytest

from attune.affect.data_cache import DataCache, teacher_key
from attune.affect.dataset import FaceDataset, stratified_subject_split
from attune.affect.evaluation import score
from attune.emotions import EMOTIONS
from attune.errors import ConfigError
from attune.models.training.asd_emotion_metrics import classification, tune_biases

RARE = EMOTIONS.index('disgust')


def people_like_muxspace() -> tuple[np.ndarray, np.ndarray]:
    """Many people with one neutral or happy face, and a rare class carried by two large and a few small people."""
    subjects, hard = [], []
    for i in range(400):
        subjects.append(f'p{i}')
        hard.append(i % 2)
    for name, rare, other in (('actor_a', 100, 40), ('actor_b', 50, 20), ('actor_c', 15, 5), ('actor_d', 10, 5),
                              ('actor_e', 8, 2)):
        subjects += [name] * (rare + other)
        hard += [RARE] * rare + [0] * other
    subjects += ['video'] * 30
    hard += [-1] * 30
    return np.array(subjects), np.array(hard)


def test_the_stratified_split_keeps_people_whole_and_shares_every_class() -> None:
    subjects, hard = people_like_muxspace()
    test = stratified_subject_split(subjects, hard, 0.2, seed=0)
    for person in np.unique(subjects):
        assert len(set(test[subjects == person])) == 1
    for c in (0, 1, RARE):
        share = (test & (hard == c)).sum() / (hard == c).sum()
        assert 0.1 <= share <= 0.3, (EMOTIONS[c], share)
    assert not test[subjects == 'actor_a'].any()  # half of the rare class: it would overshoot
    assert not test[hard < 0].any()  # no hard labels: never held out
    assert np.array_equal(test, stratified_subject_split(subjects, hard, 0.2, seed=0))
    assert not np.array_equal(test, stratified_subject_split(subjects, hard, 0.2, seed=1))
    rest = ~test
    val = stratified_subject_split(subjects, hard, 0.2, seed=7, eligible=rest)
    assert not (val & test).any() and val.any()
    with pytest.raises(ConfigError):
        stratified_subject_split(subjects, hard, 1.0, 0)


def test_class_balancing_weights_rare_classes_up() -> None:
    torch = pytest.importorskip('torch')
    from attune.models.training.asd_emotion_loss import class_weights, sampling_weights

    hard = np.array([0] * 100 + [1] * 25 + [-1] * 10)
    w = class_weights(hard, 0.5)
    assert w[1] / w[0] == pytest.approx(2.0) and w[2] == 0 and float(w[[0, 1]].mean()) == pytest.approx(1.0)
    draw = sampling_weights(hard, 0.5)
    assert float(draw.sum()) == pytest.approx(1.0) and draw.dtype == torch.float64
    assert float(draw[100] / draw[0]) == pytest.approx(2.0)
    assert float(draw[-1] / draw[0]) == pytest.approx(np.sqrt(10))  # teacher-only faces: a class of their own
    assert np.allclose(sampling_weights(hard, 0.0).numpy(), 1 / len(hard))


def test_bias_offsets_let_a_class_that_ranks_well_be_predicted() -> None:
    rng = np.random.default_rng(0)
    y = np.array([0] * 80 + [1] * 20)
    logits = rng.normal(0, 0.1, (100, 7))
    logits[:, 0] += 1.0
    logits[80:, 1] += 0.6  # class 1 ranks above its neighbours but never wins the argmax
    before = classification(logits.argmax(axis=1), y)['macro_f1']
    offsets = tune_biases(logits, y)
    after = classification((logits + offsets).argmax(axis=1), y)['macro_f1']
    assert before < 0.5 < 0.95 <= after
    assert np.array_equal(tune_biases(logits[:, [0, 0, 2, 3, 4, 5, 6]], y), np.zeros(7))  # nothing to gain


def faces(n: int) -> FaceDataset:
    data = FaceDataset.empty(8)
    return FaceDataset(np.zeros((n, 8, 8), np.uint8), np.zeros((n, 478, 3), np.float32),
                       np.full((n, 7), 1 / 7, np.float32), np.arange(n) % 2, np.array([f's{i}' for i in range(n)]),
                       np.array([f'f{i}.jpg' for i in range(n)]), np.zeros(n, np.int64), dict(data.info))


def test_the_cache_reuses_faces_and_teacher_labels_and_an_evaluation_caches_nothing(tmp_path) -> None:
    said: list[str] = []
    built = []
    cache = DataCache(tmp_path / 'c', said.append)
    build = lambda: built.append(1) or faces(4)  # noqa: E731
    assert len(cache.faces('k1', build)) == 4 and len(cache.faces('k1', build)) == 4 and len(built) == 1
    soft = cache.soft_labels('k1-t1', lambda: np.eye(7, dtype=np.float32)[:4])
    assert np.array_equal(cache.soft_labels('k1-t1', lambda: pytest.fail('labelled again')), soft)
    assert sorted(p.name for p in (tmp_path / 'c').iterdir()) == ['faces-k1.npz', 'teacher-k1-t1.npz']
    none = DataCache(None)
    none.faces('k1', build)
    none.soft_labels('x', lambda: soft)
    assert len(built) == 2 and sorted(p.name for p in (tmp_path / 'c').iterdir()) == ['faces-k1.npz',
                                                                                         'teacher-k1-t1.npz']
    assert teacher_key({'rules': 0.5}) != teacher_key({'rules': 0.0}) and teacher_key({}) == teacher_key({})


def test_scores_of_model_teacher_and_majority_rest_on_the_hard_labels() -> None:
    data = faces(6)
    data.hard[:] = [0, 0, 1, 1, -1, 1]
    data.soft[:] = np.eye(7)[[0, 1, 1, 1, 3, 0]]
    probabilities = np.eye(7)[[0, 0, 1, 0, 2, 1]]
    result = score(probabilities, data, majority_class=0)
    assert result['hard_labelled'] == 5 and result['people'] == 5
    assert result['model']['accuracy'] == pytest.approx(0.8) and result['teacher']['accuracy'] == pytest.approx(0.6)
    assert result['majority']['accuracy'] == pytest.approx(0.4)
    assert set(result['model']['f1']) == {'neutral', 'happy'}
    data.soft[:] = np.nan  # faces without teacher labels: no teacher scores
    assert 'teacher' not in score(probabilities, data, 0) and 'kl_teacher' not in score(probabilities, data, 0)['model']


def test_held_out_people_are_named_as_the_expression_trainer_names_them(tmp_path) -> None:
    from attune.affect.held_out_teacher import expression_person, faces_folder

    assert expression_person('muxspace/George_W_Bush') == 'mux:George_W_Bush'
    assert expression_person('london_ccby/001') == 'london:001'
    assert expression_person('faces/d3') is None  # a video: not among the expression photos
    (tmp_path / 'videos').mkdir()
    (tmp_path / 'set' / 'muxspace').mkdir(parents=True)
    (tmp_path / 'set' / 'muxspace' / 'labels.csv').write_text('image,emotion\n')
    assert faces_folder([tmp_path / 'videos', tmp_path / 'set']) == tmp_path / 'set'
    assert faces_folder([tmp_path / 'videos']) is None


def test_a_continued_run_names_every_run_before_it_earliest_first() -> None:
    from attune.cli.train_asd_emotion import init_chain

    first = 'attune train asd-emotion --epochs 8'
    second = {'command': 'attune train asd-emotion --epochs 10 --init first.pt', 'init_command': first}
    assert init_chain({'command': first}) == first
    assert init_chain(second) == f'{first}\n{second["command"]}'
    # a third run saved the chain of the two before it as its init_command
    third = {'command': 'attune train asd-emotion --epochs 12 --init second.pt', 'init_command': init_chain(second)}
    assert init_chain(third).splitlines() == [first, second['command'], third['command']]
    assert init_chain({}) == '(not recorded)'
