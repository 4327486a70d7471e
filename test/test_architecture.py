"""The core stays ROS-free: importing it must not import rclpy (nodes and ros/ may)."""
from __future__ import annotations

import subprocess
import sys

CORE = ['attune.imaging', 'attune.face', 'attune.tracking', 'attune.geometry', 'attune.graph',
        'attune.face.drawing', 'attune.errors', 'attune.resources', 'attune.bag',
        'attune.demo.default_input', 'attune.expression.analyzer', 'attune.expression.teacher',
        'attune.expression.sync', 'attune.expression.lessons', 'attune.affect.estimator',
        'attune.affect.name_call', 'attune.affect.session_log', 'attune.affect.dataset',
        'attune.models.asd_emotion_cli']


def test_core_modules_do_not_import_rclpy() -> None:
    code = ('import importlib, sys\n'
            f'for m in {CORE!r}: importlib.import_module(m)\n'
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('rclpy', 'rcl_interfaces'))\n"
            'print(bad); sys.exit(1 if bad else 0)\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
