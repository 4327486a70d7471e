"""NAO through NAOqi directly, with the `qi` package (libqi's Python bindings; pip install qi).

What each command does (NAOqi 2.x API):
    SAY, NAME_CALL  ALTextToSpeech.setVolume(volume); ALAnimatedSpeech.say(text) (or ALTextToSpeech.say
                    when animated_speech is off or ALAnimatedSpeech is missing); the rate is the
                    per-utterance tag "\\rspd=<percent>\\" in front of the text
    GESTURE         ALAnimationPlayer.run(animation)
    LED             ALLeds.fadeRGB(led_group, r, g, b, duration)
    GAZE            ALMotion.getAngles(["HeadYaw", "HeadPitch"], True), then ALMotion.setAngles(names,
                    angles, speed) within HeadLimits (speed fraction and step per command capped)
    STOP            ALTextToSpeech.stopAll(); ALMotion.stopMove()
    APPROACH        ALMotion.move(v, 0, 0) for duration_s, then ALMotion.stopMove(); refused unless
                    allow_locomotion (off by default), |v| capped at max_linear_speed
    PAUSE, RESUME   nothing on the robot (the policy stops initiating)
Long calls (speech, gestures, LED fades) are asynchronous (qi futures), so a command never blocks the
node; `speaking` is true while a say future runs.

Connection: a background thread connects to `url`, looks up the services, and on the session's
`disconnected` signal (the robot rebooted, Wi-Fi dropped) reconnects with exponential backoff: the
first retry after reconnect_interval_s, each further one twice as late, up to
max_reconnect_interval_s (a robot that is off for long is not hammered; one that reboots is found
within seconds). Commands arriving while disconnected are not delivered: execute() says why and
undelivered() tells such a reason from a refusal (a stale command replayed minutes later would be
worse than none).
"""
from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attune.behavior.commands import Action, Command
from attune.errors import AttuneError
from attune.robots.limits import HeadLimits, clamp, clamp_speed, limited_head_move

SERVICES = ('ALTextToSpeech', 'ALAnimatedSpeech', 'ALLeds', 'ALMotion', 'ALAnimationPlayer')
#: Which service each action needs (the first available is used for speech).
NEEDS = {Action.SAY: ('ALTextToSpeech',), Action.NAME_CALL: ('ALTextToSpeech',), Action.GESTURE: ('ALAnimationPlayer',),
         Action.LED: ('ALLeds',), Action.GAZE: ('ALMotion',), Action.APPROACH: ('ALMotion',), Action.STOP: (),
         Action.PAUSE: (), Action.RESUME: ()}
HEAD_JOINTS = ['HeadYaw', 'HeadPitch']


def import_qi() -> Any:
    """The qi module, or AttuneError saying how to install it."""
    try:
        import qi
    except ImportError as exc:
        raise AttuneError(f'the NAOqi back end needs the qi package (pip install qi): {exc}') from None
    qi.logging.setLevel(qi.logging.ERROR)  # libqi's own info lines would bury the node's log
    return qi


@dataclass(frozen=True)
class NaoOptions:
    """Settings of the NAOqi back end (the nao_bridge_node parameters of the same names)."""

    url: str = 'tcp://nao.local:9559'
    reconnect_interval_s: float = 2.0
    max_reconnect_interval_s: float = 30.0
    connect_timeout_s: float = 5.0
    animated_speech: bool = True
    led_group: str = 'FaceLeds'
    max_volume: float = 1.0
    head: HeadLimits = field(default_factory=HeadLimits)
    allow_locomotion: bool = False
    max_linear_speed: float = 0.05
    max_approach_duration_s: float = 2.0


#: How execute() starts a reason when the command did not reach the robot (see undelivered()).
NOT_CONNECTED = 'not connected to NAO'
CALL_FAILED = 'NAOqi call failed'


def undelivered(problem: str) -> bool:
    """Whether execute()'s `problem` means the command did not reach the robot (not connected, or the
    connection broke during the call), rather than the robot refusing it."""
    return problem.startswith((NOT_CONNECTED, CALL_FAILED))


