"""attune/InteractionEvent <-> the behaviour layer's events (plain functions, no spinning): a sign
attributed to a person (PersonSign) or a protocol's state or outcome (ProtocolResult)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from builtin_interfaces.msg import Time

from attune.behavior.outcome import PROTOCOL_STATUS, PersonSign, ProtocolResult
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns

if TYPE_CHECKING:
    from attune.msg import InteractionEvent, Sign

#: Protocol status words -> InteractionEvent.protocol_status.
STATUS_CODES = {word: code for code, word in PROTOCOL_STATUS.items()}


def _f(x: Any) -> float:
    return float(x)


def _event(header: Any, kind: int, person_id: str) -> InteractionEvent:
    msg = attune_msgs().InteractionEvent(header=header, kind=kind, person_id=person_id)
    msg.response_latency_s = msg.head_turn_deg = msg.response_valence = math.nan
    return msg


def sign_event_to_msg(sign: Sign, person_id: str) -> InteractionEvent:
    """A SIGN event: the Sign message as the sign node published it (its header), attributed to a person."""
    msg = _event(sign.header, attune_msgs().InteractionEvent.SIGN, person_id)
    msg.sign = sign
    return msg


def protocol_event_to_msg(result: ProtocolResult, header: Any) -> InteractionEvent:
    """A PROTOCOL event for `result`, stamped with `header` (when it was decided, image clock).

    Raises:
        ValueError: the status is not one InteractionEvent defines.
    """
    if STATUS_CODES.get(result.status, 0) == 0:
        raise ValueError(f'protocol status {result.status!r} has no InteractionEvent code')
    msg = _event(header, attune_msgs().InteractionEvent.PROTOCOL, result.person_id)
    msg.protocol = result.name
    msg.protocol_status = STATUS_CODES[result.status]
    msg.protocol_reason = result.reason
    msg.called_name = result.called_name
    msg.stimulus_stamp = from_ns(result.stamp_ns, Time)
    msg.response_latency_s = float(result.latency_s)
    msg.head_turn_deg = float(result.head_turn_deg)
    msg.response_emotion = result.emotion
    msg.response_valence = float(result.valence)
    return msg


def sign_from_event(msg: InteractionEvent) -> PersonSign:
    sign = msg.sign
    sequence = tuple(sign.sequence) if sign.mode == sign.CONTINUOUS else ()
    return PersonSign(person_id=msg.person_id, gloss=sign.gloss, confidence=_f(sign.confidence), source=sign.source,
                      stamp_ns=to_ns(sign.header.stamp), sequence=sequence)


def protocol_from_event(msg: InteractionEvent) -> ProtocolResult:
    return ProtocolResult(person_id=msg.person_id, name=msg.protocol,
                          status=PROTOCOL_STATUS.get(int(msg.protocol_status), 'none'),
                          latency_s=_f(msg.response_latency_s), head_turn_deg=_f(msg.head_turn_deg),
                          emotion=msg.response_emotion, valence=_f(msg.response_valence),
                          stamp_ns=to_ns(msg.stimulus_stamp), reason=msg.protocol_reason,
                          called_name=msg.called_name)


def event_from_msg(msg: InteractionEvent) -> PersonSign | ProtocolResult:
    """The event an InteractionEvent carries.

    Raises:
        ValueError: the kind is not SIGN or PROTOCOL.
    """
    kinds = attune_msgs().InteractionEvent
    if msg.kind == kinds.SIGN:
        return sign_from_event(msg)
    if msg.kind == kinds.PROTOCOL:
        return protocol_from_event(msg)
    raise ValueError(f'unknown InteractionEvent kind {msg.kind}')
