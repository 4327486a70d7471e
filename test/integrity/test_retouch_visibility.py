"""tools/retouch_visibility.py on a real photo: the claims docs/integrity.md makes about how visible the
generated edits are (light smoothing and blemish removal under a just-noticeable difference, grading over)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from attune.integrity import retouch_data as rd
from test.integrity.retouch_fixtures import london

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'retouch_visibility.py'


def _tool():
    spec = importlib.util.spec_from_file_location('retouch_visibility', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_delta_e_is_zero_for_the_same_image_and_grows_with_a_change() -> None:
    tool = _tool()
    rgb = np.full((4, 4, 3), 120, np.uint8)
    assert tool.delta_e(rgb, rgb).max() == 0.0
    assert tool.delta_e(rgb, rgb + 10).min() > tool.JND


def test_light_smoothing_is_invisible_and_blemish_removal_applies_only_where_there_are_blemishes() -> None:
    photos = [p for p in rd.faces_photos(london()) if p.path.name == '001_03.jpg']
    assert len(photos) == 1
    out = _tool().measure(photos, seed=0)
    assert out['skin_smoothing']['1']['face_above_jnd'] < 0.005 and out['skin_smoothing']['1']['visible'] == 0.0
    assert out['colour_grading']['3']['face_above_jnd'] > 0.5 and out['colour_grading']['3']['visible'] == 1.0
    assert out['skin_smoothing']['3']['mean_delta_e'] > out['skin_smoothing']['1']['mean_delta_e']
    # Three genuine blemishes on this photo: strength 1 (2 spots) and 2 (needs 3) apply, 3 (needs 6) does not.
    assert set(out['blemish_removal']) == {'1', '2'}
    assert all(out['blemish_removal'][s]['face_above_jnd'] < 0.02 for s in out['blemish_removal'])
