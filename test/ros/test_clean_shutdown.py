"""Every node executable, and `attune up` with its nodes, stops cleanly on the signals a terminal and
`ros2 launch` send: exit code 0 and no traceback. One exception, reported as a warning: Fast DDS
deadlocked once while a participant was destroyed (the node's own teardown done); the process then
ends by attune.ros.teardown_deadline (status 1, its stacks dumped) instead of hanging. And one before
the shutdown under test: a node process killed by a native crash before it ran (SIGSEGV, seen twice, once
in CI with the main thread in its first type-support import; cause not established, a Fast DDS port left
half-written by an earlier process the likely one, so each round starts without them) is reported as a
warning with faulthandler's report and started once more; a second crash fails.

* Two SIGINTs 5 ms apart (a terminal Ctrl-C reaches the whole group, then launch sends its own):
  every node executable, 5 rounds.
* SIGTERM (launch's second step, systemd, docker stop): face_node and interaction_node, 5 rounds.
* SIGINT to `attune up`'s whole process group (Ctrl-C in its terminal): 5 runs.

Processes of one round start together; each is signalled as soon as it logs that it runs (the
READY_MESSAGE of attune.ros.node_main), so no fixed waits.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from attune.ros.node_main import READY_MESSAGE
from attune.ros.shm_clean import remove_zombie_segments
from attune.ros.teardown_deadline import MIDDLEWARE_TEARDOWN_S
from test.conftest import REPO, reserve_domain_id

pytestmark = [pytest.mark.ros, pytest.mark.slow]

ROUNDS = 5
#: Gap between the two SIGINTs: 5 ms reproduced the KeyboardInterrupt traceback every time.
DOUBLE_SIGINT_GAP_S = 0.005
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
#: The frames (innermost attune frame of the main thread) under which the middleware's teardown runs.
MIDDLEWARE_TEARDOWN_FRAMES = (r'(node_main\.py", line \d+ in (end_node_process|_run)'
                              r'|runner\.py", line \d+ in run_composed)$')
#: Node parameters that let a node start on a machine without a robot or enrolled people.
NODE_ARGS = {'nao_bridge_node': ['-p', 'backend:=driver2']}


@pytest.fixture(scope='module', autouse=True)
def empty_people_database(tmp_path_factory) -> None:
    """identity_node needs a people database and its key to start: an empty one, with a throwaway key."""
    from attune.identity.keys import KEY_BYTES, encode_key
    from attune.identity.store import PeopleDatabase

    key = secrets.token_bytes(KEY_BYTES)
    path = tmp_path_factory.mktemp('people') / 'people.db'
    PeopleDatabase.create(path, key).save()
    NODE_ARGS['identity_node'] = ['-p', f'database:={path}']
    os.environ['ATTUNE_SHUTDOWN_TEST_PEOPLE_KEY'] = encode_key(key)


def node_executables() -> list[str]:
    cmake = (REPO / 'CMakeLists.txt').read_text()
    return re.search(r'set\(ATTUNE_EXECUTABLES\s+([^)]*)\)', cmake).group(1).split()


@dataclass
class Watched:
    """A process whose merged output is collected by a thread; `ready` once `marker` was seen
    `expected` times (one per node)."""

    popen: subprocess.Popen
    marker: str = READY_MESSAGE
    expected: int = 1
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        seen = 0
        for line in self.popen.stdout:
            self.lines.append(line)
            if self.marker in line:
                seen += 1
                if seen >= self.expected:
                    self.ready.set()
        self.ready.set()  # the process ended: nothing more will come

    @property
    def output(self) -> str:
        return ''.join(self.lines)

    def finish(self) -> int:
        try:
            code = self.popen.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stacks = thread_stacks(self.popen.pid)  # where it hangs: the evidence a rare hang needs
            self.popen.kill()
            raise AssertionError(f'{self.popen.args} did not exit within {STOP_TIMEOUT_S:g} s of the signal\n'
                                 f'{self.output[-3000:]}\n{stacks}') from None
        self.reader.join(timeout=10)
        return code


def thread_stacks(pid: int) -> str:
    """Every thread's Python and native stack of a live process (py-spy, else gdb; '' without both)."""
    for command in (['py-spy', 'dump', '--native', '--pid', str(pid)],
                    ['gdb', '-p', str(pid), '-batch', '-ex', 'thread apply all bt 30']):
        if shutil.which(command[0]) is None:
            continue
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            continue
        if done.returncode == 0 and done.stdout.strip():
            return f'{command[0]}:\n{done.stdout[-20000:]}'
    return ''


