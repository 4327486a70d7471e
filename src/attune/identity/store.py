"""The people database: enrolled people and their protected templates, encrypted at rest.

One file: MAGIC, a 12-byte nonce, then AES-256-GCM ciphertext (the magic is authenticated as
associated data) of a JSON document holding the per-deployment projection seed and, per person, an
opaque id, the name, the consent note, and the protected templates (protection.py). Nothing in the file
is readable, or even recognisable as face data, without the key; a changed byte fails authentication.
Every save writes a new file beside the old one and renames it over it, with a fresh nonce, so a
forgotten person's templates are not in the database file afterwards.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attune.errors import AttuneError
from attune.identity.keys import KEY_BYTES
from attune.identity.protection import DEFAULT_BITS, EMBEDDING_SIZE, SEED_BYTES, TemplateProtector

MAGIC = b'ATTUNE-PEOPLE\x01'
FORMAT = 1
NONCE_BYTES = 12


class PeopleDatabaseError(AttuneError):
    """A people database that cannot be read or written: wrong key, damaged file, unknown name."""


@dataclass
class Person:
    """One enrolled person. `templates` are protected (packed bits), never embeddings."""

    person_id: str
    name: str
    consent: str
    enrolled_at: str
    source: str
    templates: list[bytes] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {'person_id': self.person_id, 'name': self.name, 'consent': self.consent,
                'enrolled_at': self.enrolled_at, 'source': self.source,
                'templates': [base64.b64encode(t).decode('ascii') for t in self.templates]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Person:
        return cls(d['person_id'], d['name'], d['consent'], d['enrolled_at'], d['source'],
                   [base64.b64decode(t) for t in d['templates']])


class PeopleDatabase:
    """Enrolled people of one deployment. Open with `open()` or `create()`, change, then `save()`."""

    def __init__(self, path: Path, key: bytes, seed: bytes, bits: int, center: npt.NDArray[Any],
                 people: list[Person]) -> None:
        if len(key) != KEY_BYTES:
            raise PeopleDatabaseError(f'a people key is {KEY_BYTES} bytes')
        self.path = Path(path)
        self._key = key
        self._seed = seed
        self.bits = bits
        self.people = people
        self.protector = TemplateProtector(seed, bits, center)

    # --- files -----------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, key: bytes, bits: int | None = None,
               center: npt.NDArray[Any] | None = None) -> PeopleDatabase:
        """A new, empty database with a fresh projection seed (not saved until save()); bits and centre
        default to the shipped operating point's, and are kept in the database from then on."""
        from attune.identity.matcher import operating_point

        point = operating_point()
        if center is None:
            center = np.asarray(point.get('center', np.zeros(EMBEDDING_SIZE)), np.float32)
        return cls(path, key, secrets.token_bytes(SEED_BYTES), bits or int(point.get('bits', DEFAULT_BITS)),
                   np.asarray(center, np.float32), [])

    @classmethod
    def open(cls, path: Path, key: bytes) -> PeopleDatabase:
        path = Path(path)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise PeopleDatabaseError(f'no people database at {path} (enrol someone with '
                                      '`attune people enroll`)') from None
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE_BYTES + 16:
            raise PeopleDatabaseError(f'{path} is not an attune people database')
        nonce = blob[len(MAGIC):len(MAGIC) + NONCE_BYTES]
        try:
            plain = AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES:], MAGIC)
        except InvalidTag:
            raise PeopleDatabaseError(f'cannot decrypt {path}: wrong key, or the file was changed') from None
        doc = json.loads(plain)
        if doc.get('format') != FORMAT:
            raise PeopleDatabaseError(f'{path} has format {doc.get("format")}; this attune reads {FORMAT}')
        return cls(path, key, base64.b64decode(doc['seed']), int(doc['bits']), np.asarray(doc['center'], np.float32),
                   [Person.from_json(p) for p in doc['people']])

    @classmethod
    def open_or_create(cls, path: Path, key: bytes) -> PeopleDatabase:
        return cls.open(path, key) if Path(path).exists() else cls.create(path, key)

    def save(self, key: bytes | None = None) -> None:
        """Encrypt and write atomically (mode 0600); with `key`, re-encrypt under that new key."""
        if key is not None:
            if len(key) != KEY_BYTES:
                raise PeopleDatabaseError(f'a people key is {KEY_BYTES} bytes')
            self._key = key
        doc = {'format': FORMAT, 'bits': self.bits, 'seed': base64.b64encode(self._seed).decode('ascii'),
               'center': [float(v) for v in self.protector.center],
               'people': [p.to_json() for p in self.people]}
        nonce = secrets.token_bytes(NONCE_BYTES)
        blob = MAGIC + nonce + AESGCM(self._key).encrypt(nonce, json.dumps(doc).encode('utf-8'), MAGIC)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f'.{self.path.name}.{secrets.token_hex(4)}.tmp')
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    # --- people ----------------------------------------------------------------------------------
    def find(self, name: str) -> Person | None:
        return next((p for p in self.people if p.name == name), None)

    def enroll(self, name: str, embeddings: npt.NDArray[Any], consent: str, source: str) -> Person:
        """Add protected templates of `embeddings` (n, 128) to `name` (created if new)."""
        if not name.strip():
            raise PeopleDatabaseError('a person needs a name')
        if not consent.strip():
            raise PeopleDatabaseError('enrolment needs a consent note (who consented, when, to what)')
        embeddings = np.atleast_2d(embeddings)
        if len(embeddings) == 0:
            raise PeopleDatabaseError(f'no face to enrol for {name}')
        person = self.find(name)
        now = datetime.now(timezone.utc).isoformat(timespec='seconds')
        if person is None:
            person = Person(f'person-{secrets.token_hex(4)}', name, consent, now, source)
            self.people.append(person)
        else:
            person.consent = f'{person.consent}\n{now}: {consent}'
        person.templates.extend(bytes(t) for t in self.protector.protect(embeddings))
        return person

    def forget(self, name: str) -> Person:
        """Remove `name` and every template of theirs (save() to make it permanent)."""
        person = self.find(name)
        if person is None:
            raise PeopleDatabaseError(f'nobody called {name!r} is enrolled')
        self.people.remove(person)
        return person

    def gallery(self) -> tuple[list[Person], npt.NDArray[Any]]:
        """Every template with its owner: (owner per row, (n, bits / 8) uint8)."""
        owners = [p for p in self.people for _ in p.templates]
        rows = [np.frombuffer(t, np.uint8) for p in self.people for t in p.templates]
        return owners, (np.stack(rows) if rows else np.zeros((0, self.bits // 8), np.uint8))
