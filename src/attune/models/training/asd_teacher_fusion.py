"""Fitting the pool of an ASD emotion network with its teacher (attune.affect.teacher_fusion) on the validation
people of the network's own split, and storing it in the network's ONNX file and model card.

For each network weight w in 0, 0.1, ..., 1 the per-class offsets are tuned on the validation people
(tune_biases, as for the network's own offsets); the w with the best validation macro-F1 is kept. The
neutral reference of the per-child calibration is the mean pooled output on the neutral training faces.
The test people are scored once and reported, never used to choose. The teacher is whatever soft labels
the faces carry: `attune train asd-emotion` labels them with the expression head refit without the
validation and test people, so neither side of the pool saw them.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attune.affect.dataset import FaceDataset
from attune.affect.evaluation import model_probabilities
from attune.affect.model import METADATA_KEY, AsdEmotionModel
from attune.affect.teacher_fusion import TeacherFusion
from attune.emotions import EMOTIONS
from attune.models.training.asd_emotion_metrics import classification, person_bootstrap, tune_biases
from attune.models.training.asd_emotion_training import TrainConfig, split

#: The network weights tried.
WEIGHTS = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 11))
CARD_HEADING = '## Pooled with its teacher (what the node publishes)'


@dataclass(frozen=True)
class FusionFit:
    """The fitted pool, the validation macro-F1 of each weight tried, and per part ('val', 'test') the
    scores of teacher, network and pool with the bootstrap of their differences to the teacher."""

    fusion: TeacherFusion
    by_weight: dict[str, float]
    parts: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {'fusion': self.fusion.to_dict(), 'validation_macro_f1_by_weight': self.by_weight, **self.parts}


def fit_fusion(model: AsdEmotionModel, data: FaceDataset, config: TrainConfig, resamples: int = 400,
               log: Callable[[str], None] | None = None) -> FusionFit:
    """The pool of `model` with the teacher labels `data` carries, on the split `config` makes of it.

    Raises:
        ValueError: some faces of the split carry no teacher labels, or there are no validation faces.
    """
    parts = split(data, config)

    def part(mask: Any) -> tuple[Any, Any, Any, Any]:
        faces = data.subset(mask)
        labelled = faces.hard >= 0
        if not np.isfinite(faces.soft[labelled]).all():
            raise ValueError('every face needs its teacher labels to fit the pool')
        return (model_probabilities(model, faces)[labelled], faces.soft[labelled], faces.hard[labelled],
                faces.subjects[labelled])

    val, test, train = part(parts.val), part(parts.test), part(parts.train)
    if not len(val[2]):
        raise ValueError('no validation faces with hard labels: the pool cannot be chosen')
    uniform = (1 / len(EMOTIONS),) * len(EMOTIONS)
    candidates = []
    for w in WEIGHTS:
        logits = np.log(TeacherFusion(w, (0.0,) * len(EMOTIONS), uniform).fuse(val[0], val[1]))
        tuned = tune_biases(logits, val[2])
        f1 = classification((logits + tuned).argmax(axis=1), val[2])['macro_f1'] or 0.0
        candidates.append((f1, w, tuple(float(o) for o in tuned)))
        if log:
            log(f'network weight {w:.1f}: validation macro-F1 {f1:.4f}, offsets {tuned.tolist()}')
    _, weight, offsets = max(candidates, key=lambda c: c[0])
    neutral = train[2] == EMOTIONS.index('neutral')
    reference = (TeacherFusion(weight, offsets, uniform).fuse(train[0][neutral], train[1][neutral]).mean(axis=0)
                 if neutral.any() else np.asarray(uniform))
    # as the model file will hold it (rounded), so that what is scored here is what the node runs
    fused = TeacherFusion(weight, offsets, tuple(float(x) for x in reference / reference.sum()))
    fusion = TeacherFusion.from_dict(fused.to_dict())
    scored = {}
    for name, (network, teacher, y, people) in (('val', val), ('test', test)):
        predictions = {'teacher': teacher.argmax(axis=1), 'network': network.argmax(axis=1),
                       'pooled': fusion.fuse(network, teacher).argmax(axis=1)}
        scored[name] = {'faces': int(len(y)), 'people': len(set(people.tolist())),
                        'scores': {k: {m: v for m, v in classification(p, y).items() if m != 'confusion'}
                                   for k, p in predictions.items()},
                        'vs_teacher': person_bootstrap(predictions, y, people, 'teacher', resamples, min_faces=10)}
    return FusionFit(fusion, {f'{w:.1f}': round(f, 4) for f, w, _ in candidates}, scored)


def write_fusion(path: Path | str, fusion: TeacherFusion) -> None:
    """Store the pool under 'teacher_fusion' in the model's metadata (its graph and weights stay as they are)."""
    import onnx

    proto = onnx.load(str(path))
    entry = next(p for p in proto.metadata_props if p.key == METADATA_KEY)
    entry.value = json.dumps({**json.loads(entry.value), 'teacher_fusion': fusion.to_dict()})
    onnx.save(proto, str(path))


