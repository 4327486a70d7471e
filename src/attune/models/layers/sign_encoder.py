"""SignEncoder: per-frame landmark features -> temporal features (shared by the isolated and the
continuous sign heads)."""
from __future__ import annotations

import torch
from torch import nn

from attune.models.layers.temporal_adapter import TemporalAdapter


class SignEncoder(nn.Module):
    r"""Frame-wise (spatial) MLP blocks with a TemporalAdapter before each.

    .. math::
        h^0_t &= \mathrm{GELU}(W_{in}\,((m \odot x_t - \mu) / \sigma)) \\
        h^{i}_t &= a_i(h^{i-1})_t + \mathrm{MLP}_i(\mathrm{LN}(a_i(h^{i-1})_t)) \\
        \mathrm{out} &= \mathrm{LN}(h^{L})

    where :math:`m` is the input mask (the feature groups this model uses; other columns are
    ignored), :math:`\mu, \sigma` the training data's per-feature mean and deviation (buffers, set
    with `set_normalization`), and :math:`a_i` a TemporalAdapter.

    Args:
        in_features: per-frame feature size F (attune.sign.features.FEATURE_DIM).
        dim: model width D.
        depth: number of blocks L.
        bottleneck: temporal adapter width.
        kernel_size: temporal kernel of each adapter.
        max_len: longest sequence.
        dropout: dropout inside the MLPs.

    Shapes:
        input: (B, T, F); output: (B, T, D).
    """

    input_mask: torch.Tensor  # buffers (register_buffer), declared for the type checker
    input_mean: torch.Tensor
    input_std: torch.Tensor
    max_len: int

    def __init__(self, in_features: int, dim: int = 96, depth: int = 3, bottleneck: int = 32,
                 kernel_size: int = 5, max_len: int = 512, dropout: float = 0.1) -> None:
        super().__init__()
        self.in_features, self.dim, self.max_len = in_features, dim, max_len
        self.register_buffer('input_mask', torch.ones(in_features))
        self.register_buffer('input_mean', torch.zeros(in_features))
        self.register_buffer('input_std', torch.ones(in_features))
        self.embed = nn.Linear(in_features, dim)
        self.act = nn.GELU()
        self.adapters = nn.ModuleList(
            TemporalAdapter(dim, bottleneck, kernel_size, max_len, dilation=2 ** (i % 2)) for i in range(depth))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(depth))
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))
            for _ in range(depth))
        self.out_norm = nn.LayerNorm(dim)

    def set_normalization(self, mask: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Use only the columns where mask is 1, standardized with mean and std (std floored)."""
        with torch.no_grad():
            self.input_mask.copy_(mask)
            self.input_mean.copy_(mean * mask)
            self.input_std.copy_(torch.where(mask > 0, std.clamp_min(1e-3), torch.ones_like(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x * self.input_mask - self.input_mean) / self.input_std
        h = self.act(self.embed(x))
        for adapter, norm, mlp in zip(self.adapters, self.norms, self.mlps):
            h = adapter(h)
            h = h + mlp(norm(h))
        out: torch.Tensor = self.out_norm(h)
        return out
