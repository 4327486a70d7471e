"""Feature-level training augmentation of sign windows (torch): what happens to a stream between
the landmarks and the model.

Signer and camera variation (hand proportions, tilt, roll, distance, handedness, jitter) is applied
to the landmarks themselves, before the features (attune.sign.augment). Here: a camera roll and an
x-scale acting directly on the image-axis feature groups (used where landmarks are not re-rendered:
composed continuous sequences), shape noise, a hand lost for a few frames and bridged like the live
extractor does, and sequences shorter than the window.
"""
from __future__ import annotations

import math

import torch

from attune.sign.features import GROUPS, IMAGE_PAIRS, SHAPE_PAIRS, VELOCITY_GROUPS

_X = torch.tensor([p[0] for p in IMAGE_PAIRS])
_Y = torch.tensor([p[1] for p in IMAGE_PAIRS])
_SHAPE_X = torch.tensor([p[0] for p in SHAPE_PAIRS])
_VELOCITY = torch.tensor([c for g in VELOCITY_GROUPS for c in range(*GROUPS[g])])
_PRESENCE = GROUPS['presence'][0]


def augment(x: torch.Tensor, generator: torch.Generator, *, mirror: bool, rotation_deg: float = 12.0,
            aspect: float = 0.15, noise: float = 0.03, gaps: bool = True, short: bool = True) -> torch.Tensor:
    """Random camera roll (+-rotation_deg: turns the image-axis groups, the rotation-normalized shapes
    stay), x-scale (1 +- aspect: an unknown aspect), shape noise (standard deviation `noise`),
    mirroring; a hand missing for 1-3
    frames (bridged like the live extractor does: the last frame repeated without velocity); a
    sequence shorter than the window (padded in front like pad_window). x: (B, T, F)."""
    b, t, _ = x.shape
    x = x.clone()
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(rotation_deg)
    scale = 1.0 - aspect + 2 * aspect * torch.rand(b, generator=generator)
    if mirror:
        scale = scale * torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    xs, ys = x[..., _X] * scale[:, None, None], x[..., _Y]
    x[..., _X] = cos * xs - sin * ys
    x[..., _Y] = sin * xs + cos * ys
    x[..., _SHAPE_X] *= torch.sign(scale)[:, None, None]
    present = x[..., _PRESENCE:_PRESENCE + 1]
    shape = slice(*GROUPS['shape'])
    x[..., shape] += noise * torch.randn(x[..., shape].shape, generator=generator) * present
    if gaps and t > 4:
        for i in torch.nonzero(torch.rand(b, generator=generator) < 0.15).flatten().tolist():
            start = int(torch.randint(1, t - 3, (1,), generator=generator))
            length = int(torch.randint(1, 4, (1,), generator=generator))
            x[i, start:start + length] = x[i, start - 1]
            x[i, start:start + length, _VELOCITY] = 0.0
    if short and t > 4:
        for i in torch.nonzero(torch.rand(b, generator=generator) < 0.1).flatten().tolist():
            keep = int(torch.randint(2, t, (1,), generator=generator))
            first = x[i, t - keep].clone()
            first[_VELOCITY] = 0.0
            x[i, : t - keep] = first
    return x
