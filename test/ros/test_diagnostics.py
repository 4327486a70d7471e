"""Every node's /diagnostics status is built by one function: its level follows the node's state."""
from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.ros


def test_status_levels_values_and_stamp(rclpy_session) -> None:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticStatus

    from attune.ros.diagnostics import node_status
    from attune.ros.throttle import ThrottledReporter

    node = rclpy.create_node('diag_probe')
    try:
        lines: list[str] = []
        bad = ThrottledReporter(lines.append)

        def status(**kw):
            args = {'working': 'working', 'idle': 'no input', 'last_input': time.monotonic(),
                    'processing_ms': [1.0, 3.0, 2.0], 'bad_input': bad, 'values': {'frames': 7}, **kw}
            (s,) = node_status(node, 'testing', **args).status
            return s.level, s.message, {v.key: v.value for v in s.values}, s.name

        level, message, values, name = status()
        assert (level, message, name) == (DiagnosticStatus.OK, 'working', 'diag_probe: testing')
        assert values == {'frames': '7', 'processing_ms_median': '2.00', 'dropped_bad_input': '0'}
        assert status(last_input=None)[:2] == (DiagnosticStatus.WARN, 'no input')
        assert status(last_input=time.monotonic() - 6.0, processing_ms=[])[2]['processing_ms_median'] == 'nan'
        bad.report('decode', 'bad image 1')
        bad.report('decode', 'bad image 2')
        level, message, values, _ = status()
        assert (level, message) == (DiagnosticStatus.WARN, 'dropping bad input')
        assert values['dropped_bad_input'] == '2' and values['dropped_decode'] == '2'
        assert status(last_input=None)[1] == 'no input'  # old bad input does not hide that nothing comes
        assert status(error='no model')[:2] == (DiagnosticStatus.ERROR, 'no model')
    finally:
        node.destroy_node()
