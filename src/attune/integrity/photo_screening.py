"""Retouch screening of enrolment photos (`attune people enroll --images`): warn, or refuse when strict.

A beautified enrolment photo weakens recognition of the real face and can be an attack (someone
enrols a photo edited towards another face). Each photo is read as enrolment reads it, its largest
face found by FaceMesh and scored by the shipped retouch check (attune.integrity.retouch_check), or
by a retouch CNN file made by `attune train retouch-cnn` (`model`, attune.integrity.retouch_cnn_check).
Photos without a face are left to the enrolment path (it refuses them with its own message).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from attune.errors import AttuneError, ModelFileError
from attune.integrity.retouch_check import RetouchCheck, RetouchVerdict


class PhotoCheck(Protocol):
    """What screening needs of a retouch check (RetouchCheck, RetouchCNNCheck)."""

    threshold: float

    def check_photo(self, rgb: Any, landmarks_px: Any) -> RetouchVerdict: ...


def open_check(model: Path | None = None) -> PhotoCheck:
    """The shipped feature model, or the retouch CNN in `model` (ModelFileError / ValueError when unusable)."""
    if model is None:
        return RetouchCheck()
    from attune.integrity.retouch_cnn_check import RetouchCNNCheck

    return RetouchCNNCheck(model)


@dataclass(frozen=True)
class PhotoVerdict:
    path: Path
    verdict: RetouchVerdict


def describe(item: PhotoVerdict, threshold: float) -> str:
    v = item.verdict
    why = '; '.join(v.reasons) if v.reasons else 'no single feature stands out'
    return f'{item.path}: likely retouched (score {v.score:.3f}, threshold {threshold:.3f}): {why}'


def check_photos(paths: list[Path], check: PhotoCheck | None = None) -> list[PhotoVerdict]:
    """Verdicts on the photos that show a face (in order)."""
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.integrity.retouch_data import landmarks_px, read_photo

    check = check or RetouchCheck()
    out = []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=2)) as analyzer:
        for path in paths:
            rgb = read_photo(Path(path))
            px = landmarks_px(analyzer, rgb)
            if px is not None:
                out.append(PhotoVerdict(Path(path), check.check_photo(rgb, px)))
    return out


def screen_enrolment_photos(paths: list[Path], *, strict: bool, stream: TextIO | None = None,
                            check: PhotoCheck | None = None, model: Path | None = None) -> list[PhotoVerdict]:
    """Warn on `stream` (stderr) about every photo that is likely retouched; with `strict`, refuse them.
    `model`: a retouch CNN file to use instead of the shipped feature model.

    Returns the flagged photos.

    Raises:
        AttuneError: strict and a photo is likely retouched, or strict and the check cannot run.
    """
    stream = stream or sys.stderr
    try:
        check = check or open_check(model)
    except (ModelFileError, ValueError) as exc:
        if strict:
            raise AttuneError(f'--strict needs the retouch check, which cannot run: {exc}') from None
        print(f'warning: photos not checked for retouching: {exc}', file=stream)
        return []
    flagged = [v for v in check_photos(paths, check) if v.verdict.likely_retouched]
    if flagged and strict:
        raise AttuneError('refusing photos that are likely retouched (enrol unedited photos):\n  '
                          + '\n  '.join(describe(v, check.threshold) for v in flagged))
    for item in flagged:
        print(f'warning: {describe(item, check.threshold)}; enrolling it anyway (--strict refuses such photos)',
              file=stream)
    return flagged
