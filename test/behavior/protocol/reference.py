"""The name-call latency computed independently of attune.behavior.protocol (tests only): the definition
of docs/asd_emotion.md in a few lines of numpy, on a yaw trace {stamp_ns: yaw_deg}."""
from __future__ import annotations

import numpy as np


def reference_latency(yaws: dict[int, float], call_ns: int, baseline_s: float, threshold_deg: float,
                      confirm: int) -> float:
    """Seconds from the call to the head turn (RuntimeError when there is none)."""
    stamps = sorted(yaws)
    y0 = float(np.median([yaws[s] for s in stamps if call_ns - baseline_s * 1e9 <= s <= call_ns]))
    turn = {s: np.sign(y0) * (y0 - yaws[s]) for s in stamps if s > call_ns}
    after = sorted(turn)
    for i, s in enumerate(after):
        if len(after[i:i + confirm]) == confirm and all(turn[t] >= threshold_deg for t in after[i:i + confirm]):
            prev_s, prev_turn = (after[i - 1], turn[after[i - 1]]) if i else (call_ns, 0.0)
            crossing = prev_s + (threshold_deg - prev_turn) / (turn[s] - prev_turn) * (s - prev_s)
            return (crossing - call_ns) * 1e-9
    raise RuntimeError('no head turn past the threshold')
