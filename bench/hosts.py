"""Two "hosts" on one machine: network namespaces joined by a veth pair, each running part of the graph.

Used by test/deploy/test_two_hosts.py and bench/two_hosts.py. Needs root and iproute2 (`ip netns`);
`unavailable_reason()` says why not where they are missing. The addresses are a private /24 that
exists only inside the two namespaces, so the machine's own network is never touched.

Each host runs bench/host_run.py (perception: camera + face and expression nodes; robot: interaction,
behaviour and sim robot nodes plus a probe) under `ip netns exec`. With `private_shm` every host gets
its own /dev/shm, like a separate machine: Fast DDS cannot take its shared-memory shortcut between
the hosts, so their traffic really crosses the veth link over UDP.
"""
from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST_RUN = REPO / 'bench' / 'host_run.py'
DISCOVERY_PORT = 11811


def unavailable_reason() -> str | None:
    """Why two namespaces cannot be made here, or None when they can."""
    if os.name != 'posix' or not hasattr(os, 'geteuid'):
        return 'network namespaces need Linux'
    if os.geteuid() != 0:
        return 'making network namespaces needs root (run as root, or in a container with CAP_NET_ADMIN)'
    if not shutil.which('ip'):
        return 'iproute2 (`ip`) is not installed'
    name = f'attune_probe_{os.getpid()}'
    made = subprocess.run(['ip', 'netns', 'add', name], capture_output=True, text=True)
    if made.returncode != 0:
        return f'`ip netns add` is not allowed here: {made.stderr.strip()}'
    subprocess.run(['ip', 'netns', 'del', name], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(['ip', *args], check=True, capture_output=True, text=True)


class Namespaces:
    """Two namespaces, `perception` and `robot`, joined by a veth pair in 10.<a>.<b>.0/24.

    Use as a context manager: the namespaces (and with them the veth pair) are deleted on exit,
    also when the body fails."""

    def __init__(self) -> None:
        tag = f'{os.getpid() % 10000}_{random.randint(0, 9999)}'
        self.names = {'perception': f'att_perc_{tag}', 'robot': f'att_robot_{tag}'}
        subnet = f'10.{random.randint(100, 250)}.{random.randint(0, 255)}'
        self.addresses = {'perception': f'{subnet}.1', 'robot': f'{subnet}.2'}
        self.veth = {role: f'veth_{role[:4]}{tag[-4:]}' for role in self.names}

    def __enter__(self) -> Namespaces:
        try:
            for name in self.names.values():
                _ip('netns', 'add', name)
            veth = self.veth
            _ip('link', 'add', veth['perception'], 'type', 'veth', 'peer', 'name', veth['robot'])
            for role, name in self.names.items():
                _ip('link', 'set', veth[role], 'netns', name)
                _ip('-n', name, 'addr', 'add', f'{self.addresses[role]}/24', 'dev', veth[role])
                _ip('-n', name, 'link', 'set', veth[role], 'up')
                _ip('-n', name, 'link', 'set', 'lo', 'up')
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        for name in self.names.values():
            subprocess.run(['ip', 'netns', 'del', name], capture_output=True)

    def received_bytes(self, role: str) -> int:
        """Bytes `role`'s end of the veth link has received (traffic that crossed between the hosts)."""
        out = subprocess.run(['ip', '-n', self.names[role], '-j', '-s', 'link', 'show', 'dev', self.veth[role]],
                             check=True, capture_output=True, text=True).stdout
        return int(json.loads(out)[0]['stats64']['rx']['bytes'])

    def command(self, role: str, argv: list[str], private_shm: bool) -> list[str]:
        """`argv` run in `role`'s namespace (and, with private_shm, its own /dev/shm)."""
        prefix = ['ip', 'netns', 'exec', self.names[role]]
        if not private_shm:
            return prefix + argv
        # `ip netns exec` gives each command its own mount namespace; mounting there hides the
        # machine's /dev/shm from this host's processes only.
        return prefix + ['sh', '-c', 'mount -t tmpfs -o size=1g attune_shm /dev/shm && exec "$@"', 'host', *argv]


@dataclass
class Host:
    """One bench/host_run.py process; its JSON lines arrive on `events`."""

    role: str
    popen: subprocess.Popen
    events: queue.Queue = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                self.events.put(json.loads(line))
        self.events.put({'event': 'exit', 'code': self.popen.wait()})

    def wait_for(self, predicate: Callable[[dict], bool], timeout_s: float,
                 on_event: Callable[[dict], None] = lambda _e: None) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f'{self.role} host: condition not met within {timeout_s:.0f} s') from None
            if event['event'] == 'exit':
                raise RuntimeError(f'{self.role} host exited with code {event["code"]}')
            on_event(event)
            if predicate(event):
                return event

    def send(self, line: str) -> None:
        self.popen.stdin.write(line + '\n')
        self.popen.stdin.flush()

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                self.popen.stdin.close()
                self.popen.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.popen.kill()
                self.popen.wait()


