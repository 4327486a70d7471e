"""A seed ensemble of ASD emotion models as one network (`attune train asd-emotion --member A.pt --member B.pt`).

Members are runs with the same settings and split that differ in their training seed (`--train-seed`);
each was saved with `--save-torch`. The ensemble averages their logits, which cuts the seed-to-seed
variance that made single fine-tuned runs impossible to tell apart on a few hundred validation people,
then tunes per-class bias offsets on the validation people like a single run. It exports as one ONNX graph
with the single model's inputs and outputs, so the runtime (attune.affect.model) does not change; its cost
per face is the members' added up.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from attune.affect.dataset import FaceDataset
from attune.emotions import EMOTIONS
from attune.models.training.asd_emotion_metrics import softmax, tune_biases
from attune.models.training.asd_emotion_training import (
    TrainConfig,
    TrainResult,
    build_model,
    evaluate,
    predict,
    split,
    to_tensors,
)


class MeanLogits(nn.Module):
    """Mean of the members' logits plus per-class offsets (`offsets`, a buffer: tuned, not trained).

    Shapes:
        - inputs: as each member's (crop (B, 1, S, S), landmarks (B, 478, 3))
        - output: (B, num_classes) logits
    """

    offsets: Tensor

    def __init__(self, members: Sequence[nn.Module], num_classes: int = len(EMOTIONS)) -> None:
        super().__init__()
        if not members:
            raise ValueError('an ensemble needs at least one member')
        self.members = nn.ModuleList(members)
        self.register_buffer('offsets', torch.zeros(num_classes))

    def forward(self, crop: Tensor, landmarks: Tensor) -> Tensor:
        logits = torch.stack([member(crop, landmarks) for member in self.members]).mean(dim=0)
        return logits + self.offsets


def combine(data: FaceDataset, config: TrainConfig, states: Sequence[Mapping[str, Tensor]],
            tune_bias: bool = True, log: Any = print) -> TrainResult:
    """The ensemble of networks with `config`'s architecture and these weights, as a TrainResult (offsets
    tuned on the validation people of `config`'s split, every split evaluated) for export and model card.

    Raises:
        ValueError: no members, or weights that do not fit `config`'s architecture.
    """
    members = []
    for state in states:
        member = build_model(config)
        try:
            member.load_state_dict(dict(state))
        except RuntimeError as exc:
            raise ValueError(f'member weights do not fit the settings given: {exc}') from None
        members.append(member.eval())
    model = MeanLogits(members).eval()
    parts = split(data, config)
    history: list[dict[str, Any]] = [{'members': len(members)}]
    val = data.subset(parts.val)
    labelled = val.hard >= 0
    if tune_bias and labelled.any():
        offsets = tune_biases(predict(model, to_tensors(val, config.input_size))[labelled], val.hard[labelled])
        model.offsets.copy_(torch.tensor(offsets, dtype=torch.float32))
        history.append({'bias_offsets': [round(float(x), 3) for x in offsets]})
        if log:
            log(f'{len(members)} members; class bias offsets from the validation people: '
                f'{np.round(offsets, 2).tolist()}')
    evaluation = evaluate(model, data, parts, config.input_size)
    train_hard = data.hard[parts.train]
    neutral = train_hard == EMOTIONS.index('neutral')
    train = data.subset(parts.train)
    reference = (softmax(predict(model, to_tensors(train.subset(neutral), config.input_size))).mean(axis=0)
                 if neutral.any() else np.full(len(EMOTIONS), 1.0 / len(EMOTIONS)))
    majority = int(np.bincount(train_hard[train_hard >= 0], minlength=len(EMOTIONS)).argmax()) \
        if (train_hard >= 0).any() else 0
    return TrainResult(model, config, parts, history, evaluation, reference.astype(np.float64), 0.0, majority)
