"""Conversions between builtin_interfaces/Time and integer nanoseconds."""
from __future__ import annotations

from typing import Any


def to_ns(stamp: Any) -> int:
    """Nanoseconds of a builtin_interfaces/Time (rclpy or rosbags message)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def from_ns(ns: int, time_type: type) -> Any:
    """A builtin_interfaces/Time of `time_type` holding `ns` nanoseconds."""
    sec, nanosec = divmod(int(ns), 1_000_000_000)
    return time_type(sec=sec, nanosec=nanosec)
