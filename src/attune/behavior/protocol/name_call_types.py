"""The name-call protocol's vocabulary: statuses, options, one face sample, one result (no rclpy).

The protocol itself is attune.behavior.protocol.name_call; docs/asd_emotion.md defines it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from attune.behavior.outcome import ProtocolResult
from attune.emotions import EMOTIONS
from attune.errors import ConfigError

PROTOCOL_NAME = 'name_call'


class ProtocolStatus(IntEnum):
    """attune/InteractionEvent protocol_status values."""

    NONE = 0
    WAITING = 1
    RESPONDED = 2
    NO_RESPONSE = 3
    NO_FACE = 4
    ABORTED = 5


@dataclass(frozen=True)
class NameCallOptions:
    """Thresholds and windows of the protocol (the node's parameters of the same names)."""

    response_window_s: float = 5.0
    turn_threshold_deg: float = 15.0
    confirm_samples: int = 2
    baseline_s: float = 1.0
    presence_s: float = 0.5
    lost_timeout_s: float = 1.0
    affect_window_s: float = 3.0
    min_latency_s: float = 0.0
    history_s: float = 15.0
    max_calls: int = 8
    jump_back_s: float = 2.0

    def __post_init__(self) -> None:
        checks = {'response_window_s': self.response_window_s > 0,
                  'turn_threshold_deg': 0 < self.turn_threshold_deg < 180,
                  'confirm_samples': self.confirm_samples >= 1, 'baseline_s': self.baseline_s >= 0,
                  'presence_s': self.presence_s >= 0, 'lost_timeout_s': self.lost_timeout_s > 0,
                  'affect_window_s': self.affect_window_s >= 0,
                  'min_latency_s': 0 <= self.min_latency_s < self.response_window_s,
                  'history_s': self.history_s >= self.baseline_s + max(self.response_window_s, self.affect_window_s),
                  'max_calls': self.max_calls >= 1}
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f'name-call option {name} has an invalid value: {getattr(self, name)}')


@dataclass(frozen=True)
class FaceSample:
    """One face in one frame: track id, yaw in degrees (NaN: no head pose), horizontal centre in [0, 1]."""

    track: str
    yaw: float
    center_x: float = 0.5


@dataclass(frozen=True)
class NameCallResult:
    """The state or outcome of one name call (what goes into AffectState and the session log)."""

    status: ProtocolStatus
    reason: str
    target_id: str
    name: str
    stimulus_ns: int
    decided_ns: int
    latency_s: float = math.nan
    head_turn_deg: float = math.nan
    yaw_before_deg: float = math.nan
    yaw_at_response_deg: float = math.nan
    response_emotion: str = ''
    response_valence: float = math.nan
    response_probabilities: tuple[float, ...] = ()
    affect_samples: int = 0
    yaw_samples: int = 0
    options: NameCallOptions = field(default_factory=NameCallOptions, repr=False)

    def as_protocol_result(self) -> ProtocolResult:
        """What the behaviour layer's rules see of it."""
        return ProtocolResult(person_id=self.target_id, name=PROTOCOL_NAME, status=self.status.name.lower(),
                              latency_s=self.latency_s, head_turn_deg=self.head_turn_deg,
                              emotion=self.response_emotion, valence=self.response_valence,
                              stamp_ns=self.stimulus_ns, reason=self.reason, called_name=self.name)

    @property
    def final(self) -> bool:
        return self.status not in (ProtocolStatus.NONE, ProtocolStatus.WAITING)

    def record(self) -> dict[str, Any]:
        """The JSON-ready record of this result (docs/asd_emotion.md lists the fields)."""
        o = self.options
        return {
            'protocol': PROTOCOL_NAME, 'status': self.status.name.lower(), 'reason': self.reason,
            'face_id': self.target_id, 'name': self.name, 'stimulus_ns': self.stimulus_ns,
            'decided_ns': self.decided_ns, 'latency_s': _num(self.latency_s), 'head_turn_deg': _num(self.head_turn_deg),
            'yaw_before_deg': _num(self.yaw_before_deg), 'yaw_at_response_deg': _num(self.yaw_at_response_deg),
            'response_emotion': self.response_emotion, 'response_valence': _num(self.response_valence),
            'response_probabilities': dict(zip(EMOTIONS, (round(p, 4) for p in self.response_probabilities))),
            'affect_samples': self.affect_samples, 'yaw_samples': self.yaw_samples,
            'thresholds': {'turn_threshold_deg': o.turn_threshold_deg, 'response_window_s': o.response_window_s,
                           'confirm_samples': o.confirm_samples, 'baseline_s': o.baseline_s,
                           'presence_s': o.presence_s, 'lost_timeout_s': o.lost_timeout_s,
                           'affect_window_s': o.affect_window_s, 'min_latency_s': o.min_latency_s},
        }


def _num(x: float) -> float | None:
    return round(float(x), 4) if math.isfinite(x) else None




def ns(seconds: float) -> int:
    """Seconds as integer nanoseconds (the stamps' unit)."""
    return int(round(seconds * 1e9))
