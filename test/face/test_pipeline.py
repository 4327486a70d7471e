"""The face pipeline on real frames: several faces, a real video, bad inputs, missing models."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from attune.errors import ConfigError, ModelFileError
from attune.face import FaceAnalyzer, FaceAnalyzerOptions, FacePipeline, FacePipelineOptions, mediapipe_face
from attune.tracking import TrackerOptions
from test.conftest import shared_data


def read_rgb(*parts: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(shared_data(*parts))), cv2.COLOR_BGR2RGB)


def video_frames(*parts: str, limit: int | None = None) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(shared_data(*parts)))
    frames = []
    while limit is None or len(frames) < limit:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return frames


def test_three_people_are_found_left_to_right() -> None:
    image = read_rgb('mediapipe', 'tfjs-models', 'three_people.jpg')
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, detector_model='full_range')) as analyzer:
        faces = analyzer.process(image)
    assert len(faces) == 3
    centres = [f.box.center[0] for f in faces]
    assert centres == sorted(centres)
    assert all(f.landmarks is not None and f.landmarks.shape == (478, 3) for f in faces)


def test_the_crop_graph_is_built_only_for_faces_the_whole_image_mesh_misses() -> None:
    image = read_rgb('mediapipe', 'tfjs-models', 'three_people.jpg')
    options = FaceAnalyzerOptions(static_images=True, detector_model='full_range')
    with FaceAnalyzer(options) as analyzer:
        assert len(analyzer.process(image)) == 3
        assert analyzer._crop_mesh is None  # FaceMesh found all three: no crop graph (about 28 MB) was built
        small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        canvas = np.zeros((480, 640, 3), np.uint8)
        canvas[:small.shape[0], :small.shape[1]] = small
        faces = analyzer.process(canvas)  # smaller faces: the full-range detector finds faces FaceMesh misses
        assert analyzer._crop_mesh is not None
    assert len(faces) == 3
    assert all(f.landmarks is not None and f.landmarks.shape == (478, 3) for f in faces)


def test_no_face_gives_an_empty_result() -> None:
    with FaceAnalyzer() as analyzer:
        assert analyzer.process(np.full((240, 320, 3), 127, np.uint8)) == ()


def test_real_video_one_stable_id_and_plausible_pose() -> None:
    frames = video_frames('video', 'faces', 'd3.mp4')
    options = FacePipelineOptions(tracker=TrackerOptions(deterministic_ids=True))
    with FacePipeline(options) as pipeline:
        results = [pipeline.process(f, int(i * 1e9 / 30)) for i, f in enumerate(frames)]
    with_face = [r for r in results if r.faces]
    assert len(with_face) >= 0.95 * len(frames)
    assert {f.id for r in results for f in r.faces} == {'f1'}
    yaws = [r.faces[0].head_pose.yaw for r in with_face if r.faces[0].head_pose is not None]
    assert len(yaws) >= 0.95 * len(with_face)
    assert all(abs(y) < 60 for y in yaws)


def test_options_are_validated_by_name() -> None:
    with pytest.raises(ConfigError, match='detector_model'):
        FaceAnalyzerOptions(detector_model='long_range')
    with pytest.raises(ConfigError, match='max_faces'):
        FaceAnalyzerOptions(max_faces=0)
    with pytest.raises(ConfigError, match='fallback_hfov_deg'):
        FacePipelineOptions(fallback_hfov_deg=5.0)


def test_missing_model_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(mediapipe_face._DETECTOR_FILES, 'short_range', 'modules/face_detection/gone.tflite')
    with pytest.raises(ModelFileError, match=r'gone\.tflite'):
        FaceAnalyzer()


def test_wrong_array_is_refused() -> None:
    with FaceAnalyzer(FaceAnalyzerOptions(landmarks=False)) as analyzer, pytest.raises(ValueError, match='uint8 RGB'):
        analyzer.process(np.zeros((10, 10), np.uint8))
