"""attune/PersonMatches -> attune.identity.face_people.FaceMatch (plain functions, no spinning), and
the parameter of the nodes that follow people across track loss."""
from __future__ import annotations

from typing import Any

from attune.identity.face_people import FaceMatch
from attune.ros.params import ParamSpec

PERSON_MATCHES_TOPIC = '/attune/person_matches'


def person_matches_parameter(purpose: str) -> ParamSpec:
    """`person_matches_topic`: identity_node's attune/PersonMatches; '' = per face track only."""
    return ParamSpec('person_matches_topic', PERSON_MATCHES_TOPIC,
                     f"attune/PersonMatches (identity_node): {purpose}; '' = per face track only.")


def matches_from_msg(msg: Any) -> list[FaceMatch]:
    """The matches of one PersonMatches message (entries without a face id are left out)."""
    return [FaceMatch(face_id=m.face_id, person_id=m.person_id, name=m.name, known=bool(m.known),
                      confidence=float(m.confidence))
            for m in msg.matches if m.face_id]
