"""`attune people enroll --images` screens photos for retouching: a warning, or a refusal with --strict.

The photos are of a person the shipped retouch model never saw (held-out fold)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.cli.main import main
from attune.errors import AttuneError, ModelFileError
from attune.identity import keys
from attune.integrity import photo_screening
from test.conftest import shared_data

HELD_OUT_PHOTO = ('neutral', '013_03.jpg')


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    """(the photo re-saved as JPEG, a copy with strong skin smoothing saved the same way)."""
    import cv2

    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.integrity.retouch_data import landmarks_px, read_photo
    from attune.integrity.retouch_ops import retouch

    rgb = read_photo(shared_data('faces', 'london_ccby', *HELD_OUT_PHOTO))
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        px = landmarks_px(analyzer, rgb)
    smooth = retouch(rgb, px, 'skin_smoothing', 3, np.random.default_rng(5))
    paths = tmp_path / 'unedited.jpg', tmp_path / 'smoothed.jpg'
    for path, image in zip(paths, (rgb, smooth), strict=True):
        cv2.imwrite(str(path), np.ascontiguousarray(image[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return paths


def _flags(tmp_path: Path, name: str) -> list[str]:
    key_file = tmp_path / 'people.key'
    if not key_file.exists():
        keys.create_key_file(key_file)
    return ['--db', str(tmp_path / f'{name}.db'), '--key-file', str(key_file)]


def test_a_retouched_photo_is_enrolled_with_a_warning_and_refused_when_strict(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    unedited, smoothed = _copies(tmp_path)
    assert main(['people', 'enroll', 'ada', '--images', str(smoothed), '--consent', 'yes',
                 *_flags(tmp_path, 'warned')]) == 0
    err = capsys.readouterr().err
    assert f'warning: {smoothed}: likely retouched (score ' in err and 'skin' in err and '--strict' in err
    assert (tmp_path / 'warned.db').exists()

    assert main(['people', 'enroll', 'ada', '--images', str(unedited), str(smoothed), '--consent', 'yes', '--strict',
                 *_flags(tmp_path, 'strict')]) == 1
    err = capsys.readouterr().err
    assert 'refusing photos that are likely retouched' in err and str(smoothed) in err
    assert str(unedited) not in err
    assert not (tmp_path / 'strict.db').exists()

    assert main(['people', 'enroll', 'ada', '--images', str(unedited), '--consent', 'yes', '--strict',
                 *_flags(tmp_path, 'unedited')]) == 0
    assert 'retouched' not in capsys.readouterr().err


def test_without_the_model_enrolment_warns_and_strict_refuses(tmp_path, monkeypatch) -> None:
    def missing(*args, **kwargs):
        raise ModelFileError('retouch model /nowhere/retouch.onnx is missing')

    monkeypatch.setattr(photo_screening, 'RetouchCheck', missing)
    photo = shared_data('faces', 'london_ccby', *HELD_OUT_PHOTO)
    log = tmp_path / 'log.txt'
    with log.open('w') as stream:
        assert photo_screening.screen_enrolment_photos([photo], strict=False, stream=stream) == []
    assert 'not checked for retouching' in log.read_text()
    with pytest.raises(AttuneError, match='--strict needs the retouch check'):
        photo_screening.screen_enrolment_photos([photo], strict=True)


def test_retouch_model_screens_with_a_retouch_cnn_file(tmp_path, capsys, monkeypatch) -> None:
    """--retouch-model: the CNN file decides (here one whose threshold flags every face); a missing file
    is refused under --strict like a missing shipped model."""
    pytest.importorskip('torch')
    from attune.integrity import retouch_cnn as cnn
    from attune.integrity import retouch_patches as rp

    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    model = tmp_path / 'retouch_cnn.onnx'
    cnn.export_onnx(cnn.ResidualPatchNet(), model, {'threshold': -1e9, 'patch': rp.PATCH, 'step': rp.STEP,
                                                    'max_patches': rp.MAX_PATCHES})
    photo = shared_data('faces', 'london_ccby', *HELD_OUT_PHOTO)
    assert main(['people', 'enroll', 'ada', '--images', str(photo), '--consent', 'yes', '--strict',
                 '--retouch-model', str(model), *_flags(tmp_path, 'cnn')]) == 1
    err = capsys.readouterr().err
    assert 'refusing photos that are likely retouched' in err and 'editing traces' in err
    assert not (tmp_path / 'cnn.db').exists()
    assert main(['people', 'enroll', 'ada', '--images', str(photo), '--consent', 'yes', '--strict',
                 '--retouch-model', str(tmp_path / 'missing.onnx'), *_flags(tmp_path, 'missing')]) == 1
    assert '--strict needs the retouch check' in capsys.readouterr().err
