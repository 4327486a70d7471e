"""Screening every message a node receives, before its callback sees it (NodeShell.add_subscription).

Dropped, reported once per kind and counted in /diagnostics (dropped_<kind>):
- absurd_stamp: a header stamp with nanoseconds >= 1e9, before 1970, or more than a day ahead of the
  node's clock (when the clock has started);
- oversized: a string longer than MAX_STRING_CHARS, or a sequence of strings or messages longer
  than MAX_SEQUENCE, anywhere in the message (so no sender can make a node hold or log megabytes);
- attune/Faces: the whole message when it has faces and an impossible image size (bad_faces), each face outside
  physical ranges (face_out_of_range, attune.limits) and every face past the per-message
  limit (faces_over_limit);
- unknown_track: a message about a face (face_id) that the node's own Faces input never carried,
  when the node has one; '' (no particular face) always passes.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from attune.limits import FaceLimits, face_problem, image_size_problem
from attune.ros.stamps import to_ns
from attune.ros.throttle import printable

if TYPE_CHECKING:
    from builtin_interfaces.msg import Time

    from attune.msg import Faces

MAX_STRING_CHARS = 4096
#: Most strings or nested messages in one sequence field (numeric arrays are checked by their users).
MAX_SEQUENCE = 10_000
#: Track ids remembered per node (the newest; a track that has left for long is forgotten).
KNOWN_TRACKS = 512
_DAY_NS = 86_400 * 1_000_000_000
#: Messages that may name a face before it is seen (a lesson for the face that will appear).
ABOUT_FUTURE_FACES = frozenset({'ExpressionTeach'})


@dataclass(frozen=True)
class Rejection:
    kind: str
    reason: str
    n: int = 1  # occurrences it stands for


def stamp_problem(stamp: Time, now_ns: int) -> str:
    sec, nanosec = int(stamp.sec), int(stamp.nanosec)
    if sec < 0 or not 0 <= nanosec < 1_000_000_000:
        return f'header stamp sec={sec} nanosec={nanosec} is not a time'
    if now_ns > 0 and to_ns(stamp) > now_ns + _DAY_NS:
        return f'header stamp {to_ns(stamp)} ns is more than a day ahead of the clock ({now_ns} ns)'
    return ''


def _fields(msg: Any) -> Iterator[tuple[str, str, Any]]:  # Any: every message type, read by introspection
    types = getattr(type(msg), 'get_fields_and_field_types', None)
    if types is None:
        return
    for name, kind in types().items():
        yield name, kind, getattr(msg, name)


def size_problem(msg: Any, depth: int = 0) -> str:
    """The first string or sequence in `msg` (nested messages included) beyond the limits, or ''.
    Any message type (hence Any): its fields are found by rosidl introspection."""
    for name, kind, value in _fields(msg):
        if kind.startswith('string') or kind.startswith('wstring'):
            if len(value) > MAX_STRING_CHARS:
                return f'{name} holds {len(value)} characters (at most {MAX_STRING_CHARS})'
        elif kind.startswith('sequence<') or kind.endswith(']'):
            if ('string' in kind or '/' in kind) and len(value) > MAX_SEQUENCE:  # numbers: bounded by type
                return f'{name} holds {len(value)} items (at most {MAX_SEQUENCE})'
            if 'string' in kind and any(len(v) > MAX_STRING_CHARS for v in value):
                return f'{name} holds a string longer than {MAX_STRING_CHARS} characters'
            if '/' in kind and depth < 3:
                for item in value:
                    problem = size_problem(item, depth + 1)
                    if problem:
                        return f'{name}: {problem}'
        elif '/' in kind and depth < 3:
            problem = size_problem(value, depth + 1)
            if problem:
                return f'{name}: {problem}'
    return ''


@dataclass
class MessageScreen:
    """One node's screening state: its face limits and the track ids its Faces input carried."""

    limits: FaceLimits = field(default_factory=FaceLimits)
    known: OrderedDict[str, None] = field(default_factory=OrderedDict)
    has_faces_input: bool = False

    def rejections(self, msg: Any, now_ns: int) -> list[Rejection]:
        """What to report for `msg`; a Faces message is trimmed in place (bad and excess faces
        removed). The message is dropped when a rejection's kind is not a per-face one. Every message
        type a node subscribes to comes here (hence Any)."""
        header = getattr(msg, 'header', None)
        if header is not None:
            problem = stamp_problem(header.stamp, now_ns)
            if problem:
                return [Rejection('absurd_stamp', problem)]
        problem = size_problem(msg)
        if problem:
            return [Rejection('oversized', f'{type(msg).__name__} {problem}')]
        if type(msg).__name__ == 'Faces' and hasattr(msg, 'faces'):
            return self._trim_faces(msg)
        face_id = getattr(msg, 'face_id', None)
        if self.has_faces_input and isinstance(face_id, str) and face_id and face_id not in self.known \
                and type(msg).__name__ not in ABOUT_FUTURE_FACES:
            return [Rejection('unknown_track', f'{type(msg).__name__} about track {printable(face_id, 80)!r}, '
                              'which no Faces message carried')]
        return []

    def _trim_faces(self, msg: Faces) -> list[Rejection]:
        problem = image_size_problem(int(msg.image_width), int(msg.image_height), self.limits)
        if problem and msg.faces:  # an empty Faces (nothing seen) needs no image size
            return [Rejection('bad_faces', f'Faces: {problem}')]
        out, kept = [], []
        for face in msg.faces:
            problem = face_problem(face, self.limits)
            if problem:
                out.append(Rejection('face_out_of_range', f'dropped face: {problem}'))
            else:
                kept.append(face)
        if len(kept) > self.limits.max_faces:
            excess = len(kept) - self.limits.max_faces
            out.append(Rejection('faces_over_limit', f'Faces with {len(kept)} faces: kept the first '
                                 f'{self.limits.max_faces}, dropped {excess}', excess))
            kept = kept[:self.limits.max_faces]
        if len(kept) != len(msg.faces):
            msg.faces = kept
        for face in kept:
            self.known[face.id] = None
            self.known.move_to_end(face.id)
        while len(self.known) > KNOWN_TRACKS:
            self.known.popitem(last=False)
        return out

    @staticmethod
    def drops_message(rejections: list[Rejection]) -> bool:
        return any(r.kind not in ('face_out_of_range', 'faces_over_limit') for r in rejections)
