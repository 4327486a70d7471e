"""The people database: encrypted at rest, keyed and cancelable templates, erasure, key handling."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attune.identity import keys
from attune.identity.protection import TemplateProtector
from attune.identity.store import MAGIC, NONCE_BYTES, PeopleDatabase, PeopleDatabaseError

KEY = bytes(range(32))


def embeddings(n: int, seed: int = 0) -> np.ndarray:
    """dlib-like embeddings: 128 values of about +-0.1 (the test only needs their bytes to be known)."""
    return np.random.default_rng(seed).normal(0, 0.09, (n, 128)).astype(np.float32)


def decrypted(path, key=KEY) -> dict:
    blob = path.read_bytes()
    nonce = blob[len(MAGIC):len(MAGIC) + NONCE_BYTES]
    return json.loads(AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES:], MAGIC))


def float_runs(blob: bytes, dtype: str, run: int = 8) -> int:
    """How many runs of `run` consecutive plausible embedding values (finite, 1e-4 < |v| < 1) the bytes
    hold, read as `dtype` at every byte offset: what someone scanning a stolen file would look for."""
    found = 0
    size = np.dtype(dtype).itemsize
    for offset in range(size):
        usable = (len(blob) - offset) // size * size
        with np.errstate(all='ignore'):
            v = np.frombuffer(blob[offset:offset + usable], dtype=dtype).astype(np.float64)
            plausible = np.isfinite(v) & (np.abs(v) > 1e-4) & (np.abs(v) < 1)
        runs = np.convolve(plausible.astype(int), np.ones(run, int), 'valid') == run
        found += int(runs.sum())
    return found


def test_the_file_without_the_key_yields_no_float_vectors(tmp_path) -> None:
    db = PeopleDatabase.create(tmp_path / 'people.db', KEY)
    e = embeddings(20)
    for i in range(10):
        db.enroll(f'person{i}', e[2 * i:2 * i + 2], consent='parent consented 2026-11-29, research use', source='t')
    db.save()
    blob = db.path.read_bytes()
    assert b'person' not in blob and b'consent' not in blob and b'templates' not in blob
    # An unencrypted float32 dump of the same embeddings is full of such runs; the file has none.
    assert float_runs(e.tobytes(), 'float32') > 100
    assert float_runs(blob, 'float32') == 0
    assert float_runs(blob, 'float64') == 0
    # And the plaintext itself holds only packed bits, never the embedding's values.
    doc = decrypted(db.path)
    assert all(len(t) == 4 * ((db.bits // 8 + 2) // 3) for p in doc['people'] for t in p['templates'])
    with pytest.raises(PeopleDatabaseError, match='wrong key'):
        PeopleDatabase.open(db.path, bytes(32))
    assert os.stat(db.path).st_mode & 0o777 == 0o600


def test_a_changed_byte_fails_authentication(tmp_path) -> None:
    db = PeopleDatabase.create(tmp_path / 'people.db', KEY)
    db.enroll('ada', embeddings(1), consent='yes', source='t')
    db.save()
    blob = bytearray(db.path.read_bytes())
    blob[-5] ^= 1
    db.path.write_bytes(bytes(blob))
    with pytest.raises(PeopleDatabaseError, match='changed'):
        PeopleDatabase.open(db.path, KEY)


def test_forget_leaves_nothing_of_the_person(tmp_path) -> None:
    db = PeopleDatabase.create(tmp_path / 'people.db', KEY)
    ada = db.enroll('ada', embeddings(3, seed=1), consent='ada agreed', source='images')
    db.enroll('bob', embeddings(2, seed=2), consent='bob agreed', source='images')
    db.save()
    before = db.path.read_bytes()
    forgotten = set(ada.templates)
    db.forget('ada')
    db.save()

    reopened = PeopleDatabase.open(db.path, KEY)
    assert [p.name for p in reopened.people] == ['bob']
    plain = json.dumps(decrypted(db.path))
    assert 'ada' not in plain and ada.person_id not in plain
    remaining = {t for p in reopened.people for t in p.templates}
    assert not forgotten & remaining
    after = db.path.read_bytes()
    assert after[len(MAGIC):len(MAGIC) + NONCE_BYTES] != before[len(MAGIC):len(MAGIC) + NONCE_BYTES]
    assert sorted(os.listdir(tmp_path)) == ['people.db']  # no temporary or backup copy left behind
    with pytest.raises(PeopleDatabaseError, match='nobody called'):
        reopened.forget('ada')


def test_enrolment_needs_a_consent_note(tmp_path) -> None:
    db = PeopleDatabase.create(tmp_path / 'people.db', KEY)
    with pytest.raises(PeopleDatabaseError, match='consent'):
        db.enroll('ada', embeddings(1), consent='  ', source='t')
    person = db.enroll('ada', embeddings(1), consent='first', source='t')
    db.enroll('ada', embeddings(1, seed=3), consent='second', source='t')
    assert len(person.templates) == 2 and 'first' in person.consent and 'second' in person.consent


def test_protection_is_keyed_and_preserves_angles() -> None:
    e = embeddings(40, seed=4)
    a, a_again, b = (TemplateProtector(s) for s in (b'a' * 32, b'a' * 32, b'b' * 32))
    assert np.array_equal(a.protect(e), a_again.protect(e))
    same_face_other_key = np.array([a.similarity(a.protect(x), b.protect(x))[0] for x in e])
    assert abs(same_face_other_key.mean() - 0.5) < 0.05  # the same embedding: unrelated across keys
    unit = e / np.linalg.norm(e, axis=1, keepdims=True)
    angle_estimate = np.array([a.similarity(a.protect(e[0]), a.protect(e[i]))[0] for i in range(1, 40)])
    true = 1 - np.arccos(np.clip(unit[1:] @ unit[0], -1, 1)) / np.pi
    assert np.abs(angle_estimate - true).max() < 0.08


def test_key_files_must_be_private_and_rotation_replaces_the_key(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    path = tmp_path / 'people.key'
    key = keys.create_key_file(path)
    assert os.stat(path).st_mode & 0o777 == 0o600 and keys.load_key(path) == key
    with pytest.raises(keys.PeopleKeyError, match='never overwrites'):
        keys.create_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(keys.PeopleKeyError, match='chmod 600'):
        keys.load_key(path)
    monkeypatch.setenv(keys.KEY_ENV, keys.encode_key(KEY))
    assert keys.load_key() == KEY

    db = PeopleDatabase.create(tmp_path / 'people.db', KEY)
    db.enroll('ada', embeddings(1), consent='yes', source='t')
    db.save()
    new = bytes(range(1, 33))
    db.save(key=new)
    with pytest.raises(PeopleDatabaseError):
        PeopleDatabase.open(db.path, KEY)
    assert PeopleDatabase.open(db.path, new).people[0].templates == db.people[0].templates


def test_a_database_of_another_template_kind_is_refused_with_a_re_enrol_hint(tmp_path) -> None:
    from attune.identity.matcher import operating_point, shipped_threshold

    point = operating_point()
    current = PeopleDatabase.create(tmp_path / 'now.db', KEY)
    assert current.bits == point['bits'] and shipped_threshold(current) == point['threshold']
    old = PeopleDatabase.create(tmp_path / 'old.db', KEY, bits=512)  # made by an earlier release
    old.enroll('ada', embeddings(1), consent='c', source='t')
    old.save()
    reopened = PeopleDatabase.open(old.path, KEY)
    assert reopened.bits == 512  # the database keeps its own kind, so its templates stay comparable
    with pytest.raises(PeopleDatabaseError, match=r'512-bit.*Re-enrol'):
        shipped_threshold(reopened)
    centred = PeopleDatabase.create(tmp_path / 'centred.db', KEY, center=np.full(128, 0.01, np.float32))
    with pytest.raises(PeopleDatabaseError, match='differently centred'):
        shipped_threshold(centred)