def start(command: list[str], domain: str | None = None, **kwargs) -> subprocess.Popen:
    from attune.identity.keys import KEY_ENV

    env = dict(os.environ, PYTHONUNBUFFERED='1', PYTHONFAULTHANDLER='1')  # a crash on import leaves its stack
    if domain is not None:
        env['ROS_DOMAIN_ID'] = domain
    env[KEY_ENV] = os.environ['ATTUNE_SHUTDOWN_TEST_PEOPLE_KEY']  # the empty database's (fixture)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, **kwargs)


def start_node(executable: str, name: str, domain: str | None = None) -> Watched:
    return Watched(start([sys.executable, '-m', f'attune.nodes.{executable}', '--ros-args', '-r',
                          f'__node:={name}', *NODE_ARGS.get(executable, [])], domain))


def wait_ready(watched: list[Watched]) -> None:
    wait_started(watched)
    assert_running(watched)


def wait_started(watched: list[Watched]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    for w in watched:
        w.ready.wait(max(0.0, deadline - time.monotonic()))


def assert_running(watched: list[Watched]) -> None:
    for w in watched:
        assert w.popen.poll() is None, f'{w.popen.args} ended before it ran:\n{fatal_report(w.output)}'
        assert w.ready.is_set(), f'{w.popen.args} did not log {READY_MESSAGE!r}:\n{w.output[-3000:]}'


def crashed_before_it_ran(w: Watched) -> bool:
    """Killed by a signal (a crash in native code: SIGSEGV, SIGBUS, SIGABRT) before it logged that it runs."""
    code = w.popen.poll()
    return code is not None and code < 0 and READY_MESSAGE not in w.output


def fatal_report(output: str) -> str:
    """faulthandler's report from its first line on (which thread crashed, and every thread's stack), else
    the output's end."""
    start = output.find('Fatal Python error: ')
    return output[start:start + 8000] if start >= 0 else output[-3000:]


def start_nodes(nodes: dict[tuple[str, str], tuple[str, str]], domain: str) -> dict[tuple[str, str], Watched]:
    """Start every node (each key's value: its executable and node name) at once in ROS domain `domain` and
    wait until each runs. A node process that a native crash killed before it ran is no part of the shutdown under test:
    reported as a warning with its fault report (visible in every run's summary, not hidden) and started
    once more."""
    watched = {key: start_node(*spec, domain) for key, spec in nodes.items()}
    try:
        wait_started(list(watched.values()))
        for key, w in list(watched.items()):
            if crashed_before_it_ran(w):
                warnings.warn(f'{w.popen.args} was killed by signal {-w.popen.returncode} before it ran; started '
                              f'again:\n{fatal_report(w.output)}', stacklevel=2)
                watched[key] = start_node(*nodes[key], domain)
                wait_started([watched[key]])
        assert_running(list(watched.values()))
    except BaseException:
        for w in watched.values():
            if w.popen.poll() is None:
                w.popen.kill()
        raise
    return watched


def ended_by_the_teardown_deadline(output: str, deadline_s: float = MIDDLEWARE_TEARDOWN_S) -> bool:
    """Whether the node's own teardown was complete and the middleware's then hung until the deadline
    of attune.ros.teardown_deadline ended the process: a Fast DDS deadlock (that module's docstring)."""
    return (f'Timeout ({timedelta(seconds=deadline_s)})!' in output
            and re.search(MIDDLEWARE_TEARDOWN_FRAMES, output, re.M) is not None)


def assert_clean(w: Watched, what: str) -> None:
    code = w.finish()
    if code == 1 and ended_by_the_teardown_deadline(w.output):
        # Out of attune's hands; bounded now (it hung the test before), and reported, not hidden.
        warnings.warn(f'{what}: the middleware teardown hung and its deadline ended the process\n'
                      f'{w.output[-3000:]}', stacklevel=2)
        return
    assert code == 0, f'{what}: exit code {code}\n{w.output[-3000:]}'
    assert 'Traceback' not in w.output, f'{what}: traceback\n{w.output[-3000:]}'


@pytest.mark.timeout(900)  # 15 processes start at once: minutes on a busy 2-core machine
@pytest.mark.parametrize('round_', range(ROUNDS))
def test_nodes_stop_cleanly_on_double_sigint_and_on_sigterm(round_: int) -> None:
    # A Fast DDS port that a process of an earlier round or test was killed or ended by its teardown deadline
    # in the middle of changing crashes the next participant that opens it (attune.ros.shm_ports), and every
    # round's processes are given the same port numbers again (from the domain and their index in it, or the
    # first free from 7000). So each round starts without the port files that nothing maps, and runs in a
    # domain of its own: this session's own participant, in another one, never maps (and so never keeps)
    # the ports of a round. No age guard: no node process of this session is starting now.
    remove_zombie_segments(min_age_s=0)
    sigterm_nodes = ('face_node', 'interaction_node')
    started = start_nodes({**{(exe, 'int'): (exe, f'{exe}_int{round_}') for exe in node_executables()},
                           **{(exe, 'term'): (exe, f'{exe}_term{round_}') for exe in sigterm_nodes}},
                          domain=reserve_domain_id())
    sigint = {exe: w for (exe, signal_), w in started.items() if signal_ == 'int'}
    sigterm = {exe: w for (exe, signal_), w in started.items() if signal_ == 'term'}
    everything = list(started.values())
    try:
        for w in sigint.values():
            w.popen.send_signal(signal.SIGINT)
        time.sleep(DOUBLE_SIGINT_GAP_S)  # the gap under test, not a wait for readiness
        for w in sigint.values():
            w.popen.send_signal(signal.SIGINT)
        for w in sigterm.values():
            w.popen.send_signal(signal.SIGTERM)
        for exe, w in sigint.items():
            assert_clean(w, f'{exe} after two SIGINTs')
        for exe, w in sigterm.items():
            assert_clean(w, f'{exe} after SIGTERM')
    finally:
        for w in everything:
            if w.popen.poll() is None:
                w.popen.kill()


@pytest.mark.timeout(900)
def test_attune_up_stops_cleanly_on_group_sigint() -> None:
    """Ctrl-C in the terminal of `attune up`: SIGINT to its whole process group (up and its nodes),
    then `attune up` sends its own SIGINT to each node. 5 runs at once, each in its own group."""
    from attune.graph import node_graph

    nodes = len(node_graph())
    ups = [Watched(start([sys.executable, '-m', 'attune.cli.main', 'up'], start_new_session=True),
                   expected=nodes) for _ in range(ROUNDS)]
    try:
        wait_ready(ups)
        for up in ups:
            os.killpg(up.popen.pid, signal.SIGINT)
        for i, up in enumerate(ups):
            assert_clean(up, f'attune up (run {i}) after a group SIGINT')
            assert 'all nodes stopped' in up.output
            with pytest.raises(ProcessLookupError):  # no node process outlived it
                os.killpg(up.popen.pid, 0)
    finally:
        for up in ups:
            if up.popen.poll() is None:
                os.killpg(up.popen.pid, signal.SIGKILL)


def test_a_stopped_node_process_ends_without_the_interpreters_finalization() -> None:
    """Once stopped and released, a node process exits at once (attune.ros.node_main.run_node, end_process):
    the interpreter's finalization took most of an event emulator's exit (10 s of 11 when 14 stopped
    together on a busy machine), time that 15 nodes stopping at once above all pay together. An atexit
    hook, which finalization would run, must not run; the exit is still clean."""
    code = ('import atexit, sys; atexit.register(print, "FINALIZED", flush=True); '
            'from attune.nodes.event_emulator_node import main; sys.exit(main())')
    w = Watched(start([sys.executable, '-c', code, '--ros-args', '-r', '__node:=event_emulator_node_fast_exit']))
    try:
        wait_ready([w])
        w.popen.send_signal(signal.SIGINT)
        time.sleep(DOUBLE_SIGINT_GAP_S)  # the gap under test, not a wait for readiness
        w.popen.send_signal(signal.SIGINT)
        assert_clean(w, 'event_emulator_node after two SIGINTs')
        assert 'FINALIZED' not in w.output
    finally:
        if w.popen.poll() is None:
            w.popen.kill()
