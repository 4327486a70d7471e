"""A model file missing or corrupt (issue 14): every node that loads a model refuses to configure with
one ModelFileError naming the file (attune.model_files), and a node process exits 1 with that one
line on stderr, no traceback and no second report of the same failure."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rclpy.parameter import Parameter

from attune.errors import ModelFileError
from test.conftest import REPO

pytestmark = pytest.mark.ros


def corrupt(tmp_path: Path, name: str) -> Path:
    """A file with a model's name and garbage inside (a truncated download, a disk error)."""
    path = tmp_path / name
    path.write_bytes(b'\x08\x07not a model' * 50)
    return path


def build(node_class, name: str, **params):
    return node_class(parameter_overrides=[Parameter(k, value=v) for k, v in params.items()],
                      cli_args=['--ros-args', '-r', f'__node:=model_fault_{name}'])


def onnx_nodes() -> dict:
    from attune.nodes.asd_emotion_node import AsdEmotionNode
    from attune.nodes.expression_node import ExpressionNode
    from attune.nodes.sign_node import SignNode
    from attune.nodes.spiking_fer_node import SpikingFerNode

    return {'expression_cnn': (ExpressionNode, 'model_path'), 'expression_head': (ExpressionNode, 'head_path'),
            'expression_learner': (ExpressionNode, 'learner_path'), 'asd_emotion': (AsdEmotionNode, 'model_path'),
            'spiking_fer': (SpikingFerNode, 'model_path'), 'sign': (SignNode, 'isolated_model')}


#: (model, fault) pairs; a learner file that does not exist yet is not a fault (the first lesson makes it).
CASES = [(model, fault) for model in ('expression_cnn', 'expression_head', 'expression_learner', 'asd_emotion',
                                      'spiking_fer', 'sign') for fault in ('missing', 'corrupt')
         if (model, fault) != ('expression_learner', 'missing')]


@pytest.mark.parametrize(('model', 'fault'), CASES)
def test_a_bad_model_file_is_refused_naming_it(rclpy_session, tmp_path, capfd, model: str, fault: str) -> None:
    node_class, parameter = onnx_nodes()[model]
    path = corrupt(tmp_path, f'{model}.onnx') if fault == 'corrupt' else tmp_path / 'absent' / f'{model}.onnx'
    with pytest.raises(ModelFileError) as refused:
        build(node_class, f'{model}_{fault}', **{parameter: str(path)})
    assert str(path) in str(refused.value)
    assert '[ERROR]' not in capfd.readouterr().err  # the caller reports it, once


def test_a_missing_mediapipe_model_is_named(monkeypatch, tmp_path) -> None:
    from attune.face import mediapipe_face

    missing = tmp_path / 'face_detection_short_range.tflite'
    monkeypatch.setattr(mediapipe_face, 'mediapipe_model_paths', lambda options: [missing])
    with pytest.raises(ModelFileError, match=f'MediaPipe face model {missing} is missing'):
        mediapipe_face.FaceAnalyzer()


@pytest.mark.parametrize(('analyzer', 'model', 'what'), [
    ('attune.hands.mediapipe_hands:HandAnalyzer', 'modules/hand_landmark/hand_landmark_full.tflite', 'hand'),
    ('attune.face.mediapipe_face:FaceAnalyzer', 'modules/face_detection/face_detection_short_range.tflite', 'face')])
def test_a_corrupt_mediapipe_model_is_refused_when_the_analyzer_is_built(tmp_path, analyzer, model, what) -> None:
    """The real thing: MediaPipe itself reads a corrupt .tflite. MediaPipe loads its models from inside
    its own package, so the test runs a copy of the package (and its bundled libraries) whose model is
    corrupt, in a process of its own."""
    import mediapipe

    package = Path(mediapipe.__file__).resolve().parent
    copy = tmp_path / 'site'
    shutil.copytree(package, copy / 'mediapipe')
    if (package.parent / 'mediapipe.libs').is_dir():
        shutil.copytree(package.parent / 'mediapipe.libs', copy / 'mediapipe.libs')
    broken = copy / 'mediapipe' / model
    broken.write_bytes(b'not a flatbuffer' * 256)
    module, name = analyzer.split(':')
    code = (f'from {module} import {name}\n'
            'from attune.errors import ModelFileError\n'
            f'try:\n    {name}()\nexcept ModelFileError as exc:\n    print("REFUSED", exc)\n'
            'else:\n    print("BUILT")\n')
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(copy), str(REPO / 'src')])}
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120, env=env)
    refused = [line for line in result.stdout.splitlines() if line.startswith('REFUSED')]
    assert refused, result.stdout + result.stderr[-2000:]
    assert refused[0].startswith(f'REFUSED cannot load MediaPipe {what} model ')
    assert str(broken) in refused[0] and 'RuntimeError' in refused[0]


def test_corrupt_identity_models_are_named(monkeypatch, tmp_path) -> None:
    pytest.importorskip('dlib')
    from attune.identity import embedder

    files = (corrupt(tmp_path, 'shape_predictor_5_face_landmarks.dat'),
             corrupt(tmp_path, 'dlib_face_recognition_resnet_model_v1.dat'))
    monkeypatch.setattr(embedder, 'model_paths', lambda: files)
    with pytest.raises(ModelFileError, match=f'cannot load face model {files[0]}, {files[1]}: RuntimeError'):
        embedder.FaceEmbedder()


def test_a_node_process_with_a_corrupt_model_exits_with_one_line(tmp_path) -> None:
    path = corrupt(tmp_path, 'fer.onnx')
    result = subprocess.run([sys.executable, '-m', 'attune.nodes.expression_node', '--ros-args', '-p',
                             f'model_path:={path}'], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert 'Traceback' not in output
    naming = [line for line in output.splitlines() if str(path) in line]
    assert len(naming) == 1 and naming[0].startswith('ERROR: cannot load expression CNN model'), output
