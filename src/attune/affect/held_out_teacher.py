"""The expression teacher refit without the ASD model's validation and test people (no rclpy).

The shipped expression head (the teacher's default source) is fit on every person of
../shared/data/faces, the ASD model's held-out people included. Compared on those people, the teacher
would be scored on faces it was trained on, and its soft labels would carry what it learned from them.
So `attune train asd-emotion` fits the same head, with the shipped head's own settings
(attune.models.training.expression_head_training, settings from the shipped file's metadata), on the ASD model's
training people only, and labels every face with that: nothing that shaped the ASD model, and nothing
it is compared with, has seen a held-out person. The expression photos' features come from the
expression trainer's own cache (never pixels).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

#: This project's data-set folders -> the expression trainer's person prefixes.
_PERSON_PREFIXES = {'london_ccby/': 'london:', 'muxspace/': 'mux:'}


def expression_person(subject: str) -> str | None:
    """The expression trainer's name of one of our subjects ('muxspace/George_W_Bush' -> 'mux:George_W_Bush');
    None for a subject outside its data sets."""
    for ours, theirs in _PERSON_PREFIXES.items():
        if subject.startswith(ours):
            return theirs + subject[len(ours):]
    return None


def faces_folder(folders: Iterable[str | Path]) -> Path | None:
    """The first folder laid out like ../shared/data/faces (london_ccby/ or muxspace/labels.csv)."""
    for folder in map(Path, folders):
        if (folder / 'london_ccby').is_dir() or (folder / 'muxspace' / 'labels.csv').is_file():
            return folder
    return None


def trainer_available() -> bool:
    """Whether the teacher has an expression head this module can refit (attune train expression)."""
    import importlib.util

    try:
        return all(importlib.util.find_spec(m) is not None for m in (
            'attune.expression.head', 'attune.expression.dataset', 'attune.models.training.expression_head_training'))
    except ModuleNotFoundError:
        return False


def fit_head_without(people: Iterable[str], faces: Path, output: Path,
                     log: Callable[[str], None] = print) -> dict[str, Any]:
    """Fit the expression head like the shipped one on the labelled photos of `faces` minus `people` (our
    subject names); write it to `output` (ONNX). Returns what was fit on (people, photos, settings).

    Raises:
        ValueError: the expression head's trainer is not available (no shipped head).
    """
    try:
        from attune.expression.dataset import extract, load_items
        from attune.expression.head import default_model_path
        from attune.models.training import expression_head_training as head_training
    except ImportError as exc:
        raise ValueError(f'the expression head trainer is not available ({exc})') from None
    import onnxruntime as ort

    shipped = ort.InferenceSession(str(default_model_path()), providers=['CPUExecutionProvider'])
    meta = shipped.get_modelmeta().custom_metadata_map
    fields = head_training.HeadConfig.__dataclass_fields__
    config = head_training.HeadConfig(**{k: v for k, v in json.loads(meta['config']).items() if k in fields})
    items = load_items(Path(faces))
    features = extract(items, Path.home() / '.cache' / 'attune' / 'expression', log=log)
    matrix = head_training.build_matrix(items, features)
    excluded = {expression_person(p) for p in people} - {None}
    keep = ~np.isin(matrix.person, sorted(excluded))
    train = matrix.rows(keep)
    log(f'teacher head refit on {len(set(train.person))} people ({int(keep.sum())} photos), '
        f'without {len(set(matrix.person[~keep]))} held-out people')
    model = head_training.fit(train, config)
    head_training.export_onnx(model, float(json.loads(meta.get('calibration_margin', '0'))), config, output,
                              {'fit_without_people': len(excluded)})
    return {'people': len(set(train.person)), 'photos': int(keep.sum()),
            'held_out_people': len(set(matrix.person[~keep])), 'config': json.loads(meta['config'])}
