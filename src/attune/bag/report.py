"""What is in a bag, and how well faces were found in it (no rclpy).

Why: after a replay or a session with a robot, the first questions are "did every topic arrive,
at what rate?", "was the face seen, was its id stable, how confident, how turned away?" and "what did
attune say of each face (its expression labels, how many relative to the person's own neutral)?".
`attune report BAG` answers them from the bag alone, as a table for people and as JSON for
scripts and CI (the acceptance test of the face node reads the same numbers).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attune.bag.reader import bag_topics, read_messages
from attune.errors import BagError

FACES_TYPE = 'attune/msg/Faces'
EXPRESSION_TYPE = 'attune/msg/Expression'


@dataclass(frozen=True)
class TopicStats:
    """One topic of a bag.

    Attributes:
        topic: topic name.
        msgtype: ROS type, e.g. 'sensor_msgs/msg/Image'.
        count: number of messages.
        rate_hz: mean rate from the bag timestamps, (count - 1) / (last - first); None with fewer
            than two messages or all at one instant.
    """

    topic: str
    msgtype: str
    count: int
    rate_hz: float | None


@dataclass(frozen=True)
class FaceTrackStats:
    """One face track id on a Faces topic. Stamps are header stamps (the source images').

    Attributes:
        id: the track id (attune/Face.id).
        first_stamp_ns: stamp of the first Faces message holding this id.
        last_stamp_ns: stamp of the last one.
        frames: number of Faces messages holding this id.
        mean_confidence: mean detection_confidence over those frames.
        mean_abs_yaw_deg: mean |yaw| in degrees over the frames where yaw is known; None if never.
    """

    id: str
    first_stamp_ns: int
    last_stamp_ns: int
    frames: int
    mean_confidence: float
    mean_abs_yaw_deg: float | None

    @property
    def duration_s(self) -> float:
        """Seconds from the first to the last frame with this id."""
        return (self.last_stamp_ns - self.first_stamp_ns) * 1e-9


@dataclass(frozen=True)
class FacesStats:
    """The face summary of one attune/msg/Faces topic.

    Attributes:
        topic: topic name.
        messages: number of Faces messages (one per processed image).
        messages_with_face: those holding at least one face.
        tracks: one entry per face id, in order of first appearance.
    """

    topic: str
    messages: int
    messages_with_face: int
    tracks: tuple[FaceTrackStats, ...] = ()

    @property
    def detection_rate(self) -> float | None:
        """Fraction of messages with at least one face; None without messages."""
        return self.messages_with_face / self.messages if self.messages else None


@dataclass(frozen=True)
class ExpressionFaceStats:
    """What one attune/msg/Expression topic said of one face id.

    Attributes:
        id: the face id (Expression.face_id).
        messages: Expressions of this face.
        labels: (label, count) per published label, the most frequent first.
        calibrated: Expressions relative to the person's own neutral (Expression.calibrated).
        mean_confidence: mean Expression.confidence.
    """

    id: str
    messages: int
    labels: tuple[tuple[str, int], ...]
    calibrated: int
    mean_confidence: float

    @property
    def shares(self) -> dict[str, float]:
        """{label: fraction of this face's Expressions}, the most frequent first."""
        return {label: count / self.messages for label, count in self.labels}


@dataclass(frozen=True)
class ExpressionsStats:
    """The summary of one attune/msg/Expression topic: its sources (Expression.source) and each face."""

    topic: str
    messages: int
    sources: tuple[str, ...] = ()
    faces: tuple[ExpressionFaceStats, ...] = ()


@dataclass(frozen=True)
class BagReport:
    """Summary of one bag; see bag_report().

    Attributes:
        path: the bag.
        start_ns: timestamp of the first message (bag time), None for an empty bag.
        end_ns: timestamp of the last message, None for an empty bag.
        message_count: messages on all topics.
        topics: per topic, in the bag's order.
        faces: per attune/msg/Faces topic.
        expressions: per attune/msg/Expression topic.
    """

    path: str
    start_ns: int | None
    end_ns: int | None
    message_count: int
    topics: tuple[TopicStats, ...] = ()
    faces: tuple[FacesStats, ...] = field(default=())
    expressions: tuple[ExpressionsStats, ...] = ()

    @property
    def duration_s(self) -> float:
        """Seconds from the first to the last message (0 for an empty bag)."""
        if self.start_ns is None or self.end_ns is None:
            return 0.0
        return (self.end_ns - self.start_ns) * 1e-9

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (only str, int, float, None, lists, dicts; no NaN)."""
        return {
            'path': self.path,
            'start_ns': self.start_ns,
            'end_ns': self.end_ns,
            'duration_s': self.duration_s,
            'message_count': self.message_count,
            'topics': [{'topic': t.topic, 'msgtype': t.msgtype, 'count': t.count, 'rate_hz': t.rate_hz}
                       for t in self.topics],
            'faces': [{
                'topic': f.topic,
                'messages': f.messages,
                'messages_with_face': f.messages_with_face,
                'detection_rate': f.detection_rate,
                'tracks': [{
                    'id': t.id, 'first_stamp_ns': t.first_stamp_ns, 'last_stamp_ns': t.last_stamp_ns,
                    'duration_s': t.duration_s, 'frames': t.frames, 'mean_confidence': t.mean_confidence,
                    'mean_abs_yaw_deg': t.mean_abs_yaw_deg,
                } for t in f.tracks],
            } for f in self.faces],
            'expressions': [{
                'topic': e.topic, 'messages': e.messages, 'sources': list(e.sources),
                'faces': [{'id': f.id, 'messages': f.messages, 'labels': dict(f.labels),
                           'label_shares': f.shares, 'calibrated': f.calibrated,
                           'calibrated_share': f.calibrated / f.messages, 'mean_confidence': f.mean_confidence}
                          for f in e.faces],
            } for e in self.expressions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BagReport:
        """The inverse of to_dict (derived values such as duration_s are recomputed).

        Raises:
            BagError: a key is missing or has the wrong type.
        """
        try:
            return cls(
                path=str(data['path']), start_ns=data['start_ns'], end_ns=data['end_ns'],
                message_count=int(data['message_count']),
                topics=tuple(TopicStats(t['topic'], t['msgtype'], int(t['count']), t['rate_hz'])
                             for t in data['topics']),
                faces=tuple(FacesStats(
                    topic=f['topic'], messages=int(f['messages']),
                    messages_with_face=int(f['messages_with_face']),
                    tracks=tuple(FaceTrackStats(
                        id=t['id'], first_stamp_ns=int(t['first_stamp_ns']),
                        last_stamp_ns=int(t['last_stamp_ns']), frames=int(t['frames']),
                        mean_confidence=float(t['mean_confidence']),
                        mean_abs_yaw_deg=t['mean_abs_yaw_deg']) for t in f['tracks']))
                    for f in data['faces']),
                expressions=tuple(ExpressionsStats(
                    topic=e['topic'], messages=int(e['messages']), sources=tuple(e['sources']),
                    faces=tuple(ExpressionFaceStats(
                        id=f['id'], messages=int(f['messages']),
                        labels=tuple((str(k), int(v)) for k, v in f['labels'].items()),
                        calibrated=int(f['calibrated']), mean_confidence=float(f['mean_confidence']))
                        for f in e['faces']))
                    for e in data.get('expressions', ())))  # reports written before expressions had none
        except (KeyError, TypeError, ValueError) as exc:
            raise BagError(f'not a bag report: {type(exc).__name__}: {exc}') from None


@dataclass
class _TrackAccumulator:
    first_ns: int
    last_ns: int
    frames: int = 0
    confidence_sum: float = 0.0
    yaw_sum: float = 0.0
    yaw_count: int = 0

    def add(self, stamp_ns: int, confidence: float, yaw: float) -> None:
        self.first_ns = min(self.first_ns, stamp_ns)
        self.last_ns = max(self.last_ns, stamp_ns)
        self.frames += 1
        self.confidence_sum += confidence
        if math.isfinite(yaw):
            self.yaw_sum += abs(yaw)
            self.yaw_count += 1


@dataclass
class _FacesAccumulator:
    messages: int = 0
    with_face: int = 0
    tracks: dict[str, _TrackAccumulator] = field(default_factory=dict)

    def add(self, msg: Any) -> None:
        stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
        self.messages += 1
        self.with_face += bool(msg.faces)
        for face in msg.faces:
            track = self.tracks.setdefault(face.id, _TrackAccumulator(stamp, stamp))
            track.add(stamp, float(face.detection_confidence), float(face.yaw))

    def stats(self, topic: str) -> FacesStats:
        tracks = tuple(
            FaceTrackStats(id=face_id, first_stamp_ns=t.first_ns, last_stamp_ns=t.last_ns, frames=t.frames,
                           mean_confidence=t.confidence_sum / t.frames,
                           mean_abs_yaw_deg=t.yaw_sum / t.yaw_count if t.yaw_count else None)
            for face_id, t in self.tracks.items())
        return FacesStats(topic=topic, messages=self.messages, messages_with_face=self.with_face,
                          tracks=tracks)


@dataclass
class _FaceExpressions:
    labels: Counter[str] = field(default_factory=Counter)
    calibrated: int = 0
    confidence_sum: float = 0.0

    def stats(self, face_id: str) -> ExpressionFaceStats:
        messages = sum(self.labels.values())
        return ExpressionFaceStats(id=face_id, messages=messages, labels=tuple(self.labels.most_common()),
                                   calibrated=self.calibrated, mean_confidence=self.confidence_sum / messages)


@dataclass
class _ExpressionsAccumulator:
    messages: int = 0
    sources: dict[str, None] = field(default_factory=dict)  # in order of first appearance
    faces: dict[str, _FaceExpressions] = field(default_factory=dict)

    def add(self, msg: Any) -> None:
        self.messages += 1
        self.sources.setdefault(str(msg.source))
        face = self.faces.setdefault(str(msg.face_id), _FaceExpressions())
        face.labels[str(msg.label)] += 1
        face.calibrated += bool(msg.calibrated)
        face.confidence_sum += float(msg.confidence)

    def stats(self, topic: str) -> ExpressionsStats:
        return ExpressionsStats(topic=topic, messages=self.messages, sources=tuple(self.sources),
                                faces=tuple(face.stats(face_id) for face_id, face in self.faces.items()))


def bag_report(path: Path) -> BagReport:
    """Read the whole bag once and summarize it (only Faces and Expression messages are deserialized).

    Raises:
        BagError: the bag cannot be read, or a Faces or Expression message does not decode.
    """
    path = Path(path)
    topics = bag_topics(path)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    counts: dict[str, int] = dict.fromkeys(topics, 0)
    faces = {topic: _FacesAccumulator() for topic, (msgtype, _) in topics.items() if msgtype == FACES_TYPE}
    said = {topic: _ExpressionsAccumulator() for topic, (msgtype, _) in topics.items() if msgtype == EXPRESSION_TYPE}
    for message in read_messages(path):
        topic = message.topic
        first.setdefault(topic, message.timestamp_ns)
        last[topic] = message.timestamp_ns
        counts[topic] += 1
        if topic in faces:
            faces[topic].add(message.deserialize())
        elif topic in said:
            said[topic].add(message.deserialize())
    stats = []
    for topic, (msgtype, _) in topics.items():
        span = (last[topic] - first[topic]) * 1e-9 if topic in first else 0.0
        rate = (counts[topic] - 1) / span if counts[topic] >= 2 and span > 0 else None
        stats.append(TopicStats(topic, msgtype, counts[topic], rate))
    return BagReport(path=str(path), start_ns=min(first.values(), default=None),
                     end_ns=max(last.values(), default=None), message_count=sum(counts.values()),
                     topics=tuple(stats), faces=tuple(acc.stats(topic) for topic, acc in faces.items()),
                     expressions=tuple(acc.stats(topic) for topic, acc in said.items()))


def _num(value: float | None, fmt: str) -> str:
    return '-' if value is None else format(value, fmt)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ['  '.join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in
                      enumerate(zip(row, widths, strict=True))).rstrip() for row in [header, *rows]]


def _top_labels(shares: dict[str, float], most: int = 4) -> str:
    return ' '.join(f'{label} {share:.0%}' for label, share in list(shares.items())[:most])


def format_report(report: BagReport) -> str:
    """The report as a plain-text table for a terminal."""
    lines = [f'bag:       {report.path}']
    if report.start_ns is not None:
        start = datetime.fromtimestamp(report.start_ns * 1e-9, tz=timezone.utc)
        lines.append(f'start:     {start.isoformat(timespec="milliseconds")} ({report.start_ns} ns)')
    lines.append(f'duration:  {report.duration_s:.3f} s')
    lines.append(f'messages:  {report.message_count}')
    lines.append('')
    lines += _table(['topic', 'type', 'count', 'rate (Hz)'],
                    [[t.topic, t.msgtype, str(t.count), _num(t.rate_hz, '.2f')] for t in report.topics],
                    right={2, 3})
    for faces in report.faces:
        lines.append('')
        rate = _num(None if faces.detection_rate is None else 100 * faces.detection_rate, '.1f')
        lines.append(f'faces on {faces.topic}: {faces.messages} messages, {faces.messages_with_face} '
                     f'with a face (detection rate {rate} %), {len(faces.tracks)} face id(s)')
        if faces.tracks:
            t0 = min(t.first_stamp_ns for t in faces.tracks)
            lines += ['  ' + line for line in _table(
                ['id', 'first (s)', 'last (s)', 'duration (s)', 'frames', 'confidence', 'mean |yaw| (deg)'],
                [[t.id, f'{(t.first_stamp_ns - t0) * 1e-9:.3f}', f'{(t.last_stamp_ns - t0) * 1e-9:.3f}',
                  f'{t.duration_s:.3f}', str(t.frames), f'{t.mean_confidence:.3f}',
                  _num(t.mean_abs_yaw_deg, '.1f')] for t in faces.tracks],
                right={1, 2, 3, 4, 5, 6})]
            lines.append('  (first/last: seconds after the first face on this topic)')
    for expressions in report.expressions:
        lines.append('')
        lines.append(f'expressions on {expressions.topic}: {expressions.messages} messages '
                     f"(source {', '.join(expressions.sources) or '-'}), {len(expressions.faces)} face id(s)")
        if expressions.faces:
            lines += ['  ' + line for line in _table(
                ['id', 'messages', 'labels (share of its messages)', 'calibrated', 'confidence'],
                [[f.id, str(f.messages), _top_labels(f.shares), f'{f.calibrated / f.messages:.0%}',
                  f'{f.mean_confidence:.3f}'] for f in expressions.faces],
                right={1, 3, 4})]
    return '\n'.join(lines)
