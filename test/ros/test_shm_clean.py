"""attune.ros.shm_clean removes only what no live process holds, and nothing just created."""
from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from attune.ros.shm_clean import _owner_gone, remove_zombie_segments
from attune.ros.shm_ports import mapped_names


def make(directory: Path, base: str, age_s: float) -> Path:
    then = time.time() - age_s
    for name in (base, f'{base}_el', f'sem.{base}_mutex'):
        (directory / name).write_bytes(b'\0')
        os.utime(directory / name, (then, then))
    return directory / f'{base}_el'


def test_only_old_files_whose_lock_is_free_are_removed(tmp_path: Path) -> None:
    make(tmp_path, 'fastdds_dead0000', 120)
    make(tmp_path, 'fastdds_port7011', 120)
    make(tmp_path, 'fastdds_new00000', 1)  # a starting process may not hold its lock yet
    held = make(tmp_path, 'fastdds_live0000', 120)
    (tmp_path / 'unrelated').write_bytes(b'x')
    fd = os.open(held, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)  # as a live participant does
    try:
        removed = remove_zombie_segments(tmp_path, min_age_s=60)
    finally:
        os.close(fd)
    assert sorted(removed) == sorted([
        'fastdds_dead0000', 'fastdds_dead0000_el', 'sem.fastdds_dead0000_mutex',
        'fastdds_port7011', 'fastdds_port7011_el', 'sem.fastdds_port7011_mutex'])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        'fastdds_new00000', 'fastdds_new00000_el', 'sem.fastdds_new00000_mutex',
        'fastdds_live0000', 'fastdds_live0000_el', 'sem.fastdds_live0000_mutex', 'unrelated'])


def test_a_missing_directory_is_nothing_to_clean(tmp_path: Path) -> None:
    assert remove_zombie_segments(tmp_path / 'absent') == []


def test_a_live_participants_locks_are_seen_as_held() -> None:
    """The real thing: a DDS participant made here holds the locks of the files it creates, so none of
    them counts as a zombie (checked without removing anything of other processes)."""
    import rclpy

    before = {p.name for p in Path('/dev/shm').glob('fastdds_*_el')}
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('shm_clean_probe', context=context)
    try:
        created = {p for p in Path('/dev/shm').glob('fastdds_*_el') if p.name not in before}
        assert created, 'the participant made no shared-memory files'
        assert not any(_owner_gone(lock) for lock in created)
        # and every port this process listens on (it holds their locks) is seen as mapped, so
        # attune.ros.shm_ports never takes it for unused
        ours = flocked_inodes(os.getpid())
        listened = {lock.name[:-len('_el')] for lock in Path('/dev/shm').glob('fastdds_port*_el')
                    if inode(lock) in ours}
        mapped = mapped_names(Path('/dev/shm'))
        assert listened and listened <= mapped, (listened, mapped)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)


def flocked_inodes(pid: int) -> set[int]:
    """Inodes of the files on which process `pid` holds an flock (/proc/locks; waiting requests left out)."""
    inodes = set()
    for line in Path('/proc/locks').read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == 'FLOCK' and fields[4] == str(pid):
            inodes.add(int(fields[5].rsplit(':', 1)[-1]))
    return inodes


def inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:  # another process's, gone meanwhile
        return None
