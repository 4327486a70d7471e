"""bench/asd_emotion.py --eval-only: scores the shipped model and the teacher on every labelled face of a
folder, prints the contract keys last, and writes nothing (no cache)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test.conftest import REPO, shared_data


@pytest.mark.slow
def test_eval_only_scores_model_and_teacher_on_every_face_and_caches_nothing(tmp_path: Path) -> None:
    data = tmp_path / 'faces' / 'london_ccby'
    for emotion, suffix in (('neutral', '03'), ('smiling', '08')):
        (data / emotion).mkdir(parents=True)
        for person in ('001', '003'):
            os.symlink(shared_data('faces', 'london_ccby', emotion, f'{person}_{suffix}.jpg'),
                       data / emotion / f'{person}_{suffix}.jpg')
    cache = tmp_path / 'cache'
    env = {**os.environ, 'ATTUNE_CACHE_DIR': str(cache), 'PYTHONPATH': str(REPO / 'src')}
    run = subprocess.run([sys.executable, str(REPO / 'bench' / 'asd_emotion.py'), '--data', str(tmp_path / 'faces'),
                          '--eval-only', '--no-latency'], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    ev = result['eval']
    assert result['eval_only'] and ev['hard_labelled'] == 4 and ev['people'] == 2
    for who in ('model', 'teacher', 'majority'):
        assert 0.0 <= ev[who]['accuracy'] <= 1.0 and 0.0 <= ev[who]['macro_f1'] <= 1.0
        assert set(ev[who]['f1']) == {'neutral', 'happy'}
    assert ev['by_set']['london_ccby']['model']['accuracy'] == ev['model']['accuracy']
    assert not cache.exists()  # an evaluation caches nothing
