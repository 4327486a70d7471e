"""MediaPipe graphs run on the calling thread (attune.mediapipe_executor): no worker threads, the
same landmarks as MediaPipe's own thread pool, frame after frame (its landmark tracking included)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from attune.face.landmark_list import landmark_array
from attune.mediapipe_executor import APPLICATION_THREAD_EXECUTOR, on_calling_thread, run_on_calling_thread
from test.conftest import shared_data


def thread_ids() -> set[int]:
    return {int(tid) for tid in os.listdir('/proc/self/task')}


def cpu_ticks(tids: set[int]) -> int:
    """User + system CPU clock ticks of these threads of this process (ended threads count 0)."""
    ticks = 0
    for tid in tids:
        try:
            fields = Path(f'/proc/self/task/{tid}/stat').read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks


def run_and_share_of_other_threads(make_solution, frames):
    """Landmarks of every frame, and the share of the CPU time spent while processing them that
    went to threads the solution started (not to the calling thread)."""
    before = thread_ids()
    with make_solution() as solution:
        started = thread_ids() - before
        caller = {threading.get_native_id()}
        theirs, ours = cpu_ticks(started), cpu_ticks(caller)
        results = [solution.process(f) for f in frames]
        theirs, ours = cpu_ticks(started) - theirs, cpu_ticks(caller) - ours
    return results, theirs / max(theirs + ours, 1)


def london_frames(count: int) -> list[np.ndarray]:
    """Neutral and smiling London photos, as 640x480 RGB camera frames."""
    root = shared_data('faces', 'london_ccby')
    paths = [p for label in ('neutral', 'smiling') for p in sorted((root / label).glob('*.jpg'))[:count // 2]]
    frames = [cv2.imread(str(p)) for p in paths]
    return [np.ascontiguousarray(cv2.resize(f, (640, 480))[:, :, ::-1]) for f in frames if f is not None]


def test_the_default_executor_becomes_the_calling_thread():
    from mediapipe.framework import calculator_pb2

    config = calculator_pb2.CalculatorGraphConfig()
    config.num_threads = 4
    config.executor.add(name='inference', type='ThreadPoolExecutor')
    run_on_calling_thread(config)
    assert config.num_threads == 0
    by_name = {e.name: e.type for e in config.executor}
    assert by_name == {'inference': 'ThreadPoolExecutor', '': APPLICATION_THREAD_EXECUTOR}

    config = calculator_pb2.CalculatorGraphConfig()
    config.executor.add(name='')  # what MediaPipe's solutions declare: the default, type left to it
    run_on_calling_thread(config)
    assert [(e.name, e.type) for e in config.executor] == [('', APPLICATION_THREAD_EXECUTOR)]


def test_the_subclass_is_made_once_and_is_still_the_solution():
    from mediapipe.python.solutions import face_mesh

    cls = on_calling_thread(face_mesh.FaceMesh)
    assert cls is on_calling_thread(face_mesh.FaceMesh)
    assert issubclass(cls, face_mesh.FaceMesh)


def assert_same_landmarks(ours, pooled) -> int:
    """Both lists of per-frame landmark lists agree; returns how many were compared."""
    compared = 0
    for a, b in zip(ours, pooled, strict=True):
        assert (a is None) == (b is None)
        for la, lb in zip(a or [], b or [], strict=True):
            np.testing.assert_allclose(landmark_array(la), landmark_array(lb), atol=1e-6)
            compared += 1
    return compared


@pytest.mark.parametrize('static_images', [False, True])
def test_facemesh_runs_on_the_calling_thread_with_mediapipes_own_landmarks(static_images):
    from mediapipe.python.solutions import face_mesh

    frames = london_frames(24)
    assert len(frames) == 24
    options = dict(static_image_mode=static_images, max_num_faces=2, refine_landmarks=True)
    ours, ours_elsewhere = run_and_share_of_other_threads(
        lambda: on_calling_thread(face_mesh.FaceMesh)(**options), frames)
    pooled, pooled_elsewhere = run_and_share_of_other_threads(lambda: face_mesh.FaceMesh(**options), frames)
    # MediaPipe's pool does most of the work on its own threads; ours does (almost) none elsewhere.
    assert pooled_elsewhere > 0.5
    assert ours_elsewhere < 0.1
    compared = assert_same_landmarks([r.multi_face_landmarks for r in ours],
                                     [r.multi_face_landmarks for r in pooled])
    assert compared >= 20  # the photos have faces: the comparison compared something


def test_hands_run_on_the_calling_thread_with_mediapipes_own_landmarks():
    from mediapipe.python.solutions import hands

    root = shared_data('mediapipe', 'gesture_recognizer_raw_data')
    paths = [p for gesture in ('call', 'four', 'rock') for p in sorted((root / gesture).glob('*.jpg'))[:6]]
    frames = [np.ascontiguousarray(cv2.imread(str(p))[:, :, ::-1]) for p in paths]
    ours, ours_elsewhere = run_and_share_of_other_threads(
        lambda: on_calling_thread(hands.Hands)(max_num_hands=2), frames)
    pooled, pooled_elsewhere = run_and_share_of_other_threads(lambda: hands.Hands(max_num_hands=2), frames)
    assert pooled_elsewhere > 0.5
    assert ours_elsewhere < 0.1
    assert assert_same_landmarks([r.multi_hand_landmarks for r in ours],
                                 [r.multi_hand_landmarks for r in pooled]) >= 10


def test_the_face_and_hand_analyzers_use_the_calling_thread():
    from attune.face.mediapipe_face import FaceAnalyzer
    from attune.hands.mediapipe_hands import HandAnalyzer

    frames = london_frames(24)
    faces, elsewhere = run_and_share_of_other_threads(FaceAnalyzer, frames)
    assert sum(len(f) for f in faces) == 24
    assert elsewhere < 0.1
    _, elsewhere = run_and_share_of_other_threads(HandAnalyzer, frames)
    assert elsewhere < 0.1
