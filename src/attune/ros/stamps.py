"""Conversions between builtin_interfaces/Time and integer nanoseconds."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from builtin_interfaces.msg import Time

#: A builtin_interfaces/Time class (rclpy's, or a rosbags typestore's).
_Time = TypeVar('_Time')


def to_ns(stamp: Time) -> int:
    """Nanoseconds of a builtin_interfaces/Time (rclpy or rosbags message)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def from_ns(ns: int, time_type: Callable[..., _Time]) -> _Time:
    """A builtin_interfaces/Time of `time_type` holding `ns` nanoseconds."""
    sec, nanosec = divmod(int(ns), 1_000_000_000)
    return time_type(sec=sec, nanosec=nanosec)
