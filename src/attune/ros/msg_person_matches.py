"""attune/PersonMatches <-> a list of attune.identity.face_people.FaceMatch (its sub-message
attune/PersonMatch <-> FaceMatch), and the topic parameter of the nodes that follow people across
track loss."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from attune.identity.face_people import FaceMatch
from attune.ros.interfaces import attune_msgs
from attune.ros.params import ParamSpec

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import PersonMatch, PersonMatches

PERSON_MATCHES_TOPIC = '/attune/person_matches'


def person_matches_parameter(purpose: str) -> ParamSpec:
    """`person_matches_topic`: identity_node's attune/PersonMatches; '' = per face track only."""
    return ParamSpec('person_matches_topic', PERSON_MATCHES_TOPIC,
                     f"attune/PersonMatches (identity_node): {purpose}; '' = per face track only.")


def match_to_msg(match: FaceMatch) -> PersonMatch:
    msg: PersonMatch = attune_msgs().PersonMatch(
        face_id=match.face_id, person_id=match.person_id, name=match.name, known=match.known,
        confidence=float(match.confidence), threshold=float(match.threshold), embeddings=match.embeddings)
    return msg


def to_msg(matches: Sequence[FaceMatch], header: Header) -> PersonMatches:
    """The PersonMatches of one Faces message's tracks, carrying its `header`."""
    msg: PersonMatches = attune_msgs().PersonMatches(header=header, matches=[match_to_msg(m) for m in matches])
    return msg


def from_msg(msg: PersonMatches) -> list[FaceMatch]:
    """The matches of one PersonMatches message (entries without a face id are left out)."""
    return [FaceMatch(face_id=m.face_id, person_id=m.person_id, name=m.name, known=bool(m.known),
                      confidence=float(m.confidence), threshold=float(m.threshold), embeddings=int(m.embeddings))
            for m in msg.matches if m.face_id]
