"""Remove the Fast DDS shared-memory files that processes which died without cleaning up left behind.

Why: a node that is killed (SIGKILL, a crash, the OOM killer) leaves its segment, its port files and the
ports' named semaphores in /dev/shm. Fast DDS's own tool for this, `fastdds shm clean`, is not in the
PyPI wheels, and Fast DDS reports stale segments as a cause of blocked or corrupted ports on the next
start (eProsima/Fast-DDS#1144). A live participant holds an flock on each of its `<name>_el` files (checked
here: an exclusive non-blocking flock fails while the owner lives and succeeds once it has died; fcntl
record locks are not used), so a file whose lock is free belongs to nobody. Files younger than
`min_age_s` are left alone: a process that is starting may not have taken its lock yet.

Ports (`fastdds_port<N>`, a ring of descriptors that senders push to) outlive their users: Fast DDS leaves
the file when the last one closes it, with no lock file, and the next participant given the same port
number (domain and participant id: the same ones again when a set of nodes restarts) opens it as it is.
Fast DDS crashes in that open when a process was killed while it changed the port (eProsima/Fast-DDS#6501,
SIGSEGV in check_sanity), which a participant ended mid-teardown (attune.ros.teardown_deadline) or
SIGKILLed can do. With `ports=True` a port file that no process maps is removed too, with its mutex (as
Fast DDS's own `shm clean` removes its zombie ports); the next user creates a fresh one. Port files are
writable by their owner alone (0644), so only this user's processes can be using one; those are the ones
seen here. Only where no participant can be starting: a participant opens a port file before it maps it,
and one whose file is removed in between is cut off from that port (so not by default, not in `attune up`).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from pathlib import Path

SHM_DIR = Path('/dev/shm')
PROC_DIR = Path('/proc')
PREFIX = 'fastdds_'
PORT = re.compile(rf'{PREFIX}port\d+')


def _owner_gone(lock_file: Path) -> bool:
    try:
        fd = os.open(lock_file, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live process holds it
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def remove_zombie_segments(directory: Path = SHM_DIR, min_age_s: float = 60.0, *, ports: bool = False,
                           proc: Path = PROC_DIR) -> list[str]:
    """Remove each Fast DDS segment or port whose `_el` lock no process holds, with its semaphore; with
    `ports`, also each port file that no process maps (module docstring: only while no participant starts).
    Returns the names removed (empty where the directory does not exist)."""
    removed = _remove_unlocked(directory, min_age_s)
    return removed + (_remove_unmapped_ports(directory, min_age_s, proc) if ports else [])


def _remove_unlocked(directory: Path, min_age_s: float) -> list[str]:
    removed: list[str] = []
    now = time.time()
    try:
        locks = sorted(directory.glob(f'{PREFIX}*_el'))
    except OSError:
        return removed
    for lock in locks:
        base = lock.name[:-len('_el')]
        with contextlib.suppress(OSError):
            if now - lock.stat().st_mtime < min_age_s or not _owner_gone(lock):
                continue
            for name in (base, lock.name, f'sem.{base}_mutex'):
                with contextlib.suppress(FileNotFoundError):
                    (directory / name).unlink()
                    removed.append(name)
    return removed


def _remove_unmapped_ports(directory: Path, min_age_s: float, proc: Path) -> list[str]:
    removed: list[str] = []
    now = time.time()
    try:
        ports = [p for p in directory.iterdir() if PORT.fullmatch(p.name)]
    except OSError:
        return removed
    if not ports:
        return removed
    mapped = _mapped_names(directory, proc)
    for port in ports:
        with contextlib.suppress(OSError):
            if now - port.stat().st_mtime < min_age_s or port.name in mapped:
                continue
            for name in (port.name, f'sem.{port.name}_mutex'):
                with contextlib.suppress(FileNotFoundError):
                    (directory / name).unlink()
                    removed.append(name)
    return removed


def _mapped_names(directory: Path, proc: Path) -> set[str]:
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
