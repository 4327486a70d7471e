"""The therapist's name-call log (no rclpy): `asd_session_<time>[_<session>].jsonl`, written by the
interaction node, which runs the protocol.

Records (field lists in docs/asd_emotion.md):
  {"type": "session_start", ...}  when the log opens: the protocol thresholds;
  {"type": "name_call", ...}      one per finished name call (NameCallResult.record() plus times);
  {"type": "session_end", ...}    when the node stops: counts per status.
"""
from __future__ import annotations

from typing import Any

from attune.behavior.protocol.name_call_types import NameCallResult
from attune.jsonl_log import JsonlLog, iso_time


class NameCallLog(JsonlLog):
    """See the module docstring."""

    PREFIX = 'asd_session'

    def name_call(self, result: NameCallResult, **extra: Any) -> None:
        record = {'type': 'name_call', **result.record(), 'stimulus_time': iso_time(result.stimulus_ns),
                  'decided_time': iso_time(result.decided_ns), **extra}
        self.counts[record['status']] += 1
        self.write(record)

    def summary(self) -> dict[str, Any]:
        return {'name_calls': sum(self.counts.values()), 'by_status': dict(self.counts)}
