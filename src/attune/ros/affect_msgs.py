"""attune/AffectState <-> the affect core's types, and NAME_CALL commands, for rclpy messages."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from builtin_interfaces.msg import Time

from attune.affect.estimator import AffectEstimate
from attune.behavior.protocol import PROTOCOL_NAME, NameCallResult, ProtocolStatus
from attune.expression.labels import EMOTIONS
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns

#: AffectState.source of this model.
SOURCE = 'asd_emotion'


def affect_state_msg(header: Any, face_id: str, estimate: AffectEstimate | None = None,
                     protocol: NameCallResult | None = None) -> Any:
    """An AffectState carrying `header` (the source image's): the estimate's distribution (empty when
    None) and, when given, a protocol's state or result."""
    msg = attune_msgs().AffectState(header=header, face_id=face_id, source=SOURCE)
    msg.valence = msg.arousal = msg.engagement = math.nan
    if estimate is not None:
        msg.emotions = list(EMOTIONS)
        msg.probabilities = [float(p) for p in estimate.probabilities]
        msg.dominant_emotion = estimate.dominant
        msg.valence = float(estimate.valence)
        msg.arousal = float(estimate.arousal)
    msg.response_latency_s = msg.head_turn_deg = msg.response_valence = math.nan
    if protocol is not None:
        msg.protocol = PROTOCOL_NAME
        msg.protocol_status = int(protocol.status)
        msg.stimulus_stamp = from_ns(protocol.stimulus_ns, Time)
        msg.response_latency_s = float(protocol.latency_s)
        msg.head_turn_deg = float(protocol.head_turn_deg)
        msg.response_emotion = protocol.response_emotion
        msg.response_valence = float(protocol.response_valence)
    return msg


@dataclass(frozen=True)
class ProtocolFields:
    """The protocol part of an AffectState (tests, tools)."""

    face_id: str
    protocol: str
    status: ProtocolStatus
    stimulus_ns: int
    latency_s: float
    head_turn_deg: float
    response_emotion: str
    response_valence: float


def protocol_fields(msg: Any) -> ProtocolFields:
    return ProtocolFields(msg.face_id, msg.protocol, ProtocolStatus(int(msg.protocol_status)),
                          to_ns(msg.stimulus_stamp), float(msg.response_latency_s), float(msg.head_turn_deg),
                          msg.response_emotion, float(msg.response_valence))


@dataclass(frozen=True)
class NameCall:
    """A NAME_CALL request: stimulus stamp (ns; 0 when the command had none), target track id ('' = the
    most central face), the name said."""

    stimulus_ns: int
    target_id: str
    name: str


def name_call_from_msg(msg: Any) -> NameCall | None:
    """The name call a BehaviorCommand asks for, or None for any other action."""
    if int(msg.action) != int(attune_msgs().BehaviorCommand.NAME_CALL):
        return None
    return NameCall(to_ns(msg.header.stamp), msg.target_id.strip(), msg.text.strip())
