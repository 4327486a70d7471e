"""The virtual NAO (attune.robots.virtual_nao) in its own process, as a robot is: the bridge under test
talks to it over libqi's TCP transport, and the recorded calls are read back from its JSONL file."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from attune.robots.naoqi import SERVICES


class VirtualNaoProcess:
    def __init__(self, directory: Path, url: str = 'tcp://127.0.0.1:0', services: tuple[str, ...] = SERVICES,
                 seconds_per_word: float = 0.05) -> None:
        self.record = Path(directory) / f'nao-calls-{time.monotonic_ns()}.jsonl'
        self.requested_url = url
        self.services = services
        self.seconds_per_word = seconds_per_word
        self.url = ''
        self.popen: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> VirtualNaoProcess:
        self.popen = subprocess.Popen(
            [sys.executable, '-m', 'attune.robots.virtual_nao', '--url', self.requested_url, '--record',
             str(self.record), '--services', ','.join(self.services),
             '--seconds-per-word', str(self.seconds_per_word)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline()
            if line.startswith('virtual NAO listening on '):
                self.url = line.split()[-1]
                return self
            if not line and self.popen.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f'the virtual NAO did not start (url {self.requested_url})')

    @property
    def calls(self) -> list[tuple[str, str, tuple]]:
        if not self.record.exists():
            return []
        out = []
        for line in self.record.read_text().splitlines():
            try:
                c = json.loads(line)
            except json.JSONDecodeError:
                continue  # being written
            out.append((c['service'], c['method'], tuple(c['args'])))
        return out

    def calls_to(self, service: str | None = None, method: str | None = None) -> list[tuple[str, str, tuple]]:
        return [c for c in self.calls if (service is None or c[0] == service) and (method is None or c[1] == method)]

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.popen is not None and self.popen.stdout is not None:
            self.popen.stdout.close()

    def __enter__(self) -> VirtualNaoProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