def host_environment(discovery: str, server: str = '', domain: int | None = None) -> dict[str, str]:
    """The environment of a host: default discovery across the subnet, or a Discovery Server."""
    env = os.environ.copy()
    env['ROS_DOMAIN_ID'] = str(domain if domain is not None else random.SystemRandom().randint(101, 200))
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'SUBNET'
    env['PYTHONPATH'] = os.pathsep.join([str(REPO / 'src'), env.get('PYTHONPATH', '')])
    env.pop('ROS_DISCOVERY_SERVER', None)
    if discovery == 'server':
        env['ROS_DISCOVERY_SERVER'] = server
    return env


def start_host(namespaces: Namespaces, namespace: str, role: str, env: dict[str, str], private_shm: bool,
               extra: list[str] = (), log=None) -> Host:
    """bench/host_run.py `role` in the namespace of `namespace` (perception or robot)."""
    argv = [sys.executable, str(HOST_RUN), role, *extra]
    popen = subprocess.Popen(namespaces.command(namespace, argv, private_shm), env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=log or subprocess.DEVNULL, text=True, bufsize=1)
    return Host(role, popen)


def run_split_graph(namespaces: Namespaces, discovery: str, layout: str, seconds: float,
                    startup_timeout_s: float = 120.0, log=None) -> dict:
    """Start the hosts, stream an empty scene until the robot host's interaction node receives Faces,
    then the face clip until the robot host has received a face and the behaviour command it caused,
    and `seconds` longer; return the robot host's receive events stamped from the clip's first image
    on (and the robot's activity lines).

    layout: 'two_hosts' (perception and robot in their namespaces, each with its own /dev/shm) or
    'single_host' (both in the perception namespace, sharing /dev/shm: one machine)."""
    two = layout == 'two_hosts'
    robot_ns = 'robot' if two else 'perception'
    server = f'{namespaces.addresses[robot_ns]}:{DISCOVERY_PORT}'
    env = host_environment(discovery, server)
    hosts: list[Host] = []
    try:
        if discovery == 'server':
            ds = start_host(namespaces, robot_ns, 'discovery-server', env, False, ['--address', server], log)
            hosts.append(ds)
            ds.wait_for(lambda e: e['event'] == 'ready', startup_timeout_s)
        robot = start_host(namespaces, robot_ns, 'robot', env, two, [], log)
        hosts.append(robot)
        perception = start_host(namespaces, 'perception', 'perception', env, two, [], log)
        hosts.append(perception)
        robot.wait_for(lambda e: e['event'] == 'ready', startup_timeout_s)
        perception.wait_for(lambda e: e['event'] == 'ready', startup_timeout_s)
        images: dict[int, int] = {}
        received: list[dict] = []
        drain = lambda: _drain(perception, images)  # noqa: E731
        # The camera starts on an empty scene; the person steps in once the robot host's interaction
        # node is fusing Faces from the perception host (discovery done on both sides).
        perception.send('go')
        robot.wait_for(lambda e: e['event'] == 'interaction_input', startup_timeout_s, on_event=lambda _e: drain())
        perception.send('face')
        first_image = perception.wait_for(lambda e: e['event'] == 'image', 30)
        images[first_image['stamp_ns']] = first_image['index']

        def keep(event: dict) -> None:
            # Results of the empty scene still in flight are not the clip's.
            if event.get('stamp_ns', first_image['stamp_ns']) >= first_image['stamp_ns']:
                received.append(event)
            drain()
        robot.wait_for(lambda _e: first_reaction(received) is not None, startup_timeout_s, on_event=keep)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                robot.wait_for(lambda _e: False, max(0.01, end - time.monotonic()), on_event=keep)
            except TimeoutError:
                break
        drain()
        return {'first_image_ns': first_image['stamp_ns'], 'images': images, 'events': received}
    finally:
        for host in reversed(hosts):
            host.stop()


def first_reaction(events: list[dict]) -> dict | None:
    """The robot host's first behaviour command caused by a face: the first command stamped no earlier
    than the image of the first Faces that held a face, or None.

    By stamps, not by arrival: the probe's Faces and command subscriptions are separate readers, so a
    command can arrive before the Faces message that caused it. (The behaviour node also commands while
    nobody is there; those are stamped before the face's image.)"""
    face = next((e for e in events if e['event'] == 'faces' and e['faces'] > 0), None)
    if face is None:
        return None
    return next((e for e in events if e['event'] == 'command' and e['stamp_ns'] >= face['stamp_ns']), None)


def _drain(host: Host, images: dict[int, int]) -> None:
    while True:
        try:
            event = host.events.get_nowait()
        except queue.Empty:
            return
        if event['event'] == 'image':
            images[event['stamp_ns']] = event['index']
