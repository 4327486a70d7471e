"""`attune label`: the teacher's soft labels as CSV, for images, folders and videos."""
from __future__ import annotations

import csv
import subprocess
import sys

from test.conftest import shared_data


def test_label_writes_one_row_per_face(tmp_path) -> None:
    smiling = sorted(shared_data('faces', 'london_ccby', 'smiling').glob('*.jpg'))[:2]
    video = shared_data('video', 'faces', 'd0.mp4')
    out = tmp_path / 'labels.csv'
    result = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'label', *map(str, smiling), str(video),
                             '--every', '30', '--out', str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 + 3   # two photos, frames 0, 30, 60 of the video
    assert [r['frame'] for r in rows[2:]] == ['0', '30', '60']
    for row in rows:
        p = [float(row[f'p_{e}']) for e in ('neutral', 'happy', 'sad', 'surprise', 'fear', 'disgust', 'anger')]
        assert abs(sum(p) - 1) < 1e-3
        assert 0 <= float(row['AU12']) <= 1 and -1 <= float(row['valence']) <= 1
    assert '5 face(s) labelled' in result.stderr


def test_label_refuses_a_missing_path(tmp_path) -> None:
    result = subprocess.run([sys.executable, '-m', 'attune.cli.main', 'label', str(tmp_path / 'nope.jpg')],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and 'nope.jpg' in result.stderr
