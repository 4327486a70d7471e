"""Remove the Fast DDS shared-memory files that processes which died without cleaning up left behind.

Why: a node that is killed (SIGKILL, a crash, the OOM killer) leaves its segment, its port files and the
ports' named semaphores in /dev/shm. Fast DDS's own tool for this, `fastdds shm clean`, is not in the
PyPI wheels, and Fast DDS reports stale segments as a cause of blocked or corrupted ports on the next
start (eProsima/Fast-DDS#1144). A live participant holds an flock on each of its `<name>_el` files (checked
here: an exclusive non-blocking flock fails while the owner lives and succeeds once it has died; fcntl
record locks are not used), so a file whose lock is free belongs to nobody. Files younger than
`min_age_s` are left alone: a process that is starting may not have taken its lock yet.

Port files that no process uses are removed too (attune.ros.shm_ports: a port a killed process left
half-written crashes the next participant that opens it).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from attune.ros.shm_ports import remove_unused_ports

SHM_DIR = Path('/dev/shm')
PREFIX = 'fastdds_'


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


def remove_zombie_segments(directory: Path = SHM_DIR, min_age_s: float = 60.0) -> list[str]:
    """Remove each Fast DDS segment or port whose `_el` lock no process holds, with its semaphore, then each
    port file that no process uses. Returns the names removed (empty where the directory does not exist)."""
    return _remove_unlocked(directory, min_age_s) + remove_unused_ports(directory)


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
