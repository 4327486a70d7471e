"""A 3D convolution decomposed into a spatial (1 x k x k) and a temporal (k x 1 x 1) part."""
from __future__ import annotations

import torch
from torch import nn

from attune.models.layers.ops import conv_synaptic_ops


class DecomposedConv3d(nn.Module):
    r"""(1 x k x k) spatial convolution + BN, a neuron in between, (k x 1 x 1) temporal convolution + BN.

    A full k x k x k kernel costs C_in * k^3 multiply-adds per output; the decomposition costs
    C_in * k^2 + C_out * k (R(2+1)D, Tran et al. CVPR 2018; CS3D's decomposition of C3D). With a
    spiking neuron between the two parts (the `mid` module, e.g. LIF) both convolutions receive
    spikes, so on neuromorphic hardware both are accumulate-only.

    Implementation: the (1 x k x k) part is a Conv2d applied to every time step (time folded into
    the batch) and the (k x 1 x 1) part a (k x 1) Conv2d over (T, H*W); both are exactly the 3D
    convolutions with those kernels, and much faster than Conv3d on CPUs.

    Args:
        in_channels, out_channels: channels in and out (the spatial part maps in -> out).
        kernel_size: k, the same spatially and temporally (odd).
        spatial_stride: stride of the spatial part in H and W (time keeps its length).
        mid: the module between the two parts, on (B, C, T, H, W) (default: identity).

    Shapes:
        input (B, C_in, T, H, W) -> output (B, C_out, T, H', W'), H' = ceil(H / s) for odd k.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, spatial_stride: int = 1,
                 mid: nn.Module | None = None) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'DecomposedConv3d: kernel_size must be odd, got {kernel_size}')
        p = kernel_size // 2
        self.spatial = nn.Conv2d(in_channels, out_channels, kernel_size, stride=spatial_stride, padding=p,
                                 bias=False)
        self.bn_spatial = nn.BatchNorm3d(out_channels)
        self.mid = mid if mid is not None else nn.Identity()
        self.temporal = nn.Conv2d(out_channels, out_channels, (kernel_size, 1), padding=(p, 0), bias=False)
        self.bn_temporal = nn.BatchNorm3d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.counted(x)[0]

    def counted(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(output, synaptic operations, neuron updates) per sample, (B,) each.

        Synaptic operations are input x fan-out of both convolutions, exact at the borders; they
        are accumulates when the inputs are spikes (x and the mid module's output in {0, 1}).
        Neuron updates: elements entering `mid` (one membrane update each).
        """
        if x.dim() != 5:
            raise ValueError(f'DecomposedConv3d: input must be (B, C, T, H, W), got {tuple(x.shape)}')
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        ops = conv_synaptic_ops(self.spatial, frames).view(b, t).sum(dim=1)
        y = self.spatial(frames)
        _, co, ho, wo = y.shape
        y = self.bn_spatial(y.view(b, t, co, ho, wo).transpose(1, 2))
        updates = torch.full_like(ops, float(y[0].numel()))
        y = self.mid(y)
        seq = y.reshape(b, co, t, ho * wo)
        ops = ops + conv_synaptic_ops(self.temporal, seq)
        out = self.temporal(seq).view(b, co, t, ho, wo)
        return self.bn_temporal(out), ops, updates
