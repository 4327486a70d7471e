"""Class balance in the ASD emotion loss (attune.models.training.asd_emotion_loss): the logit-adjusted loss
learns the balanced posterior, the batches' prior follows the drawing, and the class-weighted KL counts
rare classes' faces more without dropping the teacher's soft labels."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch')

from attune.models.training.asd_emotion_loss import (  # noqa: E402
    batch_prior,
    class_weights,
    distillation_loss,
    logit_offsets,
    sampling_weights,
)


def fitted_constant_logits(hard: np.ndarray, tau: float) -> np.ndarray:
    """The one logit vector (a network that ignores its input) minimizing the hard-label loss."""
    soft = torch.full((len(hard), 7), 1 / 7)
    labels = torch.from_numpy(hard)
    offsets = logit_offsets(batch_prior(soft.numpy(), hard, None), tau)
    z = torch.zeros(7, requires_grad=True)
    optimizer = torch.optim.LBFGS([z], max_iter=200)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        # hard labels only: the KL term toward a uniform teacher would pull toward uniform by itself
        loss = distillation_loss(z.expand(len(hard), 7), soft, labels, 2.0, 1.0, logit_offsets=offsets) \
            - distillation_loss(z.expand(len(hard), 7), soft, torch.full_like(labels, -1), 2.0, 0.0,
                                logit_offsets=offsets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.softmax(z.detach(), dim=0).numpy()


def test_the_logit_adjusted_loss_learns_balanced_outputs_where_plain_loss_learns_the_prior() -> None:
    hard = np.array([0] * 700 + [1] * 200 + [2] * 50 + [3] * 20 + [4] * 10 + [5] * 10 + [6] * 10)
    prior = np.bincount(hard) / len(hard)
    plain = fitted_constant_logits(hard, 0.0)
    adjusted = fitted_constant_logits(hard, 1.0)
    assert np.allclose(plain, prior, atol=0.01)  # without adjustment the network's outputs are the prior
    assert np.allclose(adjusted, 1 / 7, atol=0.01)  # with it the rare classes are not pushed down
    assert logit_offsets(prior, 0.0) is None


def test_the_batch_prior_is_the_class_share_after_drawing() -> None:
    hard = np.array([0] * 90 + [1] * 10 + [-1] * 4)
    soft = np.zeros((len(hard), 7))
    soft[:, 2] = 1.0  # what the teacher says counts only where there is no hard label
    plain = batch_prior(soft, hard, None)
    assert plain.sum() == pytest.approx(1.0)
    assert plain[:3] == pytest.approx(np.array([90, 10, 4]) / 104, abs=1e-3)
    balanced = batch_prior(soft, hard, sampling_weights(hard, 1.0))  # each class (and the teacher-only) 1/3
    assert balanced[:3] == pytest.approx([1 / 3] * 3, abs=1e-3)
    assert (balanced > 0).all()  # no log(0): classes absent from the batches get a floor


def test_the_class_weighted_kl_counts_rare_faces_more_and_keeps_soft_labels() -> None:
    hard = torch.tensor([0, 0, 0, 1])
    soft = torch.tensor([[0.7, 0.1, 0.2, 0, 0, 0, 0]] * 3 + [[0.2, 0.6, 0.2, 0, 0, 0, 0]]).float()
    logits = torch.zeros(4, 7)
    equal = torch.ones(7)
    plain = distillation_loss(logits, soft, hard, 2.0, 0.0)
    assert float(distillation_loss(logits, soft, hard, 2.0, 0.0, kl_weights=equal)) == pytest.approx(float(plain))
    weights = class_weights(hard.numpy(), 1.0)  # class 1 three times class 0
    assert float(weights[1] / weights[0]) == pytest.approx(3.0)
    logits_rare_right = logits.clone()
    logits_rare_right[3] = torch.log(soft[3].clamp_min(1e-6)) * 2.0  # the rare face matches its teacher
    gain_plain = float(plain - distillation_loss(logits_rare_right, soft, hard, 2.0, 0.0))
    gain_weighted = float(distillation_loss(logits, soft, hard, 2.0, 0.0, kl_weights=weights)
                          - distillation_loss(logits_rare_right, soft, hard, 2.0, 0.0, kl_weights=weights))
    assert gain_plain > 0 and gain_weighted == pytest.approx(2 * gain_plain, rel=1e-4)  # weight 3/(3+3) vs 1/4
