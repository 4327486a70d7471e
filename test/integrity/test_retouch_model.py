"""The retouch model: ONNX export agrees with torch, the shipped file is complete and person-wise."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch')

from attune.integrity import retouch_training as rt  # noqa: E402
from attune.integrity.retouch_check import MODEL_PATH, RetouchCheck  # noqa: E402
from attune.integrity.retouch_features import FEATURES  # noqa: E402


def _toy(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features where only 'fine_ratio' (lower: retouched) and 'eye_area' (higher) carry the label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    y = (rng.random(n) < 0.5).astype(np.int64)
    x[:, FEATURES.index('fine_ratio')] -= 2.5 * y
    x[:, FEATURES.index('eye_area')] += 1.5 * y * (rng.random(n) < 0.5)
    return x, y


def test_onnx_export_matches_torch_and_explains_with_the_right_feature(tmp_path) -> None:
    x, y = _toy()
    x[::17, 3] = np.nan  # missing features count as the training mean, in torch and in ONNX alike
    model = rt.fit(x, y, rt.RetouchTrainConfig(epochs=150))
    path = tmp_path / 'retouch.onnx'
    meta = {'features': list(FEATURES), 'mean': model.mean.numpy().astype(float).tolist(), 'threshold': 0.5,
            'train_persons': []}
    check = rt.export_onnx(model, path, meta)
    assert check['max_abs_diff'] < 1e-5 and check['batch1_max_abs_diff'] < 1e-5
    onnx_check = RetouchCheck(path)
    assert np.abs(onnx_check.scores(x) - rt.predict(model, x)).max() < 1e-5

    smooth = np.zeros(len(FEATURES))
    smooth[:] = model.mean.numpy()
    smooth[FEATURES.index('fine_ratio')] -= 4.0
    verdict = onnx_check.verdict(smooth)
    assert verdict.likely_retouched and verdict.reasons[0] == 'skin much smoother than the rest of the photo'


def test_cross_validation_never_scores_a_person_with_their_own_photos(monkeypatch) -> None:
    x, y = _toy(200)
    persons = np.array([f'p{i % 40:02d}' for i in range(200)])
    x = np.concatenate([x, np.arange(200.0)[:, None]], axis=1)  # a last column naming the row
    seen: list[set[str]] = []
    real_fit, real_predict = rt.fit, rt.predict

    def fit(train_x, train_y, config):
        seen.append(set(persons[train_x[:, -1].astype(int)]))
        return real_fit(train_x[:, :-1], train_y, config)

    def predict(model, test_x):
        assert not seen[-1] & set(persons[test_x[:, -1].astype(int)])
        return real_predict(model, test_x[:, :-1])

    monkeypatch.setattr(rt, 'fit', fit)
    monkeypatch.setattr(rt, 'predict', predict)
    scores = rt.cross_validate(x, y, persons, rt.RetouchTrainConfig(epochs=30))
    assert np.isfinite(scores).all() and len(seen) == rt.FOLDS


def test_shipped_model_is_complete_and_held_out_people_are_unseen() -> None:
    import onnx
    from onnx import numpy_helper

    check = RetouchCheck()
    meta = check.metadata
    assert 0 < check.threshold < 1 and len(check.mean) == len(FEATURES)
    assert meta['train_persons'] and not [p for p in meta['train_persons'] if rt.person_fold(p) == rt.HELD_OUT_FOLD]
    # The shipped graph's weights in the torch module give the same scores as onnxruntime.
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(MODEL_PATH)).graph.initializer}
    net = rt.RetouchNet(np.asarray(meta['mean']), weights['scale'], meta['config']['hidden'])
    net.load_state_dict({k: torch.from_numpy(np.array(weights[k])) for k in net.state_dict()})
    probe = np.asarray(meta['mean']) + np.random.default_rng(2).normal(size=(9, len(FEATURES))) * weights['scale']
    assert np.abs(check.scores(probe) - rt.predict(net.eval(), probe)).max() < 1e-5


def test_cross_validation_fits_only_the_chosen_rows_and_scores_every_row(monkeypatch) -> None:
    x, y = _toy(200)
    persons = np.array([f'p{i % 40:02d}' for i in range(200)])
    x = np.concatenate([x, np.arange(200.0)[:, None]], axis=1)
    fit_on = np.arange(200) % 3 != 0  # as if every third copy were an invisible edit
    fitted: list[np.ndarray] = []
    real_fit, real_predict = rt.fit, rt.predict

    def fit(train_x, train_y, config):
        fitted.append(train_x[:, -1].astype(int))
        return real_fit(train_x[:, :-1], train_y, config)

    monkeypatch.setattr(rt, 'fit', fit)
    monkeypatch.setattr(rt, 'predict', lambda model, test_x: real_predict(model, test_x[:, :-1]))
    scores = rt.cross_validate(x, y, persons, rt.RetouchTrainConfig(epochs=30), fit_on=fit_on)
    assert np.isfinite(scores).all()
    assert all(fit_on[rows].all() for rows in fitted) and len(fitted) == rt.FOLDS