def speech_text(text: str, rate: float) -> str:
    """The text with NAOqi's speed tag: rate 0.8 -> '\\rspd=80\\text' (NAOqi accepts 50-400 %)."""
    percent = int(round(clamp(rate if math.isfinite(rate) and rate > 0 else 1.0, 0.5, 4.0) * 100))
    return f'\\rspd={percent}\\{text}'


class NaoqiRobot:
    """A NAO reached through libqi. start() connects in the background; execute() runs a Command.

    Args:
        options: see NaoOptions.
        log: where connection news and errors go (e.g. node.get_logger().info).
    """

    def __init__(self, options: NaoOptions, log: Callable[[str], object] = print) -> None:
        self.options = options
        self.log = log
        self._qi = import_qi()
        self._lock = threading.RLock()
        self._session: Any = None
        self._services: dict[str, Any] = {}
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._speech: Any = None
        self._move_timer: threading.Timer | None = None
        self.connections = 0
        self.missing: tuple[str, ...] = ()
        #: Seconds until the next connection attempt while disconnected (grows with failed attempts).
        self.retry_interval_s = options.reconnect_interval_s
        self.failed_attempts = 0

    # --- connection ------------------------------------------------------------------------------
    def start(self) -> NaoqiRobot:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name='naoqi-connection', daemon=True)
            self._thread.start()
        return self

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._session is not None and not self._lost.is_set()

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected:
                return True
            time.sleep(0.02)
        return self.connected

    def _run(self) -> None:
        o = self.options
        while not self._stop.is_set():
            if not self.connected:
                error = self._connect()
                if error:
                    if not self.failed_attempts:
                        self.log(f'NAO not reachable at {o.url}: {error}; retrying after '
                                 f'{o.reconnect_interval_s:g} s, backing off to every {o.max_reconnect_interval_s:g} s')
                    self.failed_attempts += 1
                    self._stop.wait(self.retry_interval_s)
                    self.retry_interval_s = min(2 * self.retry_interval_s,
                                                max(o.max_reconnect_interval_s, o.reconnect_interval_s))
                    continue
                self.failed_attempts = 0
                self.retry_interval_s = o.reconnect_interval_s
            self._lost.wait(0.2)
            if self._lost.is_set() and not self._stop.is_set():
                self._drop('connection lost')
                self._stop.wait(min(0.2, o.reconnect_interval_s))

    def _connect(self) -> str:
        session = self._qi.Session()
        try:
            future = session.connect(self.options.url, _async=True)
            future.wait(int(self.options.connect_timeout_s * 1000))
            if not future.isFinished():
                future.cancel()
                return f'no answer within {self.options.connect_timeout_s:g} s'
            if future.hasError():
                session.close()
                return str(future.error())
            services, missing = {}, []
            for name in SERVICES:
                try:
                    services[name] = session.service(name)
                except RuntimeError:
                    missing.append(name)
        except RuntimeError as exc:
            return str(exc)
        if 'ALTextToSpeech' not in services and 'ALAnimatedSpeech' not in services:
            session.close()
            return 'neither ALTextToSpeech nor ALAnimatedSpeech is available'
        with self._lock:
            self._lost.clear()
            self._session, self._services = session, services
            self.missing = tuple(missing)
            self.connections += 1
        session.disconnected.connect(lambda *_args, lost=session: self._on_disconnected(lost))
        unavailable = sorted({a.name for a, needs in NEEDS.items() if any(n in missing for n in needs)})
        self.log(f'connected to NAO at {self.options.url}'
                 + (f'; missing services {", ".join(missing)} (unavailable: {", ".join(unavailable)})'
                    if missing else ''))
        return ''

    def _on_disconnected(self, session: Any) -> None:
        with self._lock:
            if session is self._session:  # not an old session we closed ourselves
                self._lost.set()

    def _drop(self, why: str) -> None:
        with self._lock:
            session, self._session, self._services, self._speech = self._session, None, {}, None
        if session is not None:
            self.log(f'NAO at {self.options.url}: {why}; reconnecting')
            with contextlib.suppress(RuntimeError):
                session.close()

    def close(self) -> None:
        self._stop.set()
        self._lost.set()
        if self._move_timer is not None:
            self._move_timer.cancel()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            session, self._session, self._services = self._session, None, {}
        if session is not None:
            with contextlib.suppress(RuntimeError):
                session.close()

    # --- state -----------------------------------------------------------------------------------
    @property
    def speaking(self) -> bool:
        with self._lock:
            speech = self._speech
        return speech is not None and not speech.isFinished()

    # --- commands --------------------------------------------------------------------------------
    def execute(self, cmd: Command) -> str:
        """Run a command on the robot. Returns '' when sent, else why it was not."""
        with self._lock:
            if self._session is None or self._lost.is_set():
                return f'{NOT_CONNECTED} at {self.options.url}'
            services = dict(self._services)
        try:
            return self._execute(cmd, services)
        except RuntimeError as exc:  # a call on a dead socket: reconnect
            self._lost.set()
            return f'{CALL_FAILED} ({exc}); reconnecting'

    def _execute(self, cmd: Command, s: dict[str, Any]) -> str:
        o = self.options
        a = cmd.action
        if a in (Action.SAY, Action.NAME_CALL):
            tts = s.get('ALTextToSpeech')
            if tts is not None:
                tts.setVolume(clamp(cmd.volume, 0.0, o.max_volume))
            speaker = s.get('ALAnimatedSpeech') if o.animated_speech else None
            speaker = speaker or tts or s.get('ALAnimatedSpeech')
            if speaker is None:  # _connect refuses such a robot; kept for the type
                return 'neither ALTextToSpeech nor ALAnimatedSpeech is available on this robot'
            future = speaker.say(speech_text(cmd.text, cmd.speech_rate), _async=True)
            with self._lock:
                self._speech = future
            return ''
        if a == Action.GESTURE:
            player = s.get('ALAnimationPlayer')
            if player is None:
                return 'ALAnimationPlayer is not available on this robot'
            player.run(cmd.animation, _async=True)
            return ''
        if a == Action.LED:
            leds = s.get('ALLeds')
            if leds is None:
                return 'ALLeds is not available on this robot'
            r, g, b = (clamp(c, 0.0, 1.0) for c in cmd.led_color)
            leds.fadeRGB(o.led_group, r, g, b, float(cmd.duration_s if cmd.duration_s > 0 else 0.5), _async=True)
            return ''
        if a == Action.GAZE:
            motion = s.get('ALMotion')
            if motion is None:
                return 'ALMotion is not available on this robot'
            if cmd.gaze is None:
                return f'no position known for {cmd.target_id or "the gaze target"}'
            current = motion.getAngles(HEAD_JOINTS, True)
            try:
                yaw, pitch = limited_head_move(cmd.gaze, (float(current[0]), float(current[1])), o.head)
            except ValueError as exc:
                return str(exc)
            motion.setAngles(HEAD_JOINTS, [yaw, pitch], float(o.head.max_speed))
            return ''
        if a == Action.STOP:
            if self._move_timer is not None:
                self._move_timer.cancel()
            if 'ALTextToSpeech' in s:
                s['ALTextToSpeech'].stopAll()
            if 'ALMotion' in s:
                s['ALMotion'].stopMove()
            return ''
        if a == Action.APPROACH:
            if not o.allow_locomotion:
                return 'locomotion is disabled (allow_locomotion is false)'
            motion = s.get('ALMotion')
            if motion is None:
                return 'ALMotion is not available on this robot'
            v = clamp_speed(cmd.velocity, o.max_linear_speed)
            duration = clamp(cmd.duration_s if cmd.duration_s > 0 else 1.0, 0.0, o.max_approach_duration_s)
            motion.move(v, 0.0, 0.0)
            if self._move_timer is not None:
                self._move_timer.cancel()
            self._move_timer = threading.Timer(duration, self._stop_move)
            self._move_timer.daemon = True
            self._move_timer.start()
            return ''
        return ''  # PAUSE / RESUME: nothing to do on the robot

    def _stop_move(self) -> None:
        with self._lock:
            motion = self._services.get('ALMotion')
        if motion is not None:
            try:
                motion.stopMove()
            except RuntimeError:
                self._lost.set()
