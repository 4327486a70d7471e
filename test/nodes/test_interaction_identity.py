"""Identity and stream trust through real rclpy and Fast DDS: the interaction node joins identity_node's
PersonMatches and the stream guard's StreamTrust into every InteractionState; with a bound participant
the name call is measured on the participant only and logged by person id; the behaviour node greets a
known person by name once, whatever their track, and others (or an untrusted stream) without a name."""
from __future__ import annotations

import time

import pytest
import rclpy
from rclpy.parameter import Parameter

from attune.behavior.fusion import Identity, PersonState
from attune.jsonl_log import read_log
from attune.nodes.behavior_node import BehaviorNode
from attune.ros import msg_interaction_state
from test.conftest import wait_for
from test.nodes.test_interaction_protocol import FPS, RELIABLE, Harness, S, faces_msg, header, tracked

pytestmark = pytest.mark.ros


def test_the_state_says_who_each_face_is_and_the_participant_alone_is_measured(spinner, tmp_path) -> None:
    from attune.msg import InteractionState, PersonMatch, PersonMatches, StreamTrust

    h = Harness(spinner, 'ident', participant='ada', person_matches_topic='/ident/matches',
                stream_trust_topic='/ident/trust', response_window_s=2.0, affect_window_s=0.5,
                frame_timeout_s=30.0,  # not a stall scenario: a loaded CI paused the frames > 2 s (face_lost)
                session_log_dir=str(tmp_path), session_name='s1')
    matches = h.probe.create_publisher(PersonMatches, '/ident/matches', RELIABLE)
    trust = h.probe.create_publisher(StreamTrust, '/ident/trust', RELIABLE)
    states: list = []
    h.probe.create_subscription(InteractionState, '/ident/state', states.append, RELIABLE)
    assert wait_for(lambda: matches.get_subscription_count() >= 1 and trust.get_subscription_count() >= 1, 30)
    # ...and the node's reader has matched the writer too: matches sent before that are lost (they were,
    # in CI), and here the first ones decide whether the participant is identified within the call.
    (node_matches,) = [s for s in h.node.subscriptions if s.topic_name == '/ident/matches']
    assert wait_for(lambda: node_matches.get_publisher_count() >= 1, 30)
    base = time.time_ns()
    who = [PersonMatch(face_id='t1', person_id='person-ada1', name='Ada', known=True, confidence=0.93),
           PersonMatch(face_id='t2', known=False, confidence=0.55)]
    assert wait_for(lambda: bool(list(tmp_path.glob('asd_session_*_s1.jsonl'))), 10)
    (log,) = tmp_path.glob('asd_session_*_s1.jsonl')
    # The name is called (at 1 s) before the identity node has identified anyone (from 1.5 s): the call
    # waits for the participant, and her frames from before count once she is identified.
    h.name_call(base + 1 * S, target='t2', name='Ada')   # the policy named the stranger's face
    for i in h.frames(4 * FPS):
        stamp = base + i * S // FPS
        t = i / FPS
        stranger_yaw = 40.0 if t < 1.3 else 0.0           # only the stranger turns to the robot
        h.faces.publish(faces_msg(stamp, [tracked('t1', 40.0, 0.85), tracked('t2', stranger_yaw, 0.5)]))
        if i % 3 == 0 and t >= 1.5:
            # Both go on as their producers send them, again and again: a single volatile message sent as
            # soon as this writer saw the node's reader could arrive before the node's reader had
            # matched this writer, and be dropped (it did once in CI: stream_trust NaN).
            matches.publish(PersonMatches(header=header(stamp), matches=who))
            trust.publish(StreamTrust(header=header(stamp), topic='/camera/image_raw', score=0.9, live=True,
                                      ready=True, frames=60 + i))

    def latest(track: str):
        return next((s for s in reversed(states) if s.person_id == track and s.identified), None)
    assert wait_for(lambda: latest('t1') is not None and latest('t2') is not None, 30)
    ada, stranger = latest('t1'), latest('t2')
    assert (ada.known, ada.enrolled_person_id, ada.person_name, ada.participant) == (True, 'person-ada1', 'Ada', True)
    assert ada.identity_confidence == pytest.approx(0.93) and ada.participant_bound
    assert (stranger.known, stranger.enrolled_person_id, stranger.participant) == (False, '', False)
    assert stranger.participant_bound and 'unknown person' in stranger.summary
    assert ada.stream_trust == pytest.approx(0.9) and ada.stream_live

    (result,) = h.wait_final()
    assert (result.status, result.person_id) == ('no_response', 't1')   # measured on Ada, not the stranger
    assert result.reason == 'no_head_turn'
    assert wait_for(lambda: any('measured on the bound participant' in e for e in h.errors), 30), h.errors
    assert wait_for(lambda: any(r['type'] == 'name_call' for r in read_log(log)), 30)
    records = read_log(log)
    assert records[0]['participant_bound'] is True
    assert {'type': 'participant', 'person_id': 'person-ada1'} in [
        {k: r[k] for k in ('type', 'person_id')} for r in records if r['type'] == 'participant']
    call = next(r for r in records if r['type'] == 'name_call')
    assert (call['face_id'], call['person_id'], call['participant']) == ('t1', 'person-ada1', True)
    assert 'Ada' not in log.read_text().replace('"name": "Ada"', '')   # by id: the name only as called


