"""One attune/Expression as a ROS-free dataclass: a face's label distribution from one source
(attune.ros.msg_expression converts it to and from the message)."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ExpressionObservation:
    """An attune/Expression, less its header (valence/arousal NaN when the source does not estimate
    them; no action units when it has none).

    source: 'ensemble', one of the expression node's sources, or another recognizer's (spiking FER).
    calibrated: the distribution was corrected by the person's calibration.
    """

    face_id: str
    source: str
    label: str
    confidence: float
    labels: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    valence: float = math.nan
    arousal: float = math.nan
    action_units: tuple[str, ...] = ()
    au_intensities: tuple[float, ...] = ()
    calibrated: bool = False

    def action_unit_intensities(self) -> dict[str, float]:
        """{AU name: intensity}."""
        return dict(zip(self.action_units, self.au_intensities))
