"""attune/BehaviorCommand <-> Command (attune.ros.msg_behavior_command)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.ros import msg_behavior_command
from test.ros.round_trip import assert_same, floats32, stamps, unit32, words

pytestmark = pytest.mark.ros

#: A gaze target always names its frame (an empty frame is how the message says "no gaze point").
gazes = st.builds(GazeTarget, floats32, floats32, floats32, words.filter(bool))
commands = st.builds(Command, action=st.sampled_from(Action), priority=st.sampled_from(Priority), target_id=words,
                     text=words, speech_rate=floats32, volume=unit32, animation=words,
                     led_color=st.tuples(unit32, unit32, unit32), gaze=st.none() | gazes, velocity=floats32,
                     duration_s=floats32, rule=words, reason=words, stamp_ns=stamps)


@settings(max_examples=60, deadline=None)
@given(commands)
def test_behavior_command_round_trip(command: Command) -> None:
    assert_same(msg_behavior_command.from_msg(msg_behavior_command.to_msg(command)), command)


def test_an_unknown_action_is_refused() -> None:
    msg = msg_behavior_command.to_msg(Command(Action.SAY, text='hi'))
    msg.action = 200
    with pytest.raises(ValueError, match='unknown BehaviorCommand action'):
        msg_behavior_command.from_msg(msg)
