"""The records PolicyEngine (attune.behavior.engine) keeps per held event and per running protocol
(per person: attune.behavior.engine_context)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attune.behavior.policy import Rule


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
