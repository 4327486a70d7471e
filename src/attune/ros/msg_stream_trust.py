"""attune/StreamTrust <-> attune.integrity.trust.StreamTrustReport (stream_guard_node's judgement of whether
an image topic is a live camera)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from attune.integrity.trust import StreamTrustReport
from attune.ros.interfaces import attune_msgs

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import StreamTrust


def to_msg(trust: StreamTrustReport, header: Header) -> StreamTrust:
    """The StreamTrust message of `trust`, carrying `header` (the last judged image's)."""
    msg: StreamTrust = attune_msgs().StreamTrust(
        header=header, topic=trust.topic, score=float(trust.score), live=trust.live, ready=trust.ready,
        frames=trust.frames, reasons=list(trust.reasons), feature_names=list(trust.feature_names),
        feature_values=[float(v) for v in trust.feature_values])
    return msg


def from_msg(msg: StreamTrust) -> StreamTrustReport:
    return StreamTrustReport(topic=msg.topic, frames=int(msg.frames), ready=bool(msg.ready), score=float(msg.score),
                       live=bool(msg.live), reasons=tuple(msg.reasons), feature_names=tuple(msg.feature_names),
                       feature_values=tuple(float(v) for v in msg.feature_values))
