"""Energy of one inference from counted operations (no torch): the spiking model's accumulates and
multiply-accumulates against the dense twin's multiply-accumulates.

Per-op energies (OpEnergy defaults) are those of 32-bit floating point in 45 nm CMOS from
M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014: a float add
0.9 pJ, a float multiply 3.7 pJ, so a multiply-accumulate (MAC) 4.6 pJ and an accumulate (AC, what a
spike arriving at a synapse costs) 0.9 pJ. These are the values SNN papers use for this comparison
(e.g. Spikformer, ICLR 2023); memory access is not counted, for either model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class OpEnergy:
    """Energy per operation in picojoules, and where the numbers come from."""

    mac_pj: float = 4.6
    ac_pj: float = 0.9
    source: str = 'Horowitz, ISSCC 2014: 45 nm CMOS, 32-bit float (add 0.9 pJ, multiply 3.7 pJ)'

    def energy_pj(self, ops: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Energy per window of (N, 2) ops rows [accumulates, MACs], in pJ."""
        ops = np.asarray(ops, dtype=np.float64).reshape(-1, 2)
        return ops[:, 0] * self.ac_pj + ops[:, 1] * self.mac_pj


@dataclass(frozen=True)
class EnergyComparison:
    """Mean per-window operations and energies of a spiking model and its dense twin on the same windows."""

    windows: int
    snn_acs: float
    snn_macs: float
    dense_macs: float
    snn_uj: float
    dense_uj: float

    @property
    def ratio(self) -> float:
        """Spiking energy as a fraction of the dense twin's (the paper reports 0.2197 for CS3D vs C3D)."""
        return self.snn_uj / self.dense_uj if self.dense_uj > 0 else float('nan')

    def as_dict(self) -> dict[str, float]:
        return {'windows': self.windows, 'snn_accumulates': self.snn_acs, 'snn_macs': self.snn_macs,
                'dense_macs': self.dense_macs, 'snn_energy_uJ': self.snn_uj, 'dense_energy_uJ': self.dense_uj,
                'energy_ratio': self.ratio}


def compare_energy(snn_ops: npt.NDArray[Any], dense_ops: npt.NDArray[Any],
                   energy: OpEnergy | None = None) -> EnergyComparison:
    """Mean energies over windows from the (N, 2) ops of both models on the same N windows."""
    energy = energy or OpEnergy()
    snn_ops = np.asarray(snn_ops, dtype=np.float64).reshape(-1, 2)
    dense_ops = np.asarray(dense_ops, dtype=np.float64).reshape(-1, 2)
    n = len(snn_ops)
    if n == 0 or len(dense_ops) != n:
        raise ValueError(f'need the same, non-zero number of windows for both models ({n} vs {len(dense_ops)})')
    return EnergyComparison(windows=n, snn_acs=float(snn_ops[:, 0].mean()), snn_macs=float(snn_ops[:, 1].mean()),
                            dense_macs=float(dense_ops[:, 1].mean() + dense_ops[:, 0].mean()),
                            snn_uj=float(energy.energy_pj(snn_ops).mean() * 1e-6),
                            dense_uj=float(energy.energy_pj(dense_ops).mean() * 1e-6))
