"""attune/InteractionEvent <-> the behaviour layer's discrete events: a sign attributed to a person
(attune.behavior.outcome.PersonSign) or a protocol's state or outcome (ProtocolResult).

The interaction node relays a sign as the sign node published it (forward_sign: the whole Sign,
alternatives and handedness included); to_msg builds the event from a PersonSign, which carries only
what the behaviour layer uses of a sign.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from attune.behavior.outcome import PROTOCOL_STATUS, PersonSign, ProtocolResult
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns, to_ns

if TYPE_CHECKING:
    from attune.msg import InteractionEvent, Sign

#: Protocol status words -> InteractionEvent.protocol_status.
STATUS_CODES = {word: code for code, word in PROTOCOL_STATUS.items()}


def _f(x: Any) -> float:
    return float(x)


def _event(header: Header, kind: int, person_id: str) -> InteractionEvent:
    msg: InteractionEvent = attune_msgs().InteractionEvent(header=header, kind=kind, person_id=person_id)
    msg.response_latency_s = msg.head_turn_deg = msg.response_valence = math.nan
    return msg


def forward_sign(sign: Sign, person_id: str) -> InteractionEvent:
    """A SIGN event: the Sign message as the sign node published it (its header), attributed to a person."""
    msg = _event(sign.header, attune_msgs().InteractionEvent.SIGN, person_id)
    msg.sign = sign
    return msg


def _sign_to_msg(sign: PersonSign) -> InteractionEvent:
    msgs = attune_msgs()
    header = Header(stamp=from_ns(sign.stamp_ns, Time))
    mode = msgs.Sign.CONTINUOUS if sign.continuous else msgs.Sign.ISOLATED
    return forward_sign(msgs.Sign(header=header, mode=mode, gloss=sign.gloss, confidence=float(sign.confidence),
                                  sequence=list(sign.sequence), source=sign.source), sign.person_id)


def _protocol_to_msg(result: ProtocolResult, header: Header) -> InteractionEvent:
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


def to_msg(event: PersonSign | ProtocolResult, header: Header | None = None) -> InteractionEvent:
    """The InteractionEvent of `event`. A protocol event is stamped with `header` (when it was decided,
    image clock); a sign event with the sign's own stamp (`header` unused).

    Raises:
        ValueError: a protocol status InteractionEvent does not define, or a protocol event without header.
    """
    if isinstance(event, PersonSign):
        return _sign_to_msg(event)
    if header is None:
        raise ValueError('a protocol InteractionEvent needs the header of when it was decided')
    return _protocol_to_msg(event, header)


def _sign_from_msg(msg: InteractionEvent) -> PersonSign:
    sign = msg.sign
    sequence = tuple(sign.sequence) if sign.mode == sign.CONTINUOUS else ()
    return PersonSign(person_id=msg.person_id, gloss=sign.gloss, confidence=_f(sign.confidence), source=sign.source,
                      stamp_ns=to_ns(sign.header.stamp), sequence=sequence)


def _protocol_from_msg(msg: InteractionEvent) -> ProtocolResult:
    return ProtocolResult(person_id=msg.person_id, name=msg.protocol,
                          status=PROTOCOL_STATUS.get(int(msg.protocol_status), 'none'),
                          latency_s=_f(msg.response_latency_s), head_turn_deg=_f(msg.head_turn_deg),
                          emotion=msg.response_emotion, valence=_f(msg.response_valence),
                          stamp_ns=to_ns(msg.stimulus_stamp), reason=msg.protocol_reason,
                          called_name=msg.called_name)


def from_msg(msg: InteractionEvent) -> PersonSign | ProtocolResult:
    """The event an InteractionEvent carries.

    Raises:
        ValueError: the kind is not SIGN or PROTOCOL.
    """
    kinds = attune_msgs().InteractionEvent
    if msg.kind == kinds.SIGN:
        return _sign_from_msg(msg)
    if msg.kind == kinds.PROTOCOL:
        return _protocol_from_msg(msg)
    raise ValueError(f'unknown InteractionEvent kind {msg.kind}')


def protocol_from_msg(msg: InteractionEvent) -> ProtocolResult:
    """The protocol state or outcome of a PROTOCOL InteractionEvent.

    Raises:
        ValueError: the event is not a PROTOCOL event.
    """
    event = from_msg(msg)
    if not isinstance(event, ProtocolResult):
        raise ValueError(f'InteractionEvent of kind {msg.kind} is not a protocol event')
    return event
