"""The identity node through real rclpy and Fast DDS: enrolled people recognised by name, strangers
reported as unknown, the same person id for a returning person under a new track, and erasures in the
database taking effect while the node runs."""
from __future__ import annotations

import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from attune.identity import keys
from attune.identity.store import PeopleDatabase
from attune.nodes.identity_node import IdentityNode
from attune.ros import msg_faces
from attune.ros.images import image_msg
from attune.ros.stamps import to_ns
from test.conftest import wait_for
from test.identity.faces import by_person, london_faces
from test.nodes.test_expression_node import faces_frame, header

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


class Harness:
    def __init__(self, spinner, tmp_path, enrolled: list) -> None:
        from attune.msg import Faces, PersonMatches

        key_file = tmp_path / 'people.key'
        self.key = keys.create_key_file(key_file)
        self.db = PeopleDatabase.create(tmp_path / 'people.db', self.key)
        for face in enrolled:
            self.db.enroll(face.person, face.embedding[None], consent='CC BY London set', source='test')
        self.db.save()
        overrides = {'faces_topic': '/id_test/faces', 'image_topic': '/id_test/image_raw', 'reliable_input': True,
                     'input_queue_depth': 20, 'database': str(self.db.path), 'key_file': str(key_file),
                     'reload_period_s': 0.5}
        self.node = spinner.add(IdentityNode(parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
                                             cli_args=['--ros-args', '-r', '__node:=identity_node_test']))
        self.probe = spinner.add(__import__('rclpy').create_node('probe_identity_node'))
        self.matches: list = []
        self.diagnostics: list = []
        self.probe.create_subscription(PersonMatches, '/attune/person_matches', self.matches.append, RELIABLE)
        self.probe.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics.append, RELIABLE)
        self.faces_pub = self.probe.create_publisher(Faces, '/id_test/faces', RELIABLE)
        self.image_pub = self.probe.create_publisher(Image, '/id_test/image_raw', RELIABLE)
        assert wait_for(lambda: self.faces_pub.get_subscription_count() >= 1
                        and self.image_pub.get_subscription_count() >= 1, 30)
        self.ns = 1_700_000_000_000_000_000

    def show(self, track: str, face):
        """One frame with `face` as track `track`; returns that face's match."""
        self.ns += 100_000_000
        before = len(self.matches)
        frame = faces_frame([track], [face.landmarks], face.rgb.shape[1], face.rgb.shape[0])
        self.image_pub.publish(image_msg(face.rgb, 'rgb8', header(self.ns)))
        self.faces_pub.publish(msg_faces.to_msg(frame, header(self.ns)))
        assert wait_for(lambda: len(self.matches) > before, 30)
        msg = self.matches[-1]
        assert to_ns(msg.header.stamp) == self.ns and [m.face_id for m in msg.matches] == [track]
        return msg.matches[0]

    def reloads(self) -> int:
        return max((int(v.value) for d in self.diagnostics for s in d.status if s.name.startswith('identity_node_test')
                    for v in s.values if v.key == 'database_reloads'), default=0)


def test_known_unknown_and_a_returning_person(spinner, tmp_path) -> None:
    faces = london_faces()
    neutral, smiling = by_person(faces, smiling=False), by_person(faces, smiling=True)
    people = sorted(neutral)
    h = Harness(spinner, tmp_path, [neutral[p] for p in people[:3]])

    first = h.show('t1', smiling[people[0]])
    assert first.known and first.name == people[0] and first.person_id.startswith('person-')
    assert first.confidence >= first.threshold > 0.5 and first.embeddings == 1

    stranger = h.show('t2', smiling[people[5]])
    assert not stranger.known and stranger.person_id == '' and stranger.name == ''
    assert stranger.confidence < stranger.threshold

    back = h.show('t3', neutral[people[0]])  # the track was lost; the person comes back
    assert back.known and back.person_id == first.person_id

    h.db.forget(people[0])
    h.db.save()
    assert wait_for(lambda: h.reloads() >= 1, 20)
    forgotten = h.show('t4', smiling[people[0]])
    assert not forgotten.known and forgotten.person_id == ''


def test_refuses_to_start_without_a_database(spinner, tmp_path) -> None:
    from attune.errors import AttuneError

    key_file = tmp_path / 'people.key'
    keys.create_key_file(key_file)
    with pytest.raises(AttuneError, match='no people database'):
        IdentityNode(parameter_overrides=[Parameter('database', value=str(tmp_path / 'none.db')),
                                          Parameter('key_file', value=str(key_file))],
                     cli_args=['--ros-args', '-r', '__node:=identity_node_nodb'])


def test_refuses_a_database_of_another_template_kind(spinner, tmp_path) -> None:
    from attune.errors import AttuneError

    key_file = tmp_path / 'people.key'
    key = keys.create_key_file(key_file)
    PeopleDatabase.create(tmp_path / 'old.db', key, bits=512).save()  # an earlier release's templates
    with pytest.raises(AttuneError, match='Re-enrol'):
        IdentityNode(parameter_overrides=[Parameter('database', value=str(tmp_path / 'old.db')),
                                          Parameter('key_file', value=str(key_file))],
                     cli_args=['--ros-args', '-r', '__node:=identity_node_old_db'])
