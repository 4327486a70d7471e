"""Operation counting for the energy comparison: synaptic operations of spiking layers (measured on
the actual spikes) and multiply-accumulates of dense layers (from the actual shapes)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


def conv_synaptic_ops(conv: nn.Conv2d | nn.Conv3d, inputs: torch.Tensor) -> torch.Tensor:
    """Synaptic operations of `conv` on `inputs`: sum over input elements of value x fan-out, (B,).

    Fan-out of an input element = the number of (output position, output channel) pairs whose
    receptive field holds it, so borders, stride and padding are exact: computed as a convolution
    of the channel-summed input with an all-ones kernel, times out_channels / groups. For spike
    inputs (0/1) this is the number of accumulates an event-driven chip performs. `inputs` is what
    the layer receives: (B, C, ...) with the conv's spatial dimensions last.
    """
    ones = torch.ones((1, 1, *conv.kernel_size), dtype=inputs.dtype, device=inputs.device)
    conv_fn = functional.conv3d if isinstance(conv, nn.Conv3d) else functional.conv2d
    covered = conv_fn(inputs.sum(dim=1, keepdim=True), ones, stride=conv.stride, padding=conv.padding,
                      dilation=conv.dilation)
    return covered.flatten(1).sum(dim=1) * (conv.out_channels // conv.groups)


def conv_macs(conv: nn.Conv2d | nn.Conv3d, output: torch.Tensor) -> int:
    """Multiply-accumulates of a dense convolution that produced `output`: outputs x C_in/groups x kernel."""
    k = 1
    for v in conv.kernel_size:
        k *= v
    return int(output[0].numel()) * (conv.in_channels // conv.groups) * k
