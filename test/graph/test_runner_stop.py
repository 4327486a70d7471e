"""attune.graph.runner.supervise: a node that does not exit 0 when it is stopped fails the graph."""
from __future__ import annotations

import subprocess
import sys
import threading

from attune.graph.runner import NodeProcess, supervise
from attune.graph.spec import NodeSpec

# Exits with `code` on SIGINT; prints 'ready' once its handler is installed.
_CHILD = ('import signal, sys, threading\n'
          'signal.signal(signal.SIGINT, lambda *_: sys.exit({code}))\n'
          'print("ready", flush=True)\n'
          'threading.Event().wait(60)\n')


def child(name: str, code: int) -> NodeProcess:
    popen = subprocess.Popen([sys.executable, '-c', _CHILD.format(code=code)], stdout=subprocess.PIPE, text=True)
    assert popen.stdout.readline().strip() == 'ready'
    return NodeProcess(NodeSpec(name=name, executable=name), popen)


def test_nodes_stopping_cleanly_give_0_and_one_that_does_not_gives_1() -> None:
    stop = threading.Event()
    stop.set()
    clean = [child('a', 0), child('b', 0)]
    assert supervise(clean, stop, log=lambda _: None) == 0
    lines: list[str] = []
    assert supervise([child('c', 0), child('d', 3)], stop, log=lines.append) == 1
    assert lines == ['ERROR: node d did not stop cleanly (exit code 3)']
