"""The C3D twin of CS3D: the same depth and widths with full 3D convolutions and ReLU (no spikes)."""
from __future__ import annotations

from typing import cast

import torch
from torch import nn
from torch.nn import functional

from attune.models.layers.ops import conv_macs


class C3DTwin(nn.Module):
    r"""A plain C3D (Tran et al., ICCV 2015) of the same depth as CS3D, the baseline of the comparison.

    Stage i: Conv3d 3 x 3 x 3 (stride 1 x 2 x 2) + BN + ReLU, with CS3D's channels; then global
    average pooling and a linear head. Every operation is a dense multiply-accumulate.

    Shapes:
        input (B, 2, T, H, W) -> logits (B, K); `counted` also returns (B, 2) ops: [0, MACs].
    """

    def __init__(self, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64), in_channels: int = 2,
                 dropout: float = 0.2, readout: int = 1) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f'C3DTwin: num_classes must be at least 2, got {num_classes}')
        chans = (in_channels, *channels)
        self.convs = nn.ModuleList(nn.Conv3d(chans[i], chans[i + 1], 3, stride=(1, 2, 2), padding=1, bias=False)
                                   for i in range(len(channels)))
        self.norms = nn.ModuleList(nn.BatchNorm3d(c) for c in channels)
        self.dropout = nn.Dropout(dropout)
        self.readout = int(readout)  # as CS3D's: activations averaged onto a readout x readout grid
        self.head = nn.Linear(channels[-1] * self.readout ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.counted(x)[0]

    def counted(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 5:
            raise ValueError(f'C3DTwin: input must be (B, C, T, H, W), got shape {tuple(x.shape)}')
        macs = 0
        for conv, norm in zip(self.convs, self.norms):
            x = conv(x)
            macs += conv_macs(cast(nn.Conv3d, conv), x)
            x = torch.relu(norm(x))
        macs += self.head.in_features * self.head.out_features
        pooled = functional.adaptive_avg_pool2d(x.mean(dim=2), self.readout).flatten(1)
        logits = self.head(self.dropout(pooled))
        zeros = logits.new_zeros(logits.shape[0])
        return logits, torch.stack([zeros, zeros + float(macs)], dim=1)
