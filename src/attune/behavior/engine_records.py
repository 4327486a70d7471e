"""The records PolicyEngine (attune.behavior.engine) keeps per person, per held event and per running
protocol."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from attune.behavior.fusion import PersonState
from attune.behavior.policy import Rule


@dataclass
class Person:
    state: PersonState
    received: float
    present_since: float | None
    history: deque[tuple[float, dict[str, float]]] = field(default_factory=deque)
    trends: dict[str, float] = field(default_factory=dict)


@dataclass
class HeldEvent:
    """An event rule that fired while the robot was speaking, waiting for it to stop."""

    rule: Rule
    context: dict[str, Any]
    person_id: str
    evidence: str
    until: float


@dataclass
class ProtocolRecord:
    person_id: str
    started: float
    name: str = 'name_call'