GREETER = """\
policy: greeter
limits: {max_commands: 10, window_s: 10}
rules:
  - name: greet_by_name
    when: present and known_person and seen_s >= 0.3 and stream_trusted
    max_per_person: 1
    cooldown_s: 0
    actions: [{say: "Hello {person_name}!"}]
  - name: greet
    when: present and seen_s >= 0.3 and (not known_person or not stream_trusted)
    cooldown_s: 0
    actions: [{say: "Hello!"}]
"""


def test_the_behaviour_node_greets_a_known_person_by_name_once(spinner, tmp_path) -> None:
    from attune.msg import BehaviorCommand, InteractionState

    policy = tmp_path / 'greeter.yaml'
    policy.write_text(GREETER)
    remaps = ['-r', '/attune/interaction_state:=/greet/state', '-r', '/attune/behavior/command:=/greet/command',
              '-r', '/attune/interaction/events:=/greet/events']
    spinner.add(BehaviorNode(parameter_overrides=[Parameter('policy', value=str(policy))],
                             cli_args=['--ros-args', '-r', '__node:=behavior_greet', *remaps]))
    probe = spinner.add(rclpy.create_node('probe_greet'))
    said: list = []
    probe.create_subscription(BehaviorCommand, '/greet/command', said.append, RELIABLE)
    states = probe.create_publisher(InteractionState, '/greet/state', RELIABLE)
    assert wait_for(lambda: states.get_subscription_count() >= 1, 30)
    ada = Identity(person_id='person-ada1', name='Ada', known=True, confidence=0.9)

    def visit(track: str, identity: Identity, trust: float = 0.9, seconds: float = 0.8) -> None:
        state = PersonState(person_id=track, stamp_ns=time.time_ns(), present=True, attention=0.9, engagement=0.5,
                            valence=0.0, arousal=0.0, distress=0.0, identity=identity, stream_trust=trust,
                            stream_live=trust >= 0.5)
        for _ in range(int(seconds / 0.1)):
            states.publish(msg_interaction_state.to_msg(state))
            time.sleep(0.1)  # the interaction node's states come at 10 Hz

    def said_to(track: str) -> list[str]:
        # By the command's target, not by when it came: under load a greeting can arrive during the next visit.
        return [c.text for c in said if c.target_id == track]

    visit('t1', ada)
    assert wait_for(lambda: said_to('t1') == ['Hello Ada!'], 30), said_to('t1')
    visit('t7', ada)                                                # Ada again, on a new track: not again
    visit('t9', Identity(confidence=0.5))                           # a stranger: no name
    assert wait_for(lambda: said_to('t9') == ['Hello!'], 30), said_to('t9')
    visit('t4', Identity(person_id='person-bob2', name='Bob', known=True, confidence=0.9), trust=0.05)
    assert wait_for(lambda: said_to('t4') == ['Hello!'], 30), said_to('t4')   # a replayed Bob: no name
    # Ada's second visit was two visits ago; a greeting for it, or a second one for anybody, would be here by now.
    assert said_to('t7') == [] and len(said) == 3, [(c.target_id, c.text) for c in said]
    assert all(c.target_id for c in said)
