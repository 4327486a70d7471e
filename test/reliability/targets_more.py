"""More fuzzed nodes (test/reliability/fuzzing.py): the ASD emotion node, the event emulator, the spiking
FER node, the hands node, the identity node, the NAO bridge (naoqi_driver2 back end: no robot needed),
the ROS4HRI bridge and the stream guard, each with valid traffic whose results are checked.

The valid traffic of the Faces+image nodes is the portrait and its face (targets._portrait_face);
results carry the valid stamp (VALID_STAMP_S and later), which no hostile message has.
"""
from __future__ import annotations

import array
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from attune.ros import msg_faces
from attune.ros.images import image_msg
from test.reliability.fuzzing import Target
from test.reliability.targets import VALID_STAMP_S, _cli, _command, _header, _params, _portrait, _portrait_face


def _valid(m: Any) -> bool:
    return m.header.stamp.sec >= VALID_STAMP_S and m.header.frame_id == 'test_camera'


def _image_and_faces(i: int) -> list[tuple[str, Any]]:
    header = _header(i)
    return [('/camera/image_raw', image_msg(_portrait(), 'rgb8', header)),
            ('/attune/faces', msg_faces.to_msg(_portrait_face(), header))]


def _per_valid_input(what: str, ok) -> Any:
    def check(outputs: list[Any], n: int) -> str:
        got = len({(m.header.stamp.sec, m.header.stamp.nanosec) for m in outputs if ok(m)})
        return '' if got >= n else f'{got} {what} for {n} valid inputs'
    return check


def asd_emotion_node() -> Target:
    from attune.msg import AffectState
    from attune.nodes.asd_emotion_node import AsdEmotionNode

    # rate_hz at its maximum: every valid frame (30 per second of stamps) is classified.
    return Target('asd_emotion_node', lambda: AsdEmotionNode(parameter_overrides=_params(
        reliable_input=True, input_queue_depth=100, rate_hz=60.0), cli_args=_cli('asd')), valid=_image_and_faces,
        outputs=(AffectState, '/attune/affect'),
        check=_per_valid_input('AffectStates', lambda m: _valid(m) and m.face_id == 'f1' and len(m.emotions)))


def event_emulator_node() -> Target:
    from attune.msg import EventPacket
    from attune.nodes.event_emulator_node import EventEmulatorNode

    def check(outputs: list[Any], n: int) -> str:  # a track's first image only starts its emulator
        got = len({(m.header.stamp.sec, m.header.stamp.nanosec) for m in outputs if _valid(m) and m.face_id == 'f1'})
        return '' if got >= n - 1 else f'{got} EventPackets for {n} valid images + Faces'

    return Target('event_emulator_node', lambda: EventEmulatorNode(parameter_overrides=_params(
        reliable_input=True, input_queue_depth=100), cli_args=_cli('emulator')), valid=_image_and_faces,
        outputs=(EventPacket, '/attune/events/faces'), check=check)


def _events(i: int) -> Any:
    """A valid packet of face f1: 400 events in the 33 ms before its stamp (seeded by i)."""
    from attune.msg import EventPacket

    rng = np.random.default_rng(i)
    header = _header(i)
    end = header.stamp.sec * 10**9 + header.stamp.nanosec
    msg = EventPacket(header=header, face_id='f1', width=32, height=32, emulated=True)
    msg.x = array.array('H', rng.integers(0, 32, 400).astype(np.uint16).tobytes())
    msg.y = array.array('H', rng.integers(0, 32, 400).astype(np.uint16).tobytes())
    msg.t = array.array('q', np.sort(rng.integers(end - 33_000_000, end, 400)).astype(np.int64).tobytes())
    msg.polarity = array.array('B', rng.integers(0, 2, 400).astype(np.uint8).tobytes())
    return msg


