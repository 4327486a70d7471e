"""Who each face is, as the interaction node uses it (no rclpy): identities for the interaction state,
person keys for the name-call protocol, and the session's bound participant.

The protocol keeps its samples, calls and affect per key (attune.identity.face_people): a face
identified as a known person is keyed 'person:<id>', so a call whose child leaves the view and comes
back under a new track id continues on the new track, and the affect after the call is the person's
whatever track it came from. A track is usually identified a moment after it appears (the identity
node needs a few embeddings); its samples gathered meanwhile then move to the person's key
(`Identified.rekeys`, NameCallRunner.rekey), so a call made in between keeps its face and its baseline.
Results are reported back on the person's latest track (the behaviour layer's rules are per face
track).

With a bound participant (an enrolled person's id or name), every name call is measured on the
participant and other people's faces are ignored. A call made before the participant is identified
waits for them (AWAITED_PARTICIPANT) until its response window ends; faces not identified yet are
kept meanwhile, so the one that turns out to be the participant brings its history along.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from attune.behavior.protocol.name_call_types import FaceSample, NameCallResult
from attune.behavior.state import Identity
from attune.identity.face_people import PERSON_KEY_PREFIX, FaceMatch, FacePeople, selects

#: The protocol key of calls made for a bound participant not identified yet.
AWAITED_PARTICIPANT = 'participant?'


@dataclass(frozen=True)
class Identified:
    """What one PersonMatches message changed: (track, identity) of each face in it, and the protocol
    keys that now belong to another key (old, new), in the order to apply them."""

    identities: list[tuple[str, Identity]]
    rekeys: list[tuple[str, str]]


class InteractionIdentities:
    """See the module docstring.

    Args:
        participant: the bound participant (person id or enrolled name); '' = none (any face).
        forget_after_s: a track without a match for this long is forgotten.
    """

    def __init__(self, participant: str = '', forget_after_s: float = 60.0) -> None:
        self.participant = participant.strip()
        self.people = FacePeople(forget_after_s)
        #: The participant's person id once a face of theirs has been identified ('' until then).
        self.participant_id = ''

    def matches(self, matches: Iterable[FaceMatch], now_s: float) -> Identified:
        """One PersonMatches message."""
        matches = list(matches)
        rekeys = self.people.update(matches, now_s)
        out = []
        for m in matches:
            participant = self.is_participant(m)
            if participant and not self.participant_id:
                self.participant_id = m.person_id
                rekeys.append((AWAITED_PARTICIPANT, self.participant_key()))
            out.append((m.face_id, Identity(person_id=m.person_id if m.known else '', name=m.name if m.known else '',
                                            known=m.known, confidence=m.confidence, participant=participant)))
        return Identified(out, rekeys)

    def is_participant(self, match: FaceMatch) -> bool:
        return match.known and selects(self.participant, match.person_id, match.name)

    @property
    def bound(self) -> bool:
        return bool(self.participant)

    def key(self, track: str) -> str:
        """The protocol key of a track ('person:<id>' when known, else the track)."""
        return self.people.key(track)

    def participant_key(self) -> str:
        return f'{PERSON_KEY_PREFIX}{self.participant_id}' if self.participant_id else ''

    def protocol_samples(self, samples: Sequence[FaceSample]) -> list[FaceSample]:
        """One frame's faces as the protocol sees them: keyed by person; when bound, without the faces
        identified as someone else (the participant's, and those not identified yet, are kept)."""
        out = []
        for s in samples:
            m = self.people.match(s.track)
            if self.bound and m is not None and m.known and not self.is_participant(m):
                continue
            out.append(replace(s, track=self.key(s.track)))
        return out

    def protocol_target(self, track: str) -> tuple[str, bool]:
        """The key a NAME_CALL for `track` ('' = most central) is measured on, and whether the command's
        target was replaced (with a bound participant every call is the participant's; AWAITED_PARTICIPANT
        until they are identified)."""
        if not self.bound:
            return self.key(track) if track else '', False
        key = self.participant_key() or AWAITED_PARTICIPANT
        return key, bool(track) and self.key(track) != key

    @staticmethod
    def awaited(key: str) -> bool:
        """Whether a call on this key waits for its person to be identified (PendingCall.awaited)."""
        return key == AWAITED_PARTICIPANT

    def report(self, result: NameCallResult) -> tuple[NameCallResult, str]:
        """A result as the behaviour layer sees it (target = the person's latest face track) and the
        enrolled person id it was measured on ('' when not a known person)."""
        key = result.target_id
        if key == AWAITED_PARTICIPANT:  # never identified: no face to name
            return replace(result, target_id=''), ''
        if not key.startswith(PERSON_KEY_PREFIX):
            return result, ''
        track = self.people.track_of(key)
        return replace(result, target_id=track or key), key[len(PERSON_KEY_PREFIX):]
