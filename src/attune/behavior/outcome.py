"""What the policy engine takes in and gives out besides states (no rclpy): a sign attributed to a
person, a protocol result, a suppressed rule, and the Outcome of one update."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from attune.behavior.commands import Command

#: InteractionEvent.protocol_status values, as words.
PROTOCOL_STATUS = {0: 'none', 1: 'waiting', 2: 'responded', 3: 'no_response', 4: 'no_face', 5: 'aborted'}
#: Statuses that end a protocol.
FINAL_STATUSES = ('responded', 'no_response', 'no_face', 'aborted', 'timeout')


@dataclass(frozen=True)
class PersonSign:
    """A recognized sign, attributed to a person ('' when unknown)."""

    person_id: str
    gloss: str
    confidence: float
    source: str = ''
    stamp_ns: int = 0
    #: Continuous recognition: the decoded gloss sequence of a segment (empty for an isolated sign).
    sequence: tuple[str, ...] = ()

    @property
    def continuous(self) -> bool:
        return bool(self.sequence)

    @property
    def text(self) -> str:
        """What was signed: the gloss, or for a sequence its glosses joined; fingerspelled letters
        make one word ('H', 'I' -> 'HI'), other glosses are joined with '_' like reply keys
        ('thank', 'you' -> 'thank_you')."""
        if not self.sequence:
            return self.gloss
        joiner = '' if all(len(g) == 1 for g in self.sequence) else '_'
        return joiner.join(self.sequence)

    @property
    def letter(self) -> bool:
        """An isolated fingerspelled letter (a one-character gloss)."""
        return not self.sequence and len(self.gloss) == 1


@dataclass(frozen=True)
class ProtocolResult:
    """The state or outcome of a protocol (an attune/InteractionEvent of kind PROTOCOL), or a time-out
    seen by the engine. stamp_ns: the stimulus (e.g. when the name was said)."""

    person_id: str
    name: str
    status: str
    latency_s: float = math.nan
    head_turn_deg: float = math.nan
    emotion: str = ''
    valence: float = math.nan
    stamp_ns: int = 0
    reason: str = ''
    called_name: str = ''

    def describe(self) -> str:
        text = f'{self.name or "protocol"}: {self.status}'
        if math.isfinite(self.latency_s):
            text += f' after {self.latency_s:.2f} s'
        if math.isfinite(self.head_turn_deg):
            text += f', head turn {self.head_turn_deg:.0f} deg'
        if self.emotion:
            text += f', then {self.emotion}'
        return text

    def to_dict(self) -> dict[str, Any]:
        return {'person': self.person_id, 'protocol': self.name, 'status': self.status,
                'latency_s': _json_num(self.latency_s), 'head_turn_deg': _json_num(self.head_turn_deg),
                'emotion': self.emotion, 'valence': _json_num(self.valence), 'reason': self.reason,
                'called_name': self.called_name}


@dataclass(frozen=True)
class Suppressed:
    """A rule whose condition held but which did not fire, and why."""

    rule: str
    person_id: str
    why: str


@dataclass
class Outcome:
    """What one update produced."""

    commands: list[Command] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    protocol_results: list[ProtocolResult] = field(default_factory=list)

    def extend(self, other: Outcome) -> None:
        self.commands += other.commands
        self.suppressed += other.suppressed
        self.protocol_results += other.protocol_results



def _json_num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None

