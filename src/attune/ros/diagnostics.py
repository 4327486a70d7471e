"""One diagnostics status per node and second (`/diagnostics`), built the same way for every node: ERROR
when the node cannot work, WARN while it drops bad input or has had no input for a while, else OK;
the node's own counters and the median processing time as values."""
from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Mapping
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from std_msgs.msg import Header

from attune.ros.throttle import ThrottledReporter

#: Seconds without input after which a node reports itself idle.
IDLE_AFTER_S = 5.0


def node_status(node: Node, what: str, *, working: str, idle: str, last_input: float | None,
                processing_ms: Iterable[float], bad_input: ThrottledReporter, values: Mapping[str, Any],
                error: str = '', idle_after_s: float = IDLE_AFTER_S) -> DiagnosticArray:
    """The node's status as a DiagnosticArray stamped now.

    Args:
        what: the node's job, named after the node ('<node>: <what>').
        working / idle: the message when all is well / when no input came for IDLE_AFTER_S ('': no input
            is normal, the status stays OK).
        last_input: time.monotonic() of the last input handled (None: never).
        idle_after_s: seconds without input after which the node is idle (stale input).
        processing_ms: recent processing times; their median is reported as processing_ms_median.
        bad_input: the node's reporter of dropped input (its counts are reported as dropped_<kind>).
        values: the node's own counters, in order.
        error: a reason the node cannot work at all ('' when it can).
    """
    status = DiagnosticStatus(name=f'{node.get_name()}: {what}', hardware_id='attune')
    is_idle = last_input is None or time.monotonic() - last_input > idle_after_s
    if error:
        status.level, status.message = DiagnosticStatus.ERROR, error
    elif bad_input.total and not is_idle:
        status.level, status.message = DiagnosticStatus.WARN, 'dropping bad input'
    elif is_idle and idle:
        status.level, status.message = DiagnosticStatus.WARN, idle
    else:
        status.level, status.message = DiagnosticStatus.OK, working
    times = list(processing_ms)
    everything = {**values, 'processing_ms_median': f'{statistics.median(times):.2f}' if times else 'nan',
                  'dropped_bad_input': bad_input.total,
                  **{f'dropped_{k}': v for k, v in bad_input.counts.items()}}
    status.values = [KeyValue(key=k, value=str(v)) for k, v in everything.items()]
    return DiagnosticArray(header=Header(stamp=node.get_clock().now().to_msg()), status=[status])
