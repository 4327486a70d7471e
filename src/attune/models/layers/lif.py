"""Leaky integrate-and-fire neurons with a soft reset and a surrogate gradient, in plain torch."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class _ArctanSpike(torch.autograd.Function):
    """Heaviside forward, arctan-surrogate backward (used only while autograd records)."""

    @staticmethod
    def forward(ctx: Any, v: torch.Tensor, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(v)
        ctx.alpha = alpha
        return (v >= 0).to(v.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (v,) = ctx.saved_tensors
        a = ctx.alpha
        return grad * (a / 2) / (1 + (math.pi / 2 * a * v) ** 2), None


#: The autograd function's entry point, typed (torch leaves Function.apply unannotated).
_arctan_spike: Callable[[torch.Tensor, float], torch.Tensor] = _ArctanSpike.apply


def spike(v: torch.Tensor, alpha: float) -> torch.Tensor:
    """Heaviside step H(v) (1.0 where v >= 0) whose gradient is the arctan surrogate.

    Forward: exactly H(v). Backward (when autograd records): d/dv of atan(pi/2 * alpha * v) / pi,
    i.e. alpha / 2 / (1 + (pi/2 * alpha * v)^2) (Fang et al., ICCV 2021). Without autograd (inference,
    ONNX export) it is a plain comparison, so the exported graph holds no custom operator.
    """
    if torch.is_grad_enabled() and v.requires_grad:
        return _arctan_spike(v, alpha)
    return (v >= 0).to(v.dtype)


class LIF(nn.Module):
    r"""Leaky integrate-and-fire neurons that run along the time axis (dim 2) of their input.

    .. math::
        u_t = \beta u_{t-1} + x_t, \quad s_t = H(u_t - \vartheta), \quad u_t \leftarrow u_t - \vartheta s_t

    The reset is soft (subtract the threshold, keep the rest), so a strong input fires at a rate
    proportional to its size instead of losing what exceeded the threshold (Rueckauer et al. 2017).
    The reset is detached from the graph (a common stabilizer, as SpikingJelly's `detach_reset`).
    Stateless between calls: every forward starts from u_0 = 0 (a window is one sample).

    Args:
        beta: membrane decay per time step, in [0, 1) (0.5: time constant of 2 steps).
        threshold: firing threshold.
        alpha: sharpness of the arctan surrogate gradient.

    Shapes:
        input: (B, C, T, ...) input current; output: same shape, spikes in {0, 1}.

    Example:
        >>> lif = LIF(beta=0.5)
        >>> lif(torch.tensor([[[0.6, 0.6, 0.6]]]))  # u: 0.6, 0.9, 1.05 -> spike -> 0.05
        tensor([[[0., 0., 1.]]])
    """

    def __init__(self, beta: float = 0.5, threshold: float = 1.0, alpha: float = 2.0) -> None:
        super().__init__()
        if not 0.0 <= beta < 1.0:
            raise ValueError(f'LIF: beta must be in [0, 1), got {beta}')
        if threshold <= 0:
            raise ValueError(f'LIF: threshold must be positive, got {threshold}')
        self.beta, self.threshold, self.alpha = float(beta), float(threshold), float(alpha)

    def extra_repr(self) -> str:
        return f'beta={self.beta}, threshold={self.threshold}, alpha={self.alpha}'

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3:
            raise ValueError(f'LIF: input must be (B, C, T, ...), got shape {tuple(x.shape)}')
        u = torch.zeros_like(x[:, :, 0])
        out = []
        for t in range(x.shape[2]):
            u = self.beta * u + x[:, :, t]
            s = spike(u - self.threshold, self.alpha)
            u = u - s.detach() * self.threshold
            out.append(s)
        return torch.stack(out, dim=2)