def spiking_fer_node() -> Target:
    from attune.msg import Expression
    from attune.nodes.spiking_fer_node import SpikingFerNode

    def check(outputs: list[Any], n: int) -> str:  # one result per window of history, after the first
        got = [m for m in outputs if _valid(m) and m.face_id == 'f1' and m.label]
        return '' if len(got) >= max(1, n // 4) else f'{len(got)} Expressions for {n} valid packets'

    return Target('spiking_fer_node', lambda: SpikingFerNode(parameter_overrides=_params(
        reliable_input=True, input_queue_depth=100, period_s=0.0), cli_args=_cli('spiking')),
        valid=lambda i: [('/attune/events/faces', _events(i))], outputs=(Expression, '/attune/expression'),
        check=check)


def hands_node() -> Target:
    from attune.msg import Hands
    from attune.nodes.hands_node import HandsNode

    return Target('hands_node', lambda: HandsNode(parameter_overrides=_params(
        reliable_input=True, input_queue_depth=100), cli_args=_cli('hands')),
        valid=lambda i: [('/camera/image_raw', image_msg(_portrait(), 'rgb8', _header(i)))],
        outputs=(Hands, '/attune/hands'),
        check=_per_valid_input('Hands', lambda m: _valid(m) and (m.image_width, m.image_height) == (320, 240)))


def identity_node() -> Target:
    from attune.identity import keys
    from attune.identity.store import PeopleDatabase
    from attune.nodes.identity_node import IdentityNode

    holder: list[Any] = []

    def make() -> Any:
        folder = Path(tempfile.mkdtemp(prefix='attune-fuzz-identity-'))
        key = keys.create_key_file(folder / 'people.key')
        PeopleDatabase.create(folder / 'people.db', key).save()
        holder.append(IdentityNode(parameter_overrides=_params(
            reliable_input=True, input_queue_depth=100, database=str(folder / 'people.db'),
            key_file=str(folder / 'people.key'), refresh_s=0.1), cli_args=_cli('identity')))
        return holder[0]

    def check(outputs: list[Any], n: int) -> str:
        # Nobody is enrolled: the valid face is embedded again every refresh_s (0.1 s) of its stamps,
        # which are 33 ms apart: once every third valid frame.
        embedded = holder[0].counts.get('embeddings', 0)
        return '' if embedded >= n // 4 else f'{embedded} embeddings for {n} valid faces'

    return Target('identity_node', make, valid=_image_and_faces, check=check)


def nao_bridge_node() -> Target:
    from std_msgs.msg import String

    from attune.nodes.nao_bridge_node import NaoBridgeNode

    def check(outputs: list[Any], n: int) -> str:
        said = sum('valid fuzz line' in m.data for m in outputs)  # after NAOqi's speed tag
        return '' if said >= n else f'{said} of {n} valid SAY commands sent to naoqi_driver2'

    return Target('nao_bridge_node', lambda: NaoBridgeNode(parameter_overrides=_params(backend='driver2'),
                                                           cli_args=_cli('nao')),
                  valid=lambda i: [('/attune/behavior/command', _command(i, f'valid fuzz line {i}'))],
                  outputs=(String, '/speech'), check=check)


def hri_bridge_node() -> Target:
    from hri_msgs.msg import IdsList

    from attune.nodes.hri_bridge_node import HriBridgeNode

    def check(outputs: list[Any], n: int) -> str:
        tracked = [m for m in outputs if m.header.stamp.sec >= VALID_STAMP_S and list(m.ids) == ['f1']]
        return '' if len(tracked) >= n else f'{len(tracked)} tracked-face lists for {n} valid Faces'

    return Target('hri_bridge_node', lambda: HriBridgeNode(cli_args=_cli('hri')),
                  valid=lambda i: [('/attune/faces', msg_faces.to_msg(_portrait_face(), _header(i)))],
                  outputs=(IdsList, '/humans/faces/tracked'), check=check)


def stream_guard_node() -> Target:
    from attune.msg import StreamTrust
    from attune.nodes.stream_guard_node import StreamGuardNode

    # publish_every 1: every valid image gets its StreamTrust (its score is not checked: NaN while the
    # guard warms up, and a portrait repeated on regular stamps is rightly judged not live). Its
    # camera_info subscription (/camera/camera_info) is fuzzed too.
    return Target('stream_guard_node', lambda: StreamGuardNode(parameter_overrides=_params(
        reliable_input=True, input_queue_depth=100, publish_every=1), cli_args=_cli('guard')),
        valid=lambda i: [('/camera/image_raw', image_msg(_portrait(), 'rgb8', _header(i)))],
        outputs=(StreamTrust, '/attune/stream_trust'),
        check=_per_valid_input('StreamTrusts', _valid))


#: The nodes of this module, by name.
MORE_TARGETS = {t.__name__: t for t in (asd_emotion_node, event_emulator_node, spiking_fer_node, hands_node,
                                        identity_node, nao_bridge_node, hri_bridge_node, stream_guard_node)}
