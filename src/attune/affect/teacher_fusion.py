"""What the ASD emotion node publishes: the network's probabilities pooled with its teacher's (no rclpy).

The network (CNN + GCN, distilled from the expression teacher) alone is less accurate than its teacher
on people neither saw (docs/asd_emotion.md: macro-F1 0.455 vs 0.486, accuracy 0.70 vs 0.75), yet the two
err differently. Their log-linear pool

    fused = softmax(w * log p_network + (1 - w) * log p_teacher + offsets)

with the weight w and per-class offsets chosen on the validation people (tools/fit_asd_teacher_fusion.py)
is what the node reports; the network alone stays available (`teacher_fusion` off) and is reported
beside it by bench/asd_emotion.py. The pool's settings live in the network's ONNX metadata (key
`teacher_fusion`), fitted against that network, with the mean pooled output on neutral training faces
as the reference of the per-child calibration.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.errors import ModelFileError

#: Probabilities are clipped to this before the logarithm (a teacher that is certain is not infinitely so).
FLOOR = 1e-6


@dataclass(frozen=True)
class TeacherFusion:
    """network_weight: w above, in [0, 1]; offsets: per class, EMOTIONS order; neutral_reference: the
    mean pooled output on neutral training faces."""

    network_weight: float
    offsets: tuple[float, ...]
    neutral_reference: tuple[float, ...]

    def __post_init__(self) -> None:
        if not 0.0 <= self.network_weight <= 1.0:
            raise ModelFileError(f'teacher fusion: network weight must be in [0, 1], got {self.network_weight}')
        for name in ('offsets', 'neutral_reference'):
            values = getattr(self, name)
            if len(values) != len(EMOTIONS) or not all(np.isfinite(values)):
                raise ModelFileError(f'teacher fusion: {name} must be {len(EMOTIONS)} finite numbers, got {values}')

    def fuse(self, network: npt.ArrayLike, teacher: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """(B, 7) pooled probabilities of (B, 7) network and teacher probabilities (EMOTIONS order)."""
        network, teacher = np.atleast_2d(network), np.atleast_2d(teacher)
        if network.shape != teacher.shape or network.shape[-1] != len(EMOTIONS):
            raise ValueError(f'network {network.shape} and teacher {teacher.shape} must both be (B, {len(EMOTIONS)})')
        w = self.network_weight
        z = (w * np.log(np.clip(network, FLOOR, 1.0)) + (1.0 - w) * np.log(np.clip(teacher, FLOOR, 1.0))
             + np.asarray(self.offsets))
        z -= z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        pooled: npt.NDArray[np.float32] = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
        return pooled

    def to_dict(self) -> dict[str, Any]:
        return {'network_weight': round(float(self.network_weight), 6),
                'offsets': [round(float(x), 6) for x in self.offsets],
                'neutral_reference': [round(float(x), 6) for x in self.neutral_reference]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TeacherFusion:
        try:
            return cls(float(d['network_weight']), tuple(float(x) for x in d['offsets']),
                       tuple(float(x) for x in d['neutral_reference']))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f'teacher fusion: unreadable settings {d!r}: {exc}') from None
