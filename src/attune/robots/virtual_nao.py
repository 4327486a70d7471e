"""A virtual NAO: a local libqi service directory with services named like NAOqi's that record every
call. A real libqi peer (the bridge talks to it exactly as to a robot), not a mock of our code.

    python -m attune.robots.virtual_nao --url tcp://127.0.0.1:9559     # then robot:=nao with that url
    python -m attune.robots.virtual_nao --url tcp://127.0.0.1:0 --record calls.jsonl   # tests

The first line printed is `virtual NAO listening on tcp://HOST:PORT`. With --record, every call is
appended to the file as one JSON object {"service", "method", "args"} (flushed at once).
Tests run it as a separate process: libqi keeps process-wide routes to services of the same name
("qi:ALTextToSpeech"), so two robots (or a robot and a client) in one process can disturb each other.

Services: ALTextToSpeech (say blocks for the speech's duration, as on a robot), ALAnimatedSpeech,
ALLeds, ALMotion (keeps head angles: setAngles moves them, getAngles reads them), ALAnimationPlayer.
"""
from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any

from attune.robots.naoqi import SERVICES, import_qi


class _Recorder:
    def __init__(self, robot: VirtualNao, name: str) -> None:
        self._robot, self._name = robot, name

    def _record(self, method: str, *args: Any) -> None:
        self._robot.record(self._name, method, args)


class _TextToSpeech(_Recorder):
    def say(self, text: str, *config: Any) -> None:
        self._record('say', text, *config)
        self._robot.speak(text)

    def setVolume(self, volume: float) -> None:  # noqa: N802 - NAOqi's names
        self._record('setVolume', volume)

    def setParameter(self, name: str, value: Any) -> None:  # noqa: N802
        self._record('setParameter', name, value)

    def stopAll(self) -> None:  # noqa: N802
        self._record('stopAll')
        self._robot.stop_speaking.set()


class _AnimatedSpeech(_TextToSpeech):
    pass


class _Leds(_Recorder):
    def fadeRGB(self, name: str, *rgb_duration: float) -> None:  # noqa: N802
        self._record('fadeRGB', name, *rgb_duration)


class _Motion(_Recorder):
    def setAngles(self, names: str | list[str], angles: float | list[float], speed: float) -> None:  # noqa: N802
        self._record('setAngles', names, angles, speed)
        joints = [names] if isinstance(names, str) else list(names)
        values = [angles] if isinstance(angles, (int, float)) else list(angles)
        for n, a in zip(joints, values):
            self._robot.joints[n] = float(a)

    def getAngles(self, names: str | list[str], use_sensors: bool) -> list[float]:  # noqa: N802
        joints = [names] if isinstance(names, str) else list(names)
        return [self._robot.joints.get(n, 0.0) for n in joints]

    def move(self, x: float, y: float, theta: float) -> None:
        self._record('move', x, y, theta)

    def stopMove(self) -> None:  # noqa: N802
        self._record('stopMove')

    def wakeUp(self) -> None:  # noqa: N802
        self._record('wakeUp')


class _AnimationPlayer(_Recorder):
    def run(self, animation: str) -> None:
        self._record('run', animation)


_CLASSES = {'ALTextToSpeech': _TextToSpeech, 'ALAnimatedSpeech': _AnimatedSpeech, 'ALLeds': _Leds,
            'ALMotion': _Motion, 'ALAnimationPlayer': _AnimationPlayer}


class VirtualNao:
    """Serves NAOqi-named services on a local libqi service directory.

    Args:
        url: where to listen ('tcp://127.0.0.1:0' picks a free port; give the same url to restart
            a robot at the same address).
        services: which services to register (drop some to test a robot without them).
        seconds_per_word: how long say() blocks per word (a robot speaks for a while).
    """

    def __init__(self, url: str = 'tcp://127.0.0.1:0', services: tuple[str, ...] = SERVICES,
                 seconds_per_word: float = 0.05, record: str | None = None) -> None:
        self._qi = import_qi()
        self.requested_url = url
        self.services = services
        self.seconds_per_word = seconds_per_word
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        self.joints: dict[str, float] = {'HeadYaw': 0.0, 'HeadPitch': 0.0}
        self.stop_speaking = threading.Event()
        self._lock = threading.Lock()
        self._session: Any = None
        self._objects: list[Any] = []
        self._record = open(record, 'a', encoding='utf-8') if record else None  # noqa: SIM115 - closed in stop()

    def start(self) -> VirtualNao:
        session = self._qi.Session()
        session.listenStandalone(self.requested_url)
        for name in self.services:
            obj = _CLASSES[name](self, name)
            self._objects.append(obj)
            session.registerService(name, obj)
        self._session = session
        return self

    @property
    def url(self) -> str:
        """The tcp:// endpoint the robot listens on."""
        endpoints: list[str] = [e for e in self._session.endpoints() if e.startswith('tcp://')]
        return endpoints[0]

    def record(self, service: str, method: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self.calls.append((service, method, tuple(args)))
            if self._record is not None:
                self._record.write(json.dumps({'service': service, 'method': method, 'args': list(args)},
                                              default=str) + '\n')
                self._record.flush()

    def speak(self, text: str) -> None:
        self.stop_speaking.clear()
        self.stop_speaking.wait(self.seconds_per_word * max(1, len(str(text).split())))

    def calls_to(self, service: str | None = None, method: str | None = None) -> list[tuple[str, str, tuple[Any, ...]]]:
        with self._lock:
            return [c for c in self.calls if (service is None or c[0] == service)
                    and (method is None or c[1] == method)]

    def stop(self) -> None:
        """Close the service directory (clients see a disconnection)."""
        if self._session is not None:
            self.stop_speaking.set()
            self._session.close()
            self._session = None
        if self._record is not None:
            self._record.close()
            self._record = None

    def __enter__(self) -> VirtualNao:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--url', default='tcp://127.0.0.1:9559', help='where to listen (port 0: any free port)')
    parser.add_argument('--record', default=None, help='append every call to this JSONL file')
    parser.add_argument('--services', default=','.join(SERVICES), help='comma-separated services to offer')
    parser.add_argument('--seconds-per-word', type=float, default=0.05, help='how long say() takes per word')
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    robot = VirtualNao(args.url, tuple(s for s in args.services.split(',') if s), args.seconds_per_word,
                       args.record).start()
    print(f'virtual NAO listening on {robot.url}', flush=True)
    seen = 0
    try:
        while not stop.wait(0.2):
            calls = robot.calls_to()
            for service, method, call_args in calls[seen:]:
                print(f'{service}.{method}{call_args!r}', flush=True)
            seen = len(calls)
    except KeyboardInterrupt:
        pass
    finally:
        robot.stop()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
