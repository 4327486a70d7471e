"""The colcon path: `colcon build` of this package (ament_cmake) installs messages, the Python
package, node executables in lib/attune, the `attune` command, launch and config in share/attune.

Runs against the ROS 2 wheels of the venv (the same CMake code a ROS 2 install runs; the missing
include-directory workaround is exercised too). Slow: about two minutes on 2 cores.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    colcon = Path(sys.executable).parent / 'colcon'
    if not colcon.exists():
        pytest.skip('colcon is not installed (the [test] pins install it)')
    workspace = tmp_path_factory.mktemp('ws')
    (workspace / 'src').mkdir()
    # A copy, not a link: colcon must not write into the checkout.
    shutil.copytree(REPO, workspace / 'src' / 'attune', ignore=shutil.ignore_patterns(
        '.venv', 'build', 'install', 'log', 'out', '.git', '__pycache__', '.pytest_cache', '*.egg-info'))
    prefix = str(Path(sys.prefix))
    env = dict(os.environ, AMENT_PREFIX_PATH=prefix, CMAKE_PREFIX_PATH=prefix,
               PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ["PATH"]}')
    result = subprocess.run(
        [str(colcon), 'build', '--cmake-args', '-G', 'Ninja',
         '-DBUILD_TESTING=OFF', f'-DPython3_EXECUTABLE={sys.executable}'],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workspace / 'install' / 'attune'


def test_layout(install: Path) -> None:
    assert (install / 'lib' / 'attune' / 'face_node').stat().st_mode & 0o111
    assert (install / 'lib' / 'attune' / 'expression_node').stat().st_mode & 0o111
    assert (install / 'lib' / 'attune' / 'asd_emotion_node').stat().st_mode & 0o111
    assert (install / 'bin' / 'attune').exists()
    assert (install / 'share' / 'attune' / 'launch' / 'attune.launch.py').is_file()
    assert (install / 'share' / 'attune' / 'config' / 'attune.yaml').is_file()
    assert (install / 'share' / 'attune' / 'config' / 'policies' / 'asd_session.yaml').is_file()
    for node in ('interaction_node', 'behavior_node', 'sim_robot_node', 'nao_bridge_node', 'generic_bridge_node'):
        assert (install / 'lib' / 'attune' / node).stat().st_mode & 0o111, node
    assert (install / 'share' / 'attune' / 'msg' / 'Faces.msg').is_file()
    assert (install / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'attune').is_file()
    site = next((install / 'lib').glob('python3*/site-packages/attune'))
    assert (site / 'face' / 'data' / 'canonical_face_model.txt').is_file()  # package data travels
    assert (site / 'models' / 'resources' / 'fer_minixception.onnx').is_file()            # shipped models too
    assert (site / 'models' / 'resources' / 'asd_emotion.onnx').is_file()
    assert (site / 'msg' / '_faces.py').is_file()                          # generated messages
    assert 'extend_path' in (site / '__init__.py').read_text()              # ours, not rosidl's


def installed_env(install: Path) -> dict[str, str]:
    site = next((install / 'lib').glob('python3*/site-packages'))
    return dict(os.environ, PYTHONPATH=str(site), AMENT_PREFIX_PATH=f'{install}{os.pathsep}{sys.prefix}',
                LD_LIBRARY_PATH=f"{install / 'lib'}{os.pathsep}{os.environ.get('LD_LIBRARY_PATH', '')}")


def test_installed_package_finds_its_share_files_and_messages(install: Path) -> None:
    code = ('import attune, attune.msg\n'
            'from attune.resources import share_dir\n'
            'print(attune.__file__); print(share_dir()); print(attune.msg.Faces.__module__)\n')
    out = subprocess.run([sys.executable, '-c', code], env=installed_env(install), cwd='/',
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    module_file, share, _ = out.stdout.split()
    assert module_file.startswith(str(install))
    assert share == str(install / 'share' / 'attune')


def test_installed_executable_runs_and_reports_bad_parameters(install: Path) -> None:
    out = subprocess.run([sys.executable, str(install / 'lib' / 'attune' / 'face_node'), '--ros-args',
                          '-p', 'max_faces:=0'], env=installed_env(install), cwd='/',
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert 'max_faces' in out.stderr
