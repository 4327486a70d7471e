"""ExpressionHeadNet: a small MLP over per-face expression features (see attune.expression.head)."""
from __future__ import annotations

import torch
from torch import nn


class ExpressionHeadNet(nn.Module):
    r"""Standardize, then one hidden layer (or none), to logits over the expression classes.

    .. math::
        z = W_2\,\mathrm{dropout}(\mathrm{GELU}(W_1 \frac{x - \mu}{\sigma} + b_1)) + b_2

    With ``hidden = 0`` it is multinomial logistic regression on the standardized features.

    Args:
        in_features: input size (HEAD_FEATURE_SIZE).
        classes: number of output classes.
        hidden: hidden units (0: no hidden layer).
        dropout: dropout on the standardized input and the hidden layer (training only).

    Shapes:
        input (N, in_features) float32 -> logits (N, classes).
    """

    mean: torch.Tensor  # buffers (register_buffer), declared for the type checker
    std: torch.Tensor

    def __init__(self, in_features: int, classes: int, hidden: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        if in_features < 1 or classes < 2 or hidden < 0 or not 0.0 <= dropout < 1.0:
            raise ValueError('ExpressionHeadNet: in_features >= 1, classes >= 2, hidden >= 0, 0 <= dropout < 1')
        self.register_buffer('mean', torch.zeros(in_features))
        self.register_buffer('std', torch.ones(in_features))
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        if hidden:
            layers += [nn.Linear(in_features, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, classes)]
        else:
            layers.append(nn.Linear(in_features, classes))
        self.layers = nn.Sequential(*layers)

    def set_standardization(self, x: torch.Tensor) -> None:
        """Use the mean and standard deviation of training inputs x (N, in_features)."""
        self.mean.copy_(x.mean(dim=0))
        self.std.copy_(x.std(dim=0).clamp_min(1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers((x - self.mean) / self.std)
        return out
