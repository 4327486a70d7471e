"""One attune/StreamTrust as a ROS-free dataclass: the stream guard's judgement of an image topic
(attune.ros.msg_stream_trust converts it to and from the message)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only a type here: the model pulls in the content evidence (OpenCV), which the readers of
    # StreamTrust messages (the interaction node) do not need.
    from attune.integrity.model import StreamVerdict


@dataclass(frozen=True)
class StreamTrustReport:
    """The stream guard's latest judgement of `topic`.

    frames: images in the guard's window; ready: enough of them to judge. Until ready, score is NaN,
    live false and no reasons or features are given. feature_names / feature_values: the evidence
    the score was computed from, in the model's order.
    """

    topic: str
    frames: int = 0
    ready: bool = False
    score: float = math.nan
    live: bool = False
    reasons: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    feature_values: tuple[float, ...] = ()

    @property
    def trust(self) -> float:
        """The live-camera score when the guard could judge, else NaN (unknown)."""
        return self.score if self.ready else math.nan

    @staticmethod
    def judged(topic: str, frames: int, verdict: StreamVerdict, features: Mapping[str, float]) -> StreamTrustReport:
        """The judgement of a ready guard: its verdict and the features behind it."""
        return StreamTrustReport(topic, frames, True, float(verdict.score), verdict.live, tuple(verdict.reasons),
                           tuple(features), tuple(float(v) for v in features.values()))
