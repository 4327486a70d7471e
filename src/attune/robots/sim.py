"""A simulated robot for tests and demos: it accepts every command, says what it would do, and
reports speaking (for the estimated duration of each utterance) and idle, like a real robot would,
so perception can be gated while it speaks."""
from __future__ import annotations

from dataclasses import dataclass, field

from attune.behavior.commands import Action, Command
from attune.robots.limits import HeadLimits, SpeechTimer, clamp_speed


@dataclass
class SimulatedRobot:
    """Executes Commands in imagination.

    Attributes:
        speech: the speaking-time model (words per second at rate 1.0).
        max_linear_speed: APPROACH speeds are clamped to this, as on a real robot.
        head: head limits (the head's speed is reported, not simulated).
        activity: one line per command executed, oldest first.
    """

    speech: SpeechTimer = field(default_factory=SpeechTimer)
    max_linear_speed: float = 0.1
    head: HeadLimits = field(default_factory=HeadLimits)
    activity: list[str] = field(default_factory=list)
    led: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def execute(self, cmd: Command, now: float) -> str:
        """Act out a command; returns what the robot did, in words."""
        a = cmd.action
        if a in (Action.SAY, Action.NAME_CALL):
            duration = self.speech.start(cmd.text, cmd.speech_rate, now)
            what = f'says {cmd.text!r} at rate {cmd.speech_rate:g}, volume {cmd.volume:g} ({duration:.1f} s)'
        elif a == Action.STOP:
            self.speech.stop()
            what = 'stops speech and motion'
        elif a == Action.LED:
            self.led = cmd.led_color
            what = cmd.describe().lower()
        elif a == Action.APPROACH:
            v = clamp_speed(cmd.velocity, self.max_linear_speed)
            what = f'moves at {v:+.2f} m/s for {cmd.duration_s or 1.0:g} s'
        else:
            what = cmd.describe().lower()
        line = f'{a.name}: {what} [{cmd.rule}]'
        self.activity.append(line)
        return line

    def speaking(self, now: float) -> bool:
        return self.speech.speaking(now)
