"""Exact-stamp matching of two message streams (images and Faces), with bounded buffers (no rclpy).

Images and their Faces arrive separately: the face node publishes Faces after it has processed an
image, so an image normally arrives first and waits for its Faces. Each side keeps at most
`queue_size` unmatched items; when a side is full its oldest item is dropped and counted. An item
whose stamp is older than the newest match is counted as late and dropped at once (the stream has
moved past it). A Faces message that matches no buffered image (the image was never received, or
was dropped) waits too, in case the image is only late, and is dropped and counted the same way.
A stamp more than `jump_back_ns` older than the newest match means time went backwards (a bag
replay looping, a camera restarting): the synchronizer starts afresh instead of calling everything late.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from attune.errors import ConfigError

A = TypeVar('A')
B = TypeVar('B')
Own = TypeVar('Own')  # _add: the side an item joins
Other = TypeVar('Other')  # and the side its partner is looked for in


@dataclass
class SyncCounts:
    """How many items were matched and why the others were dropped."""

    matched: int = 0
    dropped_first: int = 0    #: first-stream items evicted unmatched (buffer full)
    dropped_second: int = 0   #: second-stream items evicted unmatched (buffer full)
    late_first: int = 0       #: first-stream items older than the newest match
    late_second: int = 0      #: second-stream items older than the newest match
    duplicates: int = 0       #: items whose stamp was already buffered on the same side (replaced)
    time_jumps: int = 0       #: restarts after time went backwards by more than jump_back_ns

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ExactStampSynchronizer(Generic[A, B]):
    """Pairs items of two streams that carry the same stamp (integer nanoseconds).

    Example:
        sync = ExactStampSynchronizer(queue_size=30)
        sync.add_first(stamp, image)      # -> None, the image waits
        sync.add_second(stamp, faces)     # -> (image, faces)

    Not thread-safe: call it from one thread (one ROS callback group).
    """

    queue_size: int = 30
    jump_back_ns: int = 2_000_000_000
    counts: SyncCounts = field(default_factory=SyncCounts)
    _first: OrderedDict[int, A] = field(default_factory=OrderedDict, repr=False)
    _second: OrderedDict[int, B] = field(default_factory=OrderedDict, repr=False)
    _newest_match: int | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ConfigError(f'queue_size must be at least 1, got {self.queue_size}')

    def add_first(self, stamp_ns: int, item: A) -> tuple[A, B] | None:
        """Add a first-stream item; the (first, second) pair when its partner is buffered."""
        match = self._add(stamp_ns, item, self._first, self._second, 'first')
        return None if match is None else (item, match)

    def add_second(self, stamp_ns: int, item: B) -> tuple[A, B] | None:
        """Add a second-stream item; the (first, second) pair when its partner is buffered."""
        match = self._add(stamp_ns, item, self._second, self._first, 'second')
        return None if match is None else (match, item)

    def pending(self) -> tuple[int, int]:
        """Unmatched items buffered on each side."""
        return len(self._first), len(self._second)

    def clear(self) -> None:
        self._first.clear()
        self._second.clear()
        self._newest_match = None

    def _add(self, stamp: int, item: Own, own: OrderedDict[int, Own], other: OrderedDict[int, Other],
             side: str) -> Other | None:
        if self._newest_match is not None and stamp < self._newest_match - self.jump_back_ns:
            self.counts.time_jumps += 1
            self.clear()
        if self._newest_match is not None and stamp < self._newest_match:
            setattr(self.counts, f'late_{side}', getattr(self.counts, f'late_{side}') + 1)
            return None
        partner = other.pop(stamp, None)
        if partner is not None:
            self.counts.matched += 1
            self._newest_match = stamp
            self._drop_older(stamp)
            return partner
        if stamp in own:
            self.counts.duplicates += 1
            del own[stamp]
        own[stamp] = item
        while len(own) > self.queue_size:
            own.popitem(last=False)
            setattr(self.counts, f'dropped_{side}', getattr(self.counts, f'dropped_{side}') + 1)
        return None

    def _drop_older(self, stamp: int) -> None:
        """After a match at `stamp`, older unmatched items can no longer match in order: drop them."""
        for buffer, side in ((self._first, 'first'), (self._second, 'second')):
            stale = [s for s in buffer if s < stamp]
            for s in stale:
                del buffer[s]
            if stale:
                name = f'dropped_{side}'
                setattr(self.counts, name, getattr(self.counts, name) + len(stale))
