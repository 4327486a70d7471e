"""`attune view` as a user runs it: a process that serves Foxglove, then stops cleanly on Ctrl-C."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

import pytest

from attune.view import live

pytestmark = pytest.mark.ros


async def _advertised(url: str) -> set[str]:
    import websockets

    topics: set[str] = set()
    async with websockets.connect(url, subprotocols=['foxglove.sdk.v1', 'foxglove.websocket.v1'], proxy=None) as ws:
        while live.ANNOTATIONS_TOPIC not in topics:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message['op'] == 'advertise':
                topics |= {c['topic'] for c in message['channels']}
    return topics


def test_attune_view_serves_and_stops_cleanly_on_sigint() -> None:
    pytest.importorskip('websockets')
    proc = subprocess.Popen([sys.executable, '-m', 'attune.cli.main', 'view', '--port', '0', '--no-camera'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # printed once the relay is subscribed
        line = lines[0]
        assert line.startswith('Foxglove WebSocket server: ws://127.0.0.1:'), line + proc.stderr.read()
        assert lines[2].startswith('layout to import: ') and lines[2].strip().endswith('foxglove_layout.json')
        topics = asyncio.run(_advertised(line.split(': ', 1)[1].strip()))
        assert live.CAMERA_TOPIC not in topics  # --no-camera: no pixels on the wire
        assert {live.ANNOTATIONS_TOPIC, live.STATE_TOPIC, live.COMMAND_TOPIC, live.DIAGNOSTICS_TOPIC} <= topics
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert 'Traceback' not in err + out


def test_attune_view_refuses_a_taken_port() -> None:
    with live.LiveView('127.0.0.1', 0) as view:
        result = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'view', '--port', str(view.port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and 'ERROR: cannot start the Foxglove server on 127.0.0.1:' in result.stderr
