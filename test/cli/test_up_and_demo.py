"""`attune up` starts the graph and stops it cleanly; a node that fails stops the graph with an
error; `attune demo` (the README's main-job command) runs end to end."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attune.graph.up_process import start_up, stop_up
from test.conftest import wait_for

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f'/proc/{pid}/stat').exists() and ' Z ' not in Path(f'/proc/{pid}/stat').read_text()


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f'/proc/{pid}/task/{pid}/children').read_text().split()]
    except OSError:
        return []


#: Guard for the graph to come up (about 30 s at a load of 37 on 2 cores). Not a time the test
#: expects: it waits for the graph itself, and fails at once if `attune up` exits (a node failed).
UP_GUARD_S = 240.0


#: Fast DDS's default participant lease duration (attune's profile keeps it).
DDS_LEASE_S = 20.0


def camera_readers(probe, topic: str) -> set[str]:
    return {info.node_name for info in probe.get_subscriptions_info_by_topic(topic)}


def wait_until_up(up: subprocess.Popen, condition, what: str, deadline: float, log: Path) -> None:
    """Wait until condition() holds or `attune up` exits, with one deadline for the whole graph."""
    wait_for(lambda: condition() or up.poll() is not None, max(0.0, deadline - time.monotonic()))
    tail = log.read_text(errors='replace')[-3000:]
    assert up.poll() is None, f'attune up exited ({up.returncode}) before {what} was up:\n{tail}'
    assert condition(), f'{what} not up after {UP_GUARD_S:g} s; attune up still running:\n{tail}'


@pytest.mark.timeout(UP_GUARD_S + 200)  # the guard, then up to 30 s + 30 s to stop, and stop_up's 30 s
@pytest.mark.parametrize(('mode', 'sig'), [('processes', signal.SIGTERM), ('processes', signal.SIGINT),
                                           ('grouped', signal.SIGINT), ('composed', signal.SIGINT)])
def test_up_runs_the_graph_and_stops_on_signal(spinner, tmp_path: Path, mode: str, sig: signal.Signals) -> None:
    from rclpy.node import Node

    topic = f'/up_{mode}_{sig.name}/image'
    probe = spinner.add(Node(f'up_probe_{mode}_{sig.name.lower()}'))
    log_path = tmp_path / 'up.log'
    log = log_path.open('w')
    up = start_up(['--mode', mode, '--camera-topic', topic], output=log)
    try:
        deadline = time.monotonic() + UP_GUARD_S
        # Both image nodes subscribe to the camera: wait for each by name (expression_node's alone once
        # let SIGTERM reach face_node while it was still importing rclpy, before it handles signals).
        wait_until_up(up, lambda: {'face_node', 'expression_node'} <= camera_readers(probe, topic),
                      'face_node and expression_node', deadline, log_path)
        nodes = children(up.pid)
        assert nodes or mode == 'composed', 'attune up started no node process'
        # The REP-155 bridge runs in the shared process of grouped mode: it is up too.
        wait_until_up(up, lambda: probe.count_publishers('/humans/faces/tracked') > 0, 'hri_bridge_node',
                      deadline, log_path)
        up.send_signal(sig)
        assert up.wait(timeout=30) == 0
        assert not any(alive(pid) for pid in nodes), 'a node process outlived attune up'
        # A participant that leaves announces it, but that announcement is best-effort: when it is lost,
        # the others drop its endpoints when its lease runs out (Fast DDS: 20 s).
        assert wait_for(lambda: probe.count_subscribers(topic) == 0, DDS_LEASE_S + 10)
    finally:
        stop_up(up)  # on a failure above: no node of this graph outlives the test
        log.close()


def test_up_stops_the_graph_when_a_node_fails(tmp_path: Path) -> None:
    config = tmp_path / 'bad.yaml'
    config.write_text('face_node:\n  ros__parameters:\n    max_faces: 0\n')
    start = time.monotonic()
    result = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'up', f'--config={config}'],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert 'max_faces' in result.stderr + result.stdout
    assert 'node face_node exited with code 1' in result.stderr
    assert time.monotonic() - start < 120


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / 'demo'
    result = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'demo', '--out', str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['images'] == 90 and summary['faces_messages'] == 90
    assert summary['detection_rate'] >= 0.95
    assert [f['id'] for f in summary['faces']] == ['f1']
    # The expression node answered every face it was given (the demo's nodes drop nothing), and after its
    # calibration warm-up the results are relative to the face's own neutral.
    face = summary['faces'][0]
    assert face['expressions'] == face['frames']
    assert abs(sum(face['expression_shares'].values()) - 1.0) < 0.01
    assert face['calibrated_share'] >= 0.5
    assert 'f1' in result.stdout and 'annotated video' in result.stdout
    assert 'expression (share of its frames)' in result.stdout
    assert (out / 'annotated.mp4').stat().st_size > 10_000
    assert (out / 'contact_sheet.png').stat().st_size > 10_000
    # The recorded bag is a regular attune bag: the report reads it.
    report = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'report', '--json', str(out / 'faces')],
                            capture_output=True, text=True, timeout=60)
    assert report.returncode == 0
    assert json.loads(report.stdout.strip().splitlines()[-1])['faces'][0]['tracks'][0]['id'] == 'f1'
