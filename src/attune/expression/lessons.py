"""Collecting an operator's lesson ("this face, now, is <label>") from a stream of frames (no rclpy)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt


@dataclass
class Lesson:
    """A lesson in progress: which face ('' = the largest), which label, the image-time window
    (start_ns 0 = from the next frame), and the feature vectors collected so far.
    calibrate_only: an operator's "neutral now" for per-person calibration, not a learner lesson."""

    face_id: str
    label: str
    start_ns: int
    duration_ns: int
    samples: list[npt.NDArray[Any]] = field(default_factory=list)
    face_seen: str = ''
    calibrate_only: bool = False

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns


@dataclass(frozen=True)
class CandidateFace:
    """A face of one frame that a lesson could take: track id, box area, learner features."""

    track: str
    area: float
    features: npt.NDArray[Any] | None


class LessonCollector:
    """Holds at most one lesson; feed it every analyzed frame with offer().

    A new lesson replaces one in progress (which is returned by start() so it can still be learned).
    """

    def __init__(self) -> None:
        self.lesson: Lesson | None = None

    def start(self, face_id: str, label: str, start_ns: int, duration_ns: int) -> Lesson | None:
        previous, self.lesson = self.lesson, Lesson(face_id, label, start_ns, duration_ns)
        return previous

    def offer(self, stamp_ns: int, faces: list[CandidateFace]) -> Lesson | None:
        """Take this frame's sample of the lesson's face; the finished lesson once its window has passed."""
        lesson = self.lesson
        if lesson is None:
            return None
        if lesson.start_ns == 0:
            lesson.start_ns = stamp_ns
        if stamp_ns > lesson.end_ns:
            self.lesson = None
            return lesson
        if stamp_ns < lesson.start_ns:
            return None
        usable = [f for f in faces if f.features is not None]
        if lesson.face_id:
            usable = [f for f in usable if f.track == lesson.face_id]
        elif lesson.face_seen:  # no id given: stay with the face chosen first
            usable = [f for f in usable if f.track == lesson.face_seen] or usable
        if usable:
            face = max(usable, key=lambda f: f.area)
            lesson.face_seen = lesson.face_seen or face.track
            if face.features is not None:  # always (usable); for the type
                lesson.samples.append(face.features)
        return None
