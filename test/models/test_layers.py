"""The spiking model's layers: exact LIF recurrences, surrogate gradients, the decomposed convolution
against Conv3d, synaptic-operation counting against brute force, and both networks' shapes and ops."""
from __future__ import annotations

import pytest

torch = pytest.importorskip('torch')

from torch import nn  # noqa: E402

from attune.models.layers.c3d import C3DTwin  # noqa: E402
from attune.models.layers.cs3d import CS3D  # noqa: E402
from attune.models.layers.decomposed_conv3d import DecomposedConv3d  # noqa: E402
from attune.models.layers.lif import LIF  # noqa: E402
from attune.models.layers.ops import conv_synaptic_ops  # noqa: E402
from attune.models.layers.st_attention import SpatioTemporalAttention  # noqa: E402


def test_lif_two_step_recurrence_with_soft_reset() -> None:
    lif = LIF(beta=0.5, threshold=1.0)
    x = torch.tensor([[[0.6, 0.6, 0.6, 0.0, 2.5]]])
    # u: 0.6; 0.9; 1.05 -> spike, 0.05; 0.025; 2.5125 -> spike, 1.5125 (soft reset keeps the excess)
    assert lif(x).tolist() == [[[0.0, 0.0, 1.0, 0.0, 1.0]]]
    # 2.5 -> spike, 1.5 kept; 0.75 + 0.6 = 1.35 -> spike again (a hard reset to 0 would give 0.6: no spike)
    assert lif(torch.tensor([[[2.5, 0.6]]])).tolist() == [[[1.0, 1.0]]]
    with pytest.raises(ValueError, match='beta'):
        LIF(beta=1.0)


def test_lif_surrogate_gradient_flows_and_peaks_at_threshold() -> None:
    lif = LIF(beta=0.0, threshold=1.0, alpha=2.0)
    x = torch.tensor([[[0.0, 0.9, 1.0, 1.1, 3.0]]], requires_grad=True)
    lif(x).sum().backward()
    g = x.grad[0, 0]
    assert g[2] == pytest.approx(1.0) and g[1] == g[3] and 0 < g[4] < g[1] < g[2]


def test_decomposed_conv_equals_two_conv3d_with_the_same_kernels() -> None:
    torch.manual_seed(0)
    block = DecomposedConv3d(2, 4, 3, spatial_stride=2).eval()
    x = torch.rand(2, 2, 5, 9, 9)
    spatial = nn.Conv3d(2, 4, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False)
    temporal = nn.Conv3d(4, 4, (3, 1, 1), padding=(1, 0, 0), bias=False)
    spatial.weight.data = block.spatial.weight.data.unsqueeze(2)
    temporal.weight.data = block.temporal.weight.data.unsqueeze(-1)
    expected = block.bn_temporal(temporal(block.bn_spatial(spatial(x))))
    assert torch.allclose(block(x), expected, atol=1e-5)
    assert block(x).shape == (2, 4, 5, 5, 5)


def test_synaptic_ops_equal_spikes_times_exact_fan_out() -> None:
    conv = nn.Conv2d(1, 3, 3, stride=2, padding=1, bias=False)
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 0, 0] = 1  # corner: only output (0, 0) sees it -> 1 position x 3 channels
    x[0, 0, 1, 1] = 1  # between two stride-2 centres: outputs rows {0, 1} x cols {0, 1} -> 4 positions
    brute = 0
    for r in range(5):
        for c in range(5):
            if x[0, 0, r, c]:
                probe = torch.zeros_like(x)
                probe[0, 0, r, c] = 1
                conv.weight.data.fill_(1.0)
                brute += int((conv(probe) != 0).sum())
    assert conv_synaptic_ops(conv, x).item() == brute == 3 * (1 + 4)


def test_networks_shapes_and_ops() -> None:
    torch.manual_seed(0)
    x = (torch.rand(3, 2, 8, 32, 32) < 0.1).float()
    snn, twin = CS3D(7).eval(), C3DTwin(7).eval()
    with torch.no_grad():
        logits, ops = snn.counted(x)
        twin_logits, twin_ops = twin.counted(x)
    assert logits.shape == twin_logits.shape == (3, 7) and ops.shape == twin_ops.shape == (3, 2)
    assert torch.all(ops[:, 0] > 0) and torch.all(twin_ops[:, 0] == 0)
    # The twin's MACs from its shapes: 3 stages of 3x3x3 convolutions + the head.
    expected = 16 * 8 * 16 * 16 * 2 * 27 + 32 * 8 * 8 * 8 * 16 * 27 + 64 * 8 * 4 * 4 * 32 * 27 + 64 * 7
    assert twin_ops[0, 1].item() == expected
    # The spiking model's dense part (neuron updates, attention, head) is small next to the twin's.
    assert ops[0, 1] < 0.05 * expected
    attention = SpatioTemporalAttention(64)
    assert attention(torch.rand(2, 64, 8, 4, 4)).shape == (2, 64, 8, 4, 4)
