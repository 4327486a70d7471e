"""Remove the Fast DDS port files that no process uses, each under the port's own interprocess mutex.

Why: port files (`fastdds_port<N>`, the ring of descriptors that senders push to a listener) are left
behind without any lock file (688 on the development machine after a day of test runs), and the next
participant given that port number opens one as it is: numbers follow the domain and the participant's
index in it, or are the first free from 7000, so restarted nodes get the same ones again. A port that a
process was killed in the middle of changing (SIGKILL, a crash, a participant ended mid-teardown by
attune.ros.teardown_deadline) makes that open crash with SIGSEGV (eProsima/Fast-DDS#6501: reproduced here
by overwriting 1 KB near the end of a leftover port file; the likely cause of a node that died so in CI before it
ran). Fast DDS removes a port itself only when its listener's `_el` lock file is left unlocked.

How it stays safe beside participants that start meanwhile: Fast DDS opens a port, maps it and checks it
while holding the port's named mutex (the POSIX semaphore `sem.fastdds_port<N>_mutex`). Here each candidate
is try-locked on that same semaphore (never waited for), /proc is read once for what any process maps,
and only an unmapped port's file is removed before the mutex is released; the next participant creates a
fresh one under it. The semaphore itself stays: a participant may already have opened it to wait on.
A port without its semaphore, or whose mutex is held, is left alone. Port files are writable by their owner
alone (0644), so only this user's processes can use one, and those are the processes whose maps are read.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
from collections.abc import Iterator
from pathlib import Path

PORT = re.compile(r'fastdds_port\d+')


def remove_unused_ports(directory: Path, proc: Path = Path('/proc')) -> list[str]:
    """Remove each port file in `directory` that no process maps and no participant is opening.
    Returns the names removed."""
    try:
        ports = sorted(p.name for p in directory.iterdir() if PORT.fullmatch(p.name))
    except OSError:
        return []
    removed: list[str] = []
    with contextlib.ExitStack() as held:
        locked = [port for port in ports if held.enter_context(_port_mutex(directory, port))]
        if not locked:
            return removed
        mapped = mapped_names(directory, proc)
        for port in locked:
            if port not in mapped:
                with contextlib.suppress(FileNotFoundError):
                    (directory / port).unlink()
                    removed.append(port)
    return removed


def mapped_names(directory: Path, proc: Path = Path('/proc')) -> set[str]:
    """Names of the files in `directory` that a process this user may read maps."""
    prefix = f'{directory}/'
    names: set[str] = set()
    for maps in proc.glob('[0-9]*/maps'):
        try:
            text = maps.read_text()
        except OSError:  # ended meanwhile, or another user's process (it cannot write our ports)
            continue
        for line in text.splitlines():
            at = line.find(prefix)
            if at >= 0:
                names.add(line[at + len(prefix):].removesuffix(' (deleted)'))
    return names


@contextlib.contextmanager
def _port_mutex(directory: Path, port: str) -> Iterator[bool]:
    """Try-lock the port's named mutex for the block: True when held (released after), False when the port
    has none here or someone holds it."""
    if not (directory / f'sem.{port}_mutex').exists():
        yield False
        return
    semaphore = _SEMAPHORES.open(f'/{port}_mutex') if directory == _SEMAPHORES.directory else None
    if semaphore is None:
        yield False
        return
    try:
        if _SEMAPHORES.try_lock(semaphore):
            try:
                yield True
            finally:
                _SEMAPHORES.unlock(semaphore)
        else:
            yield False
    finally:
        _SEMAPHORES.close(semaphore)


class _PosixSemaphores:
    """glibc's named semaphores (sem_open and friends; the standard library has no binding), which live as
    `sem.<name>` files in /dev/shm."""

    directory = Path('/dev/shm')

    def __init__(self) -> None:
        self._libc: ctypes.CDLL | None = None

    def _lib(self) -> ctypes.CDLL:
        if self._libc is None:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.sem_open.restype = ctypes.c_void_p
            libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
            for name in ('sem_trywait', 'sem_post', 'sem_close'):
                getattr(libc, name).argtypes = [ctypes.c_void_p]
                getattr(libc, name).restype = ctypes.c_int
            self._libc = libc
        return self._libc

    def open(self, name: str) -> int | None:
        """An existing semaphore (never created here), or None."""
        try:
            handle: int | None = self._lib().sem_open(os.fsencode(name), 0)
        except (OSError, AttributeError):  # no glibc here: leave every port alone
            return None
        return handle or None  # SEM_FAILED is a null pointer

    def try_lock(self, handle: int) -> bool:
        status: int = self._lib().sem_trywait(handle)
        return status == 0

    def unlock(self, handle: int) -> None:
        self._lib().sem_post(handle)

    def close(self, handle: int) -> None:
        self._lib().sem_close(handle)


_SEMAPHORES = _PosixSemaphores()
