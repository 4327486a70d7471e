"""REP-155 persons from attune's identities (identity_node's PersonMatches), for the hri bridge node.

A person is an enrolled person (a permanent id, the same across sessions); they are tracked while one
of the faces matched to them is tracked. Published:
  /humans/persons/tracked                 hri_msgs/IdsList: persons with a tracked face now
  /humans/persons/known                   hri_msgs/IdsList: every person seen this session
  /humans/persons/<id>/face_id            std_msgs/String, latched: their face's id ('' once it is gone)
  /humans/persons/<id>/anonymous          std_msgs/Bool, latched: false (identified people only)
  /humans/persons/<id>/name               std_msgs/String, latched: the name given at enrolment
  /humans/persons/<id>/location_confidence  std_msgs/Float32: 1 while the face is seen, 0 after
  /humans/candidate_matches               hri_msgs/IdsMatch: face -> person with the match confidence;
                                          confidence 0 when a face no longer belongs to the person
"""
from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from rclpy.node import Node
from std_msgs.msg import Bool, Float32, String

from attune.face.rep155 import person_id
from attune.ros import qos

if TYPE_CHECKING:
    from hri_msgs.msg import IdsMatch
    from std_msgs.msg import Header

    from attune.identity.face_people import FaceMatch

PERSONS_NS = '/humans/persons'


class Persons:
    """Per-person topics of one node; call matches() per PersonMatches and faces() per Faces."""

    def __init__(self, node: Node, hri: ModuleType) -> None:
        self._node, self._hri = node, hri
        self._tracked_pub = node.create_publisher(hri.IdsList, f'{PERSONS_NS}/tracked', qos.RESULTS)
        self._known_pub = node.create_publisher(hri.IdsList, f'{PERSONS_NS}/known', qos.LATCHED)
        self._matches_pub = node.create_publisher(hri.IdsMatch, '/humans/candidate_matches', qos.RESULTS)
        self._pubs: dict[str, dict[str, Any]] = {}   # person id -> {leaf: publisher}
        self._face_of: dict[str, str] = {}           # person id -> REP-155 face id (tracked now)
        self._known: list[str] = []

    def _publishers(self, pid: str) -> dict[str, Any]:
        pubs = self._pubs.get(pid)
        if pubs is None:
            base, node = f'{PERSONS_NS}/{pid}', self._node
            pubs = {'face_id': node.create_publisher(String, f'{base}/face_id', qos.LATCHED),
                    'anonymous': node.create_publisher(Bool, f'{base}/anonymous', qos.LATCHED),
                    'name': node.create_publisher(String, f'{base}/name', qos.LATCHED),
                    'location_confidence': node.create_publisher(Float32, f'{base}/location_confidence',
                                                                 qos.RESULTS)}
            pubs['anonymous'].publish(Bool(data=False))
            self._pubs[pid] = pubs
            self._known.append(pid)
        return pubs

    def _match(self, face: str, pid: str, confidence: float) -> IdsMatch:
        hri = self._hri
        match: IdsMatch = hri.IdsMatch(id1=face, id1_type=hri.IdsMatch.FACE, id2=pid, id2_type=hri.IdsMatch.PERSON,
                                       confidence=float(min(1.0, max(0.0, confidence))))
        return match

    def matches(self, header: Header, matches: Sequence[FaceMatch], face_ids: dict[str, str]) -> None:
        """One PersonMatches message (its header and matches); face_ids: attune track id -> REP-155 face
        id of tracked faces."""
        for m in matches:
            face = face_ids.get(m.face_id)
            if face is None or not m.known or not m.person_id:
                continue
            pid = person_id(m.person_id)
            pubs = self._publishers(pid)
            if self._face_of.get(pid) != face:
                if pid in self._face_of:  # the person's previous face no longer belongs to them
                    self._matches_pub.publish(self._match(self._face_of[pid], pid, 0.0))
                self._face_of[pid] = face
                pubs['face_id'].publish(String(data=face))
                pubs['name'].publish(String(data=m.name))
            pubs['location_confidence'].publish(Float32(data=1.0))
            self._matches_pub.publish(self._match(face, pid, m.confidence))
        self._publish_lists(header)

    def faces(self, header: Header, tracked_faces: set[str]) -> None:
        """The tracked faces changed: persons whose face is gone are no longer tracked."""
        for pid, face in list(self._face_of.items()):
            if face not in tracked_faces:
                del self._face_of[pid]
                pubs = self._pubs[pid]
                pubs['face_id'].publish(String(data=''))
                pubs['location_confidence'].publish(Float32(data=0.0))
                self._matches_pub.publish(self._match(face, pid, 0.0))
        self._publish_lists(header)

    def _publish_lists(self, header: Header) -> None:
        self._tracked_pub.publish(self._hri.IdsList(header=header, ids=sorted(self._face_of)))
        self._known_pub.publish(self._hri.IdsList(header=header, ids=list(self._known)))

    def close(self) -> None:
        for pub in [self._tracked_pub, self._known_pub, self._matches_pub,
                    *(p for pubs in self._pubs.values() for p in pubs.values())]:
            self._node.destroy_publisher(pub)
        self._pubs, self._face_of, self._known = {}, {}, []
