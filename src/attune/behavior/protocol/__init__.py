"""Interaction protocols run by the behaviour layer (no rclpy): the name call (does the child orient
toward the robot when it says their name?), its speech onset and its stall time-out."""
from attune.behavior.protocol.frame_stall import FrameStall
from attune.behavior.protocol.name_call import NameCallProtocol
from attune.behavior.protocol.name_call_types import (
    PROTOCOL_NAME,
    FaceSample,
    NameCallOptions,
    NameCallResult,
    ProtocolStatus,
)
from attune.behavior.protocol.runner import NameCallRunner, over_emotions
from attune.behavior.protocol.speech_onset import PendingCall, SpeechOnset

__all__ = ['PROTOCOL_NAME', 'FaceSample', 'FrameStall', 'NameCallOptions', 'NameCallProtocol', 'NameCallResult',
           'NameCallRunner', 'PendingCall', 'ProtocolStatus', 'SpeechOnset', 'over_emotions']
