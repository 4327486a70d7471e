"""What the sign recognizer reports (no rclpy): one SignEvent per recognized sign or segment."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal['isolated', 'continuous']


@dataclass(frozen=True)
class SignEvent:
    """A recognized sign (isolated) or a decoded gloss sequence (continuous).

    stamp_ns: the stamp of the frame at which the decision was made (the message header's).
    start_ns / end_ns: stamps of the first and last frame of the sign (or segment).
    top: (gloss, score) alternatives, best first; top[0][0] == gloss.
    sequence: continuous mode: the decoded glosses; empty in isolated mode.
    handedness: 'left', 'right' or 'both' (the other hand was seen during the sign too).
    """

    mode: Mode
    gloss: str
    confidence: float
    top: tuple[tuple[str, float], ...]
    start_ns: int
    end_ns: int
    stamp_ns: int
    handedness: str = ''
    sequence: tuple[str, ...] = ()
    source: str = ''
    face_id: str = ''
