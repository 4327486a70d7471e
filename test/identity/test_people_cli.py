"""`attune people`: enrol from photos with a consent note, list, forget (nothing of them left)."""
from __future__ import annotations

import json
import os

from attune.cli.main import main
from attune.identity import keys
from attune.identity.store import PeopleDatabase
from test.conftest import shared_data
from test.identity.test_store import decrypted, float_runs


def test_enroll_list_forget(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    photos = shared_data('faces', 'london_ccby')
    neutral = sorted((photos / 'neutral').glob('*.jpg'))
    db_path, key_file = tmp_path / 'data' / 'people.db', tmp_path / 'people.key'
    flags = ['--db', str(db_path), '--key-file', str(key_file)]
    assert main(['people', 'new-key', '--key-file', str(key_file)]) == 0
    for name, photo in (('ada', neutral[0]), ('bob', neutral[1])):
        assert main(['people', 'enroll', name, '--images', str(photo), '--consent',
                     f'{name} consented on 2026-11-29 to being recognised by the lab robot', *flags]) == 0
    capsys.readouterr()
    assert main(['people', 'list', *flags]) == 0
    listing = capsys.readouterr().out
    assert 'ada' in listing and 'bob' in listing and 'consented on 2026-11-29' in listing
    ada = PeopleDatabase.open(db_path, keys.load_key(key_file)).find('ada')
    assert len(ada.templates) == 1 and float_runs(db_path.read_bytes(), 'float32') == 0

    assert main(['people', 'forget', 'ada', *flags]) == 0
    assert 'forgot ada' in capsys.readouterr().out
    plain = json.dumps(decrypted(db_path, keys.load_key(key_file)))
    assert 'ada' not in plain and ada.person_id not in plain
    assert not any(t in plain for t in [json.dumps(p)[1:-1] for p in ada.to_json()['templates']])
    assert sorted(os.listdir(db_path.parent)) == ['people.db']
    assert main(['people', 'forget', 'ada', *flags]) == 1  # ERROR: nobody called 'ada'


def test_enrolment_refuses_a_photo_without_a_face_and_a_loose_key(tmp_path, capsys, monkeypatch) -> None:
    import cv2
    import numpy as np

    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    blank = tmp_path / 'wall.jpg'
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    key_file = tmp_path / 'people.key'
    keys.create_key_file(key_file)
    flags = ['--db', str(tmp_path / 'people.db'), '--key-file', str(key_file)]
    assert main(['people', 'enroll', 'ada', '--images', str(blank), '--consent', 'yes', *flags]) == 1
    assert 'no face found' in capsys.readouterr().err
    assert not (tmp_path / 'people.db').exists()
    os.chmod(key_file, 0o640)
    assert main(['people', 'list', *flags]) == 1
    assert 'chmod 600' in capsys.readouterr().err


def test_enroll_from_a_bag_takes_frames_with_exactly_one_face_and_refuses_a_replay(tmp_path, capsys,
                                                                                 monkeypatch) -> None:
    import numpy as np

    from attune.bag.writer import frames_to_bag
    from attune.identity.matcher import Identifier, operating_point
    from attune.identity.photos import read_rgb
    from test.identity.faces import by_person, london_faces

    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    faces = london_faces()
    person = sorted(by_person(faces, smiling=False))[0]
    root = shared_data('faces', 'london_ccby')
    photo = read_rgb(next((root / 'neutral').glob(f'{person}_*.jpg')))
    blank = np.full_like(photo, 90)
    # A photo written as a stream: stamps exactly on time, received when stamped, the same picture over
    # and over. The stream guard sees a replayed still, not a live camera.
    frames_to_bag([blank, photo, blank, photo, photo] + [photo] * 25, tmp_path / 'bag', fps=5.0, start_ns=10**18)
    key_file = tmp_path / 'people.key'
    keys.create_key_file(key_file)
    flags = ['--db', str(tmp_path / 'people.db'), '--key-file', str(key_file)]
    enroll = ['people', 'enroll', 'ada', '--bag', str(tmp_path / 'bag'), '--frames', '2',
              '--consent', 'Ada agreed on 2026-11-29', *flags]
    assert main(enroll) == 1
    err = capsys.readouterr().err
    assert 'refusing to enrol from bag bag: not a live camera' in err and '--allow-untrusted' in err
    assert not (tmp_path / 'people.db').exists()
    assert main([*enroll, '--allow-untrusted']) == 0
    assert '2 new template(s)' in capsys.readouterr().out
    db = PeopleDatabase.open(tmp_path / 'people.db', keys.load_key(key_file))
    assert db.find('ada').source == 'bag bag'
    consent = db.find('ada').consent
    assert consent.startswith('Ada agreed on 2026-11-29\n[stream guard] bag bag: not a live camera (score ')
    assert consent.endswith('enrolled anyway: overridden with --allow-untrusted')
    smiling = by_person(faces, smiling=True)[person]
    result = Identifier(db, operating_point()['threshold']).identify(smiling.embedding)
    assert result.known and result.name == 'ada'
    assert main(['people', 'enroll', 'bob', '--bag', str(tmp_path / 'bag'), '--topic', '/nope',
                 '--consent', 'yes', '--allow-untrusted', *flags]) == 1
    assert 'no topic /nope' in capsys.readouterr().err


def test_enrolment_refuses_a_database_of_another_template_kind(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    key_file = tmp_path / 'people.key'
    key = keys.create_key_file(key_file)
    old = PeopleDatabase.create(tmp_path / 'people.db', key, bits=512)  # an earlier release's database
    old.save()
    photo = sorted((shared_data('faces', 'london_ccby') / 'neutral').glob('*.jpg'))[0]
    assert main(['people', 'enroll', 'ada', '--images', str(photo), '--consent', 'ada consented',
                 '--db', str(old.path), '--key-file', str(key_file)]) == 1
    assert 'Re-enrol' in capsys.readouterr().err
    assert PeopleDatabase.open(old.path, key).people == []
