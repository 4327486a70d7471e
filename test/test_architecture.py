"""The core stays ROS-free: importing it must not import rclpy (nodes and ros/ may); class names are unique;
the core is type-checked strictly."""
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


def test_no_two_classes_share_a_name() -> None:
    """A class name means one thing across the package (issue 15: three TrainConfigs, two FaceObservations)."""
    import ast
    from collections import defaultdict
    from pathlib import Path

    defined: dict[str, list[str]] = defaultdict(list)
    package = Path(__file__).resolve().parent.parent / 'src' / 'attune'
    for path in sorted(package.rglob('*.py')):
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.ClassDef):
                defined[node.name].append(str(path.relative_to(package)))
    assert {name: places for name, places in defined.items() if len(places) > 1} == {}


def test_every_core_module_is_type_checked_strictly() -> None:
    """`make typecheck` runs mypy --strict on the core (issue 15): every top-level module of the package and
    every core package, attune.ros and attune.nodes, is in the Makefile's MYPY_STRICT / MYPY_STRICT_PACKAGES
    (cli/ gets normal mode), so a new core, ros/ or node module cannot slip out of the strict pass."""
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    makefile = repo.joinpath('Makefile').read_text().replace('\\\n', ' ')
    listed = {name: set(re.search(rf'^{name} :=(.*)$', makefile, re.M).group(1).split())
              for name in ('MYPY_STRICT', 'MYPY_STRICT_PACKAGES')}
    package = repo / 'src' / 'attune'
    modules = {f'attune.{p.stem}' for p in package.glob('*.py') if p.stem != '__init__'} | {'attune'}
    packages = {f'attune.{p.parent.name}' for p in package.glob('*/__init__.py')} - {
        'attune.cli', 'attune.msg'}
    assert modules - listed['MYPY_STRICT'] == set()
    assert packages - listed['MYPY_STRICT_PACKAGES'] == set()
