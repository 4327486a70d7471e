"""What each node process loads before it does anything: libraries it does not use cost resident memory
in every process of the graph (OpenCV + SciPy + MediaPipe are about 60 MB), and torch (training only)
would cost far more. Each node is imported in a fresh interpreter, as `attune up` starts it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Libraries a node may load only when it needs them.
HEAVY = ('torch', 'cv2', 'scipy', 'sklearn', 'mediapipe', 'onnxruntime', 'matplotlib', 'cryptography')

# Per node: the heavy libraries its own work needs at import (others must stay out).
ALLOWED = {
    'behavior_node': (),
    'generic_bridge_node': (),
    'interaction_node': (),
    'nao_bridge_node': (),
    'sign_node': (),
    'sim_robot_node': (),
    'spiking_fer_node': (),
    'event_emulator_node': ('cv2',),        # resizes the face window
    'expression_node': ('cv2',),            # decodes images, aligns crops
    'hands_node': ('cv2',),
    'hri_bridge_node': ('cv2',),            # decodes images for the REP-155 face crops
    'stream_guard_node': ('cv2',),          # content evidence
    'asd_emotion_node': ('cv2',),
    'identity_node': ('cv2', 'cryptography'),  # templates encrypted at rest
    'face_node': ('cv2', 'scipy'),          # decoding; the tracker's assignment
}

# One interpreter loads what every node shares (rclpy, numpy, the node shell), then forks a child per node:
# each child imports its node as a fresh process would, at a fraction of the start-up cost.
PROBE = """
import importlib, json, os, sys
import numpy, rclpy, rclpy.node, attune.ros.params
heavy, nodes = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert not [n for n in heavy if n in sys.modules], 'the shared part loads a heavy library'
result = {}
for node in nodes:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        importlib.import_module('attune.nodes.' + node)
        os.write(write, json.dumps(sorted(n for n in heavy if n in sys.modules)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result[node] = json.loads(pipe.read() or 'null')
    os.waitpid(pid, 0)
print(json.dumps(result))
"""


@pytest.fixture(scope='module')
def loaded_at_import() -> dict[str, list[str] | None]:
    out = subprocess.run([sys.executable, '-c', PROBE, json.dumps(HEAVY), json.dumps(sorted(ALLOWED))],
                         capture_output=True, text=True, check=True, timeout=300)
    result: dict[str, list[str] | None] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_every_node_is_listed() -> None:
    from importlib.resources import files
    nodes = {p.name[:-3] for p in files('attune.nodes').iterdir() if p.name.endswith('_node.py')}
    assert nodes == set(ALLOWED)


@pytest.mark.parametrize('node', sorted(ALLOWED))
def test_node_imports_only_the_heavy_libraries_it_uses(node: str,
                                                     loaded_at_import: dict[str, list[str] | None]) -> None:
    assert loaded_at_import[node] is not None, f'importing attune.nodes.{node} failed'
    loaded = set(loaded_at_import[node] or ())
    assert loaded <= set(ALLOWED[node]), f'{node} loads {sorted(loaded - set(ALLOWED[node]))} at import'
