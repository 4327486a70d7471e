"""A node process that fails where attune's code cannot help it still ends, and leaves evidence.

* Its middleware teardown hangs (attune.ros.teardown_deadline): it ends anyway, with its stacks.
* Native code crashes (SIGSEGV) while the node is built: its Python stacks are on stderr (faulthandler,
  enabled by run_node).

The hang this guards against (a Fast DDS deadlock while a participant is destroyed) cannot be provoked
on demand, so the hang is stood in for by what makes it hard to escape: native code that blocks while
holding the interpreter lock (libc's sleep called through ctypes.PyDLL, which keeps the lock, as
rclpy's bindings do), so that no Python thread could act. Each case runs in its own process.
"""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap

import pytest

from attune.ros.node_main import READY_MESSAGE
from test.ros.test_clean_shutdown import ended_by_the_teardown_deadline

#: The deadline in these processes (the product's is MIDDLEWARE_TEARDOWN_S): short, so the tests are quick.
DEADLINE_S = 0.5
#: How long a process may take to end at all: generous, it is not a timing check.
END_TIMEOUT_S = 120.0

HANG_HOLDING_THE_LOCK = 'ctypes.PyDLL(None).sleep(3600)'


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=END_TIMEOUT_S)


def test_a_block_that_hangs_holding_the_interpreter_lock_ends_the_process_with_its_stacks() -> None:
    done = run_python(f'''
        import ctypes
        from attune.ros.teardown_deadline import exit_if_stuck

        def destroy_the_participant():
            {HANG_HOLDING_THE_LOCK}

        with exit_if_stuck({DEADLINE_S}):
            destroy_the_participant()
        print('NOT REACHED')
    ''')
    assert done.returncode == 1, done
    assert 'NOT REACHED' not in done.stdout
    assert 'Timeout (0:00:00.500000)!' in done.stderr, done.stderr
    assert 'in destroy_the_participant' in done.stderr, done.stderr  # where it hung, for the log's reader


def test_a_block_that_returns_in_time_cancels_the_deadline() -> None:
    done = run_python(f'''
        import time
        from attune.ros.teardown_deadline import exit_if_stuck

        with exit_if_stuck({DEADLINE_S}):
            pass
        time.sleep({DEADLINE_S} * 4)  # past the deadline: nothing may fire any more
        print('ALIVE')
    ''')
    assert done.returncode == 0, done
    assert 'ALIVE' in done.stdout
    assert 'Timeout' not in done.stderr


#: Where the middleware's part of a node's exit can hang: rclpy's shutdown, and the context's destruction
#: (the participant leaves: where Fast DDS deadlocked in CI).
HANGING_STEPS = {'shutdown': 'rclpy.try_shutdown = hang', 'participant': 'rclpy.context.Context.destroy = hang'}


@pytest.mark.ros
@pytest.mark.parametrize('step', sorted(HANGING_STEPS))
def test_a_node_whose_middleware_teardown_hangs_still_exits(step: str) -> None:
    """The real node main (attune.ros.node_main.run_node) on a real node, stopped by SIGINT; one
    middleware step after the node's own teardown hangs."""
    code = f'''
        import ctypes, sys
        import rclpy, rclpy.context
        from attune.ros import teardown_deadline
        teardown_deadline.MIDDLEWARE_TEARDOWN_S = {DEADLINE_S}

        def hang(*args, **kwargs):
            {HANG_HOLDING_THE_LOCK}

        {HANGING_STEPS[step]}
        from attune.nodes.sim_robot_node import main
        sys.exit(main())
    '''
    output, exit_code = stop_running_node(code, f'teardown_deadline_{step}', signal.SIGINT)
    assert exit_code == 1, output
    assert 'Timeout (0:00:00.500000)!' in output, output
    assert 'in hang' in output, output
    assert 'Traceback' not in output, output  # a dump of the stacks, not an exception
    assert ended_by_the_teardown_deadline(output, DEADLINE_S)  # what test_clean_shutdown lets pass, with a warning


@pytest.mark.ros
def test_a_node_that_crashes_while_it_is_built_leaves_its_python_stacks() -> None:
    """Before the node spins (rclpy.init, the node's construction: DDS entities, MediaPipe, onnxruntime),
    which is where a node process of test_clean_shutdown once vanished with SIGSEGV and no output. Once
    it spins, rclpy's EventsExecutor enables faulthandler itself."""
    done = run_python('''
        import os, signal, sys
        from attune.nodes import sim_robot_node

        def crash_while_built(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGSEGV)

        sim_robot_node.SimRobotNode.__init__ = crash_while_built
        sys.exit(sim_robot_node.main())
    ''')
    assert done.returncode == -signal.SIGSEGV, done
    assert 'Fatal Python error: Segmentation fault' in done.stderr, done.stderr
    assert 'in crash_while_built' in done.stderr, done.stderr
    assert re.search(r'node_main\.py", line \d+ in _run', done.stderr), done.stderr


def stop_running_node(code: str, name: str, signum: int) -> tuple[str, int]:
    """Start `code` (a node's main) in a process, send `signum` once it spins; its output and exit code."""
    process = subprocess.Popen([sys.executable, '-c', textwrap.dedent(code), '--ros-args', '-r', f'__node:={name}'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        for line in process.stdout:  # the node logs READY_MESSAGE once it spins
            lines.append(line)
            if READY_MESSAGE in line:
                break
        assert process.poll() is None, ''.join(lines)
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=END_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    return ''.join(lines) + rest, process.returncode
