"""Spatio-temporal attention: reweights a (B, C, T, H, W) current along time, channels and space."""
from __future__ import annotations

import torch
from torch import nn


class SpatioTemporalAttention(nn.Module):
    r"""Multiplicative attention over time steps, channels and pixels (before a spiking layer).

    .. math::
        y = x \odot a_T \odot a_C \odot a_S, \quad
        a_T = \sigma(\mathrm{conv1d}_k([\bar{x}_{C,H,W}; \max_{C,H,W} x])), \;
        a_C = \sigma(W_2\,\mathrm{ReLU}(W_1 \bar{x}_{T,H,W})), \;
        a_S = \sigma(\mathrm{conv2d}_k([\bar{x}_{C,T}; \max_{C,T} x]))

    Temporal attention lets the neurons weigh the moments of a window that carry the expression
    (onset, apex), channel attention (squeeze-and-excitation, Hu et al. 2018) the features, spatial
    attention (CBAM, Woo et al. 2018) the face regions. Applied to the input current of a spiking
    layer, it shapes which neurons fire (as multi-dimensional attention SNNs do, Yao et al. 2023).
    The attention itself is dense arithmetic; `macs()` counts it for the energy comparison.

    Args:
        channels: C.
        reduction: channel-attention bottleneck ratio.
        kernel_size: kernel of the temporal (1D) and spatial (2D) attention convolutions.

    Shapes:
        input (B, C, T, H, W) -> output (B, C, T, H, W).
    """

    def __init__(self, channels: int, reduction: int = 4, kernel_size: int = 3) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        p = kernel_size // 2
        self.temporal = nn.Conv1d(2, 1, kernel_size, padding=p)
        self.channel = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels))
        self.spatial = nn.Conv2d(2, 1, kernel_size, padding=p)
        self.kernel_size = kernel_size
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            raise ValueError(f'SpatioTemporalAttention: input must be (B, C, T, H, W), got {tuple(x.shape)}')
        b, c, t, _, _ = x.shape
        a_t = torch.stack([x.mean(dim=(1, 3, 4)), x.amax(dim=(1, 3, 4))], dim=1)       # (B, 2, T)
        a_t = torch.sigmoid(self.temporal(a_t)).view(b, 1, t, 1, 1)
        a_c = torch.sigmoid(self.channel(x.mean(dim=(2, 3, 4)))).view(b, c, 1, 1, 1)
        a_s = torch.cat([x.mean(dim=(1, 2)).unsqueeze(1), x.amax(dim=(1, 2)).unsqueeze(1)], dim=1)  # (B, 2, H, W)
        a_s = torch.sigmoid(self.spatial(a_s)).unsqueeze(2)                          # (B, 1, 1, H, W)
        return x * a_t * a_c * a_s

    def macs(self, shape: tuple[int, ...]) -> int:
        """Multiply-accumulates for one sample of shape (C, T, H, W): pooling (2 per element for each
        of the three descriptors), the three products, and the small attention layers."""
        c, t, h, w = shape
        n = c * t * h * w
        k = self.kernel_size
        hidden = self.hidden
        layers = 2 * k * t + (c * hidden + hidden * c) + 2 * k * k * h * w
        return 6 * n + 3 * n + layers
