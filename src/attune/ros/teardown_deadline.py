"""A deadline on the part of a node process's exit that runs in the middleware: past it, the process
dumps every thread's Python stack to stderr and exits with status 1.

Why: when many participants leave at once, Fast DDS 3.2 can deadlock while a participant is destroyed
(seen in CI, test/ros/test_clean_shutdown.py: the main thread in rmw's destroy_participant waiting in
DomainParticipant::set_listener for a discovery callback to finish, that callback, on the UDP receive
thread, blocked on a mutex; the same class of hang as eProsima/Fast-DDS#6193). The node's own teardown
is complete by then (its node destroyed, its session logs closed), but the process would never end,
and `ros2 launch` or `attune up` would have to kill it.

rclpy holds the interpreter lock while it destroys a context (its pybind11 bindings do not release it),
so no Python thread can act as the watchdog. faulthandler's timer is a native thread that needs no
lock: it writes `Timeout (0:00:08)!` and the stacks (the innermost attune frame names the step that
hung), then calls _exit(1).
"""
from __future__ import annotations

import contextlib
import faulthandler
from collections.abc import Iterator

#: Seconds each middleware step of the exit gets. Normal: well under 3 s for the whole exit, even with 15
#: nodes stopping together on a busy 2-core machine; a deadlock never ends. Under 10 s, so that the node
#: ends on its own, with its stacks, before `ros2 launch` SIGKILLs it (SIGTERM 5 s after its SIGINT, SIGKILL
#: 5 s later, by default).
MIDDLEWARE_TEARDOWN_S = 8.0
#: stderr's file descriptor: faulthandler needs a real one, and sys.stderr may be replaced (tests, tools).
STDERR_FD = 2


@contextlib.contextmanager
def exit_if_stuck(seconds: float | None = None) -> Iterator[None]:
    """Run the block; if it has not returned within `seconds` (default MIDDLEWARE_TEARDOWN_S), dump all
    stacks and exit the process (1).

    One deadline at a time per process (faulthandler has one timer): not nested, and it replaces a timer
    someone else armed.
    """
    faulthandler.dump_traceback_later(MIDDLEWARE_TEARDOWN_S if seconds is None else seconds, exit=True,
                                      file=STDERR_FD)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
