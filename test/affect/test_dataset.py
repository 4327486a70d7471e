"""Finding training data in folders, subjects, and subject-wise splits."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.affect.dataset import discover, hard_label, subject_from_name, subject_split
from attune.emotions import EMOTIONS
from attune.errors import ConfigError
from test.conftest import shared_data


def test_the_shared_face_sets_are_found_with_labels_and_subjects() -> None:
    sources = discover(shared_data('faces'))
    labelled = [s for s in sources if s.label >= 0]
    assert len(sources) > 3500 and all(s.kind == 'image' for s in sources)
    london = [s for s in sources if s.subject.startswith('london_ccby/')]
    assert len(london) == 120 and {s.label for s in london} == {EMOTIONS.index('neutral'), EMOTIONS.index('happy')}
    assert len({s.subject for s in london}) == 60  # one person, two expressions
    bush = [s for s in sources if s.subject == 'muxspace/George_W_Bush']
    assert len(bush) > 10 and all(s.path.name.startswith('George_W_Bush_') for s in bush)
    muxspace = {s.subject for s in sources if s.subject.startswith('muxspace/')}
    assert 1900 < len(muxspace) < 2200  # people, not images: 3,471 images of ~2,070 people
    assert {EMOTIONS[s.label] for s in labelled} == set(EMOTIONS)
    assert not any(s.path.suffix == '.tem' for s in sources)


def test_videos_are_teacher_only(tmp_path) -> None:
    sources = discover(shared_data('video', 'faces'))
    assert [(s.kind, s.label, s.subject) for s in sources] == [('video', -1, f'faces/{n}') for n in ('d0', 'd3', 'd6')]


def test_a_users_layout_with_a_subjects_file(tmp_path: Path) -> None:
    (tmp_path / 'happy').mkdir()
    (tmp_path / 'Angry').mkdir()
    (tmp_path / 'other').mkdir()
    for name in ('happy/anna_1.jpg', 'happy/x.png', 'Angry/ben_0002.jpg', 'other/unlabelled.jpg', 'clip_01.mp4'):
        (tmp_path / name).write_bytes(b'')
    (tmp_path / 'happy' / 'subjects.csv').write_text('file,subject\nx.png,anna\n')
    found = {str(s.path.relative_to(tmp_path)): (s.kind, s.label, s.subject) for s in discover(tmp_path)}
    root = tmp_path.name
    assert found == {
        'happy/anna_1.jpg': ('image', EMOTIONS.index('happy'), f'{root}/anna'),
        'happy/x.png': ('image', EMOTIONS.index('happy'), f'{root}/anna'),
        'Angry/ben_0002.jpg': ('image', EMOTIONS.index('anger'), f'{root}/ben'),
        'clip_01.mp4': ('video', -1, f'{root}/clip'),
    }
    with pytest.raises(ConfigError, match='does not exist'):
        discover(tmp_path / 'missing')


def test_label_names_and_subject_names() -> None:
    assert hard_label('Happiness') == EMOTIONS.index('happy') and hard_label('smiling') == EMOTIONS.index('happy')
    assert hard_label('contempt') == -1 and hard_label('bored') is None
    assert subject_from_name(Path('George_W_Bush_0226.jpg')) == 'George_W_Bush'
    assert subject_from_name(Path('001_03.jpg')) == '001' and subject_from_name(Path('d3.mp4')) == 'd3'


def test_subject_split_keeps_people_together_and_is_stable() -> None:
    subjects = np.array([f's{i // 3}' for i in range(300)])
    test = subject_split(subjects, 0.2, seed=0)
    for s in np.unique(subjects):
        assert len(set(test[subjects == s])) == 1
    assert 0.1 < test.mean() < 0.3
    assert np.array_equal(test, subject_split(subjects, 0.2, seed=0))
    assert not np.array_equal(test, subject_split(subjects, 0.2, seed=1))
    more = np.concatenate([subjects, ['new'] * 5])
    assert np.array_equal(subject_split(more, 0.2, seed=0)[:300], test)  # adding people moves nobody
    with pytest.raises(ConfigError):
        subject_split(subjects, 1.0, 0)
