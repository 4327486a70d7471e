"""The core stays ROS-free: importing it must not import rclpy (nodes and ros/ may)."""
from __future__ import annotations

import subprocess
import sys

CORE = ['attune.imaging', 'attune.integrity.evidence', 'attune.integrity.model', 'attune.integrity.simulate',
        'attune.inference', 'attune.face', 'attune.tracking', 'attune.geometry', 'attune.graph',
        'attune.face.drawing', 'attune.errors', 'attune.limits', 'attune.resources', 'attune.bag',
        'attune.demo.default_input', 'attune.expression.analyzer', 'attune.expression.teacher',
        'attune.expression.sync', 'attune.expression.lessons',
        'attune.behavior', 'attune.behavior.session_log', 'attune.behavior.report',
        'attune.behavior.ratings', 'attune.behavior.html_report', 'attune.view.payloads', 'attune.view.live',
        'attune.view.layout',
        'attune.robots.naoqi', 'attune.robots.virtual_nao', 'attune.robots.generic', 'attune.robots.driver2',
        'attune.robots.sim', 'attune.events.aedat4', 'attune.events.emulator',
        'attune.events.face_window', 'attune.events.representation', 'attune.events.sliding_window',
        'attune.events.sensor_roi', 'attune.events.energy', 'attune.events.fer', 'attune.events.dataset',
        'attune.events.onsets', 'attune.events.window_set', 'attune.events.window_sources',
        'attune.events.labelled_files', 'attune.events.face_labels', 'attune.events.emulated_windows',
        'attune.bag.events', 'attune.bag.video',
        'attune.hands', 'attune.hands.messages', 'attune.sign', 'attune.sign.datasets',
        'attune.sign.compose', 'attune.sign.ctc', 'attune.sign.emotion', 'attune.sign.recording',
        'attune.sign.augment', 'attune.sign.evaluation', 'attune.sign.video', 'attune.sign.segments',
        'attune.sign.splits', 'attune.sign.public_data',
        'attune.affect.estimator', 'attune.affect.dataset', 'attune.jsonl_log',
        'attune.behavior.protocol', 'attune.behavior.protocol.session_log',
        'attune.affect.face_extraction', 'attune.affect.data_cache', 'attune.affect.evaluation',
        'attune.cli.train_asd_emotion']


def test_core_modules_do_not_import_rclpy() -> None:
    code = ('import importlib, sys\n'
            f'for m in {CORE!r}: importlib.import_module(m)\n'
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('rclpy', 'rcl_interfaces'))\n"
            'print(bad); sys.exit(1 if bad else 0)\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
