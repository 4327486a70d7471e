"""CS3D: a spiking network of decomposed 3D convolutions for facial expressions in event windows."""
from __future__ import annotations

from typing import cast

import torch
from torch import nn
from torch.nn import functional

from attune.models.layers.decomposed_conv3d import DecomposedConv3d
from attune.models.layers.lif import LIF
from attune.models.layers.st_attention import SpatioTemporalAttention


class CS3D(nn.Module):
    r"""Spiking FER network after CS3D (decomposed C3D + soft-reset LIF neurons + spatio-temporal attention).

    Three stages; stage i is a DecomposedConv3d (spatial 1 x 3 x 3 with stride 2, LIF, temporal
    3 x 1 x 1) followed by LIF neurons; the last stage puts SpatioTemporalAttention on the current
    before its neurons. The head averages the last spikes over time and space (firing rates) and
    a linear layer gives the class scores. Every convolution receives spikes (the input frames are
    binary occupancy, see attune.events.representation), so an event-driven chip only accumulates.

    Args:
        num_classes: K.
        channels: output channels of the three stages.
        in_channels: input channels (2: OFF and ON).
        beta, threshold: LIF parameters.
        dropout: before the linear head (training only).
        readout: side of the grid the firing rates are averaged onto before the head (1: one rate per
            channel; 4: a 4 x 4 map per channel, so the head sees where on the face neurons fire).

    Shapes:
        input (B, 2, T, H, W) binary frames -> logits (B, K); `counted` also returns (B, 2) ops:
        [synaptic operations (accumulates), dense multiply-accumulates].
    """

    def __init__(self, num_classes: int, channels: tuple[int, int, int] = (16, 32, 64), in_channels: int = 2,
                 beta: float = 0.5, threshold: float = 1.0, dropout: float = 0.2, readout: int = 1) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f'CS3D: num_classes must be at least 2, got {num_classes}')
        chans = (in_channels, *channels)
        self.convs = nn.ModuleList(
            DecomposedConv3d(chans[i], chans[i + 1], 3, spatial_stride=2, mid=LIF(beta, threshold))
            for i in range(len(channels)))
        self.attention = SpatioTemporalAttention(channels[-1])
        self.neurons = nn.ModuleList(LIF(beta, threshold) for _ in channels)
        self.dropout = nn.Dropout(dropout)
        self.readout = int(readout)
        self.head = nn.Linear(channels[-1] * self.readout ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.counted(x)[0]

    def counted(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, K), ops (B, 2)): synaptic operations measured on this input's spikes, and the
        dense multiply-accumulates (neuron updates, attention, head) for its shapes."""
        if x.dim() != 5:
            raise ValueError(f'CS3D: input must be (B, C, T, H, W), got shape {tuple(x.shape)}')
        synaptic = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        dense = torch.zeros_like(synaptic)
        last = len(self.convs) - 1
        for i, (conv, neurons) in enumerate(zip(self.convs, self.neurons)):
            x, ops, updates = cast(DecomposedConv3d, conv).counted(x)
            synaptic = synaptic + ops
            dense = dense + updates + float(x[0].numel())  # LIF updates inside the block and after it
            if i == last:
                dense = dense + float(self.attention.macs(tuple(x.shape[1:])))
                x = self.attention(x)
            x = neurons(x)
        synaptic = synaptic + x.flatten(1).sum(dim=1)     # rate pooling: one accumulate per spike
        rates = functional.adaptive_avg_pool2d(x.mean(dim=2), self.readout).flatten(1)
        dense = dense + float(self.head.in_features * self.head.out_features)
        return self.head(self.dropout(rates)), torch.stack([synaptic, dense], dim=1)