def card_section(fit: FusionFit, command: str) -> str:
    """The model card's section on the pool (CARD_HEADING)."""
    f = fit.fusion
    offsets = ', '.join(f'{x:g}' for x in f.offsets)
    rows = []
    for key, label in (('pooled', 'pooled (the node\'s output)'), ('network', 'this network alone'),
                       ('teacher', 'the teacher (refit without these people)')):
        s = fit.parts['test']['scores'][key]
        per_class = ' | '.join(f"{s['f1'].get(e, 0.0):.2f}" for e in EMOTIONS)
        rows.append(f"| {label} | {s['accuracy']:.3f} | {s['macro_f1']:.3f} | {per_class} |")
    boot = fit.parts['test']['vs_teacher']['pooled']
    val = fit.parts['val']['scores']
    return '\n'.join([
        CARD_HEADING,
        "The ASD emotion node publishes this network's output pooled with its teacher's "
        '(attune.affect.teacher_fusion):',
        f'`softmax({f.network_weight:g} log p_network + {1 - f.network_weight:g} log p_teacher + offsets)`, '
        f'offsets [{offsets}] (EMOTIONS order), stored in',
        "this file's metadata (`teacher_fusion`, with the mean pooled output on the neutral training faces, the "
        'reference of the',
        'per-child calibration). The network weight (0, 0.1, ..., 1) and the offsets were chosen on the validation '
        'people of the',
        'split above (attune.models.training.asd_teacher_fusion); the graph and weights are unchanged. Made by:',
        '```', command, '```',
        'On the test people, scored once after the choice:', '',
        '| | accuracy | macro-F1 | ' + ' | '.join(EMOTIONS) + ' |',
        '|---|---|---|' + '---|' * len(EMOTIONS), *rows, '',
        f"Against the teacher (paired person-wise bootstrap): pooled accuracy {boot['accuracy']['diff']:+.3f} ± "
        f"{boot['accuracy']['se']:.3f}, macro-F1 {boot['macro_f1']['diff']:+.3f} ± {boot['macro_f1']['se']:.3f}. "
        f"Validation people: pooled {val['pooled']['accuracy']:.3f} / {val['pooled']['macro_f1']:.3f} against the "
        f"teacher's {val['teacher']['accuracy']:.3f} / {val['teacher']['macro_f1']:.3f} (offsets tuned on them). "
        'Retraining the network means fitting the pool again.', ''])


def update_card(card: Path, section: str) -> None:
    """Put `section` into the model card: in place of an earlier one, else before 'Replacing this model'
    (else at the end)."""
    text = card.read_text()
    pattern = re.compile(re.escape(CARD_HEADING) + r'\n.*?(?=\n## |\Z)', re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip('\n') + '\n', text, count=1)
    elif '\n## Replacing this model' in text:
        text = text.replace('\n## Replacing this model', '\n' + section + '\n## Replacing this model', 1)
    else:
        text = text.rstrip('\n') + '\n\n' + section
    card.write_text(text)
