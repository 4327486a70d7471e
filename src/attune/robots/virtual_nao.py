"""A virtual NAO: a local libqi service directory with services named like NAOqi's that record every
call. A real libqi peer (the bridge talks to it exactly as to a robot), not a mock of our code.

    python -m attune.robots.virtual_nao --url tcp://127.0.0.1:9559     # then robot:=nao with that url

Services: ALTextToSpeech (say blocks for the speech's duration, as on a robot), ALAnimatedSpeech,
ALLeds, ALMotion (keeps head angles: setAngles moves them, getAngles reads them), ALAnimationPlayer.
"""
from __future__ import annotations

import argparse
import threading
import time
from typing import Any

from attune.robots.naoqi import SERVICES, import_qi


class _Recorder:
    def __init__(self, robot: VirtualNao, name: str) -> None:
        self._robot, self._name = robot, name

    def _record(self, method: str, *args: Any) -> None:
        self._robot.record(self._name, method, args)


class _TextToSpeech(_Recorder):
    def say(self, text, *config):
        self._record('say', text, *config)
        self._robot.speak(text)

    def setVolume(self, volume):  # noqa: N802 - NAOqi's names
        self._record('setVolume', volume)

    def setParameter(self, name, value):  # noqa: N802
        self._record('setParameter', name, value)

    def stopAll(self):  # noqa: N802
        self._record('stopAll')
        self._robot.stop_speaking.set()


class _AnimatedSpeech(_TextToSpeech):
    pass


class _Leds(_Recorder):
    def fadeRGB(self, name, *rgb_duration):  # noqa: N802
        self._record('fadeRGB', name, *rgb_duration)


class _Motion(_Recorder):
    def setAngles(self, names, angles, speed):  # noqa: N802
        self._record('setAngles', names, angles, speed)
        names = [names] if isinstance(names, str) else list(names)
        angles = [angles] if isinstance(angles, (int, float)) else list(angles)
        for n, a in zip(names, angles):
            self._robot.joints[n] = float(a)

    def getAngles(self, names, use_sensors):  # noqa: N802
        names = [names] if isinstance(names, str) else list(names)
        return [self._robot.joints.get(n, 0.0) for n in names]

    def move(self, x, y, theta):
        self._record('move', x, y, theta)

    def stopMove(self):  # noqa: N802
        self._record('stopMove')

    def wakeUp(self):  # noqa: N802
        self._record('wakeUp')


class _AnimationPlayer(_Recorder):
    def run(self, animation):
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
                 seconds_per_word: float = 0.05) -> None:
        self._qi = import_qi()
        self.requested_url = url
        self.services = services
        self.seconds_per_word = seconds_per_word
        self.calls: list[tuple[str, str, tuple]] = []
        self.joints: dict[str, float] = {'HeadYaw': 0.0, 'HeadPitch': 0.0}
        self.stop_speaking = threading.Event()
        self._lock = threading.Lock()
        self._session: Any = None
        self._objects: list[Any] = []

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
        endpoints = [e for e in self._session.endpoints() if e.startswith('tcp://')]
        return endpoints[0]

    def record(self, service: str, method: str, args: tuple) -> None:
        with self._lock:
            self.calls.append((service, method, tuple(args)))

    def speak(self, text: str) -> None:
        self.stop_speaking.clear()
        self.stop_speaking.wait(self.seconds_per_word * max(1, len(str(text).split())))

    def calls_to(self, service: str | None = None, method: str | None = None) -> list[tuple[str, str, tuple]]:
        with self._lock:
            return [c for c in self.calls if (service is None or c[0] == service)
                    and (method is None or c[1] == method)]

    def stop(self) -> None:
        """Close the service directory (clients see a disconnection)."""
        if self._session is not None:
            self.stop_speaking.set()
            self._session.close()
            self._session = None

    def __enter__(self) -> VirtualNao:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--url', default='tcp://127.0.0.1:9559', help='where to listen')
    args = parser.parse_args(argv)
    robot = VirtualNao(args.url).start()
    print(f'virtual NAO listening on {robot.url} (Ctrl-C to stop); calls are printed as they come', flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.2)
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
