"""IsolatedSignClassifier: one gloss for a window of frames."""
from __future__ import annotations

import torch
from torch import nn

from attune.models.layers.sign_encoder import SignEncoder


class IsolatedSignClassifier(nn.Module):
    r"""SignEncoder + attention pooling over time + a linear classifier.

    .. math::
        \alpha = \mathrm{softmax}_t(w^\top h_t), \qquad
        \mathrm{logits} = W \sum_t \alpha_t h_t + b

    Args:
        encoder: the SignEncoder.
        num_classes: vocabulary size C.

    Shapes:
        input: (B, T, F); output: (B, C) logits (softmax gives the gloss probabilities).
    """

    def __init__(self, encoder: SignEncoder, num_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.num_classes = num_classes
        self.score = nn.Linear(encoder.dim, 1)
        self.head = nn.Linear(encoder.dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        weights = torch.softmax(self.score(h), dim=1)
        out: torch.Tensor = self.head((weights * h).sum(dim=1))
        return out
