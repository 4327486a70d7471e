"""SignEncoder: per-frame landmark features -> temporal features (shared by the isolated and the
continuous sign heads)."""
from __future__ import annotations

import torch
from torch import nn

from attune.models.layers.temporal_adapter import TemporalAdapter

#: Landmark chains whose consecutive bones' angles `joint_angles` reads: each finger from the wrist
#: (MediaPipe Hands numbering; the features' `shape` group holds landmark i at columns 2i, 2i + 1).
_CHAINS = ((0, 1, 2, 3, 4), (0, 5, 6, 7, 8), (0, 9, 10, 11, 12), (0, 13, 14, 15, 16), (0, 17, 18, 19, 20))
JOINT_ANGLES = 2 * sum(len(c) - 2 for c in _CHAINS)
_SHAPE_COLUMNS = 42


def joint_angles(x: torch.Tensor) -> torch.Tensor:
    """(B, T, F) features -> (B, T, JOINT_ANGLES): cosine and sine of the turn between consecutive
    bones of each finger's chain in the image (the `shape` columns). A straight finger stays straight
    in any view, however foreshortened (pointing toward the camera), and a curled one stays curled,
    which landmark positions alone do not say; a missing hand (zeros) gives zeros."""
    points = x[..., :42].reshape(*x.shape[:-1], 21, 2)
    out = []
    for chain in _CHAINS:
        joints = points[..., list(chain), :]
        bones = joints[..., 1:, :] - joints[..., :-1, :]
        unit = bones / bones.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        a, b = unit[..., :-1, :], unit[..., 1:, :]
        out.append((a * b).sum(-1))
        out.append(a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0])
    return torch.cat(out, dim=-1)


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
        joint_angles: 1: the frame embedding also reads `joint_angles` of the input (its shape
            columns), finger curl that survives foreshortening, for hand-shape vocabularies; 2: it
            reads them instead of the shape columns (landmark positions).

    Shapes:
        input: (B, T, F); output: (B, T, D).
    """

    input_mask: torch.Tensor  # buffers (register_buffer), declared for the type checker
    input_mean: torch.Tensor
    input_std: torch.Tensor
    max_len: int

    def __init__(self, in_features: int, dim: int = 96, depth: int = 3, bottleneck: int = 32,
                 kernel_size: int = 5, max_len: int = 512, dropout: float = 0.1, joint_angles: int = 0) -> None:
        super().__init__()
        self.in_features, self.dim, self.max_len = in_features, dim, max_len
        self.joint_angles = int(joint_angles)
        self.kept = in_features - (_SHAPE_COLUMNS if self.joint_angles == 2 else 0)
        self.register_buffer('input_mask', torch.ones(in_features))
        self.register_buffer('input_mean', torch.zeros(in_features))
        self.register_buffer('input_std', torch.ones(in_features))
        self.embed = nn.Linear(self.kept + (JOINT_ANGLES if joint_angles else 0), dim)
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
        normalized = (x * self.input_mask - self.input_mean) / self.input_std
        if self.joint_angles:
            kept = normalized[..., _SHAPE_COLUMNS:] if self.joint_angles == 2 else normalized
            normalized = torch.cat([kept, joint_angles(x * self.input_mask)], dim=-1)
        h = self.act(self.embed(normalized))
        for adapter, norm, mlp in zip(self.adapters, self.norms, self.mlps):
            h = adapter(h)
            h = h + mlp(norm(h))
        out: torch.Tensor = self.out_norm(h)
        return out
