"""One attune/AffectState as a ROS-free dataclass: a face's affect from one source (the ASD emotion
model, signer emotion); attune.ros.msg_affect_state converts it to and from the message."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class AffectObservation:
    """An attune/AffectState, less its header (NaN = not estimated; no emotions when the source gave
    no distribution)."""

    face_id: str
    source: str
    emotions: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    dominant: str = ''
    valence: float = math.nan
    arousal: float = math.nan
    engagement: float = math.nan
