"""AffectEstimate -> attune/AffectState (the ASD emotion node's output)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from attune.affect.estimator import AffectEstimate
from attune.emotions import EMOTIONS
from attune.ros.interfaces import attune_msgs

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import AffectState

#: AffectState.source of this model.
SOURCE = 'asd_emotion'


def affect_state_msg(header: Header, face_id: str, estimate: AffectEstimate | None = None) -> AffectState:
    """An AffectState carrying `header` (the source image's): the estimate's distribution (empty when
    None)."""
    msg: AffectState = attune_msgs().AffectState(header=header, face_id=face_id, source=SOURCE)
    msg.valence = msg.arousal = msg.engagement = math.nan
    if estimate is not None:
        msg.emotions = list(EMOTIONS)
        msg.probabilities = [float(p) for p in estimate.probabilities]
        msg.dominant_emotion = estimate.dominant
        msg.valence = float(estimate.valence)
        msg.arousal = float(estimate.arousal)
    return msg
