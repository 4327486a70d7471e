"""TemporalAdapter: a lightweight temporal adapter with positional embeddings (after USTM's TAPE).

USTM (Unified Spatio-Temporal Modeling for continuous sign recognition) adds small temporal
adapters with positional embeddings between the blocks of a frame-wise (spatial) backbone; this
module is that idea on per-frame landmark features instead of Swin Transformer patches.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class TemporalAdapter(nn.Module):
    r"""Residual bottleneck adapter that mixes information across time.

    .. math::
        z &= W_{down}\,\mathrm{LN}(x_t) + P_t \\
        z &= \mathrm{GELU}(\mathrm{DWConv}_k(z)) \\
        y_t &= x_t + W_{up}\, z_t

    where :math:`P_t` is a learned positional embedding (initialized sinusoidal) and
    :math:`\mathrm{DWConv}_k` a depthwise convolution over time with kernel `k` and 'same'
    padding. :math:`W_{up}` starts at zero, so a new adapter is the identity.

    Args:
        dim: feature size D of the backbone.
        bottleneck: adapter width r (r << D keeps it light).
        kernel_size: temporal receptive field of one adapter (odd).
        max_len: the longest sequence accepted (positional table size).
        dilation: temporal dilation of the convolution.

    Shapes:
        input: (B, T, D) with T <= max_len; output: (B, T, D).
    """

    def __init__(self, dim: int, bottleneck: int, kernel_size: int = 5, max_len: int = 512,
                 dilation: int = 1) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'TemporalAdapter: kernel_size must be odd, got {kernel_size}')
        self.dim, self.bottleneck, self.max_len = dim, bottleneck, max_len
        self.norm = nn.LayerNorm(dim)
        self.down = nn.Linear(dim, bottleneck)
        self.position = nn.Parameter(torch.zeros(max_len, bottleneck))
        self.conv = nn.Conv1d(bottleneck, bottleneck, kernel_size, padding=dilation * (kernel_size // 2),
                              dilation=dilation, groups=bottleneck)
        self.act = nn.GELU()
        self.up = nn.Linear(bottleneck, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.norm.reset_parameters()
        self.down.reset_parameters()
        self.conv.reset_parameters()
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)
        with torch.no_grad():
            self.position.copy_(sinusoidal_positions(self.max_len, self.bottleneck) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.down(self.norm(x)) + self.position[: x.shape[1]]
        z = self.act(self.conv(z.transpose(1, 2))).transpose(1, 2)
        out: torch.Tensor = x + self.up(z)
        return out


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """(length, dim) sine/cosine positional table (Vaswani et al.)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: dim // 2])
    return table
