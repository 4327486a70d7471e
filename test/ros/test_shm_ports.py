"""attune.ros.shm_ports removes a Fast DDS port file only when no process maps it and no participant holds
its mutex, in the real /dev/shm with real POSIX semaphores (made here with numbers no Fast DDS uses)."""
from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
from pathlib import Path

import pytest

from attune.ros.shm_ports import remove_unused_ports

SHM = Path('/dev/shm')
O_CREAT, O_EXCL = os.O_CREAT, os.O_EXCL

pytestmark = pytest.mark.skipif(not SHM.is_dir(), reason='no /dev/shm here (POSIX shared memory on Linux)')


class Semaphores:
    """Named semaphores made for the test (a libc handle of its own, unlike the module's)."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.sem_open.restype = ctypes.c_void_p
        self.made: list[tuple[str, int]] = []

    def make(self, name: str) -> int:
        handle = self.libc.sem_open(os.fsencode(f'/{name}'), O_CREAT | O_EXCL, ctypes.c_uint(0o644), ctypes.c_uint(1))
        assert handle, f'sem_open({name}) failed: errno {ctypes.get_errno()}'
        self.made.append((name, handle))
        return handle

    def hold(self, handle: int) -> None:
        assert self.libc.sem_trywait(ctypes.c_void_p(handle)) == 0

    def value(self, handle: int) -> int:
        value = ctypes.c_int()
        self.libc.sem_getvalue(ctypes.c_void_p(handle), ctypes.byref(value))
        return value.value

    def remove_all(self) -> None:
        for name, handle in self.made:
            self.libc.sem_close(ctypes.c_void_p(handle))
            self.libc.sem_unlink(os.fsencode(f'/{name}'))


def test_only_a_port_that_nobody_maps_or_opens_is_removed_and_its_mutex_stays_free() -> None:
    base = 900000 + os.getpid() % 90000 * 10  # far above the numbers Fast DDS gives (7000..., 7400 + 250 x domain)
    free, mapped, opening, no_mutex = (f'fastdds_port{base + i}' for i in range(4))
    semaphores = Semaphores()
    try:
        for port in (free, mapped, opening, no_mutex):
            (SHM / port).write_bytes(b'\0' * 4096)
        handles = {port: semaphores.make(f'{port}_mutex') for port in (free, mapped, opening)}
        semaphores.hold(handles[opening])  # a participant opening that port right now
        with open(SHM / mapped, 'r+b') as f, mmap.mmap(f.fileno(), 4096) as in_use:  # a participant using it
            removed = remove_unused_ports(SHM)
            in_use[0] = 1
        ours = {free, mapped, opening, no_mutex}
        assert [name for name in removed if name in ours] == [free]
        assert not (SHM / free).exists() and all((SHM / port).exists() for port in (mapped, opening, no_mutex))
        assert (SHM / f'sem.{free}_mutex').exists()  # a participant may already wait on it
        assert semaphores.value(handles[free]) == 1 and semaphores.value(handles[mapped]) == 1  # released
        assert semaphores.value(handles[opening]) == 0  # still the opener's
    finally:
        semaphores.remove_all()
        for port in (free, mapped, opening, no_mutex):
            with contextlib.suppress(FileNotFoundError):
                (SHM / port).unlink()


def test_a_directory_without_ports_or_one_that_is_missing_is_nothing_to_clean(tmp_path: Path) -> None:
    assert remove_unused_ports(tmp_path) == []
    assert remove_unused_ports(tmp_path / 'absent') == []


#: A participant that says it runs, then waits (for the kill) or ends (argv[1] == 'end').
PARTICIPANT = '''
import sys, time, rclpy
rclpy.init()
node = rclpy.create_node('shm_ports_probe')
print('running', flush=True)
if sys.argv[1] == 'wait':
    time.sleep(120)
node.destroy_node()
rclpy.shutdown()
'''


@pytest.mark.ros
def test_a_half_written_port_that_a_killed_participant_left_is_removed_before_the_next_one_opens_it() -> None:
    """The real thing (eProsima/Fast-DDS#6501): a participant is killed, its unicast port is left without a
    lock file and with 1 KB near its end overwritten (what a process killed while changing it leaves); the
    next participant given that port number crashed with SIGSEGV as it started (every time here), unless the
    port was removed first."""
    import subprocess
    import sys

    from attune.ros.shm_clean import remove_zombie_segments
    from test.conftest import reserve_domain_id

    domain = reserve_domain_id()  # a domain of its own: its first participant's unicast port is known
    port = SHM / f'fastdds_port{7411 + 250 * int(domain)}'
    env = dict(os.environ, ROS_DOMAIN_ID=domain)
    killed = subprocess.Popen([sys.executable, '-c', PARTICIPANT, 'wait'], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert killed.stdout.readline().strip() == 'running'
        assert port.exists(), sorted(p.name for p in SHM.glob('fastdds_port*'))
    finally:
        killed.kill()
        killed.wait()
    Path(f'{port}_el').unlink(missing_ok=True)
    with open(port, 'r+b') as f:
        f.seek(port.stat().st_size - 1500)
        f.write(os.urandom(1024))
    assert port.name in remove_zombie_segments()
    started = subprocess.run([sys.executable, '-c', PARTICIPANT, 'end'], env=env, capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 0 and 'running' in started.stdout, started.stderr[-3000:]
