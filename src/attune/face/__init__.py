"""Face perception core (no rclpy): MediaPipe detection + FaceMesh, tracking, head pose.

The analyzer and the pipeline load on first use (PEP 562): nodes that only read Faces messages import
`attune.face.types` through this package, and must not pay for MediaPipe, OpenCV and SciPy (about 60 MB
of resident memory per process).
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace

if TYPE_CHECKING:
    from attune.face.mediapipe_face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.face.pipeline import FacePipeline, FacePipelineOptions

_LAZY = {'FaceAnalyzer': 'attune.face.mediapipe_face', 'FaceAnalyzerOptions': 'attune.face.mediapipe_face',
         'FacePipeline': 'attune.face.pipeline', 'FacePipelineOptions': 'attune.face.pipeline'}

__all__ = ['FaceAnalyzer', 'FaceAnalyzerOptions', 'FaceFrame', 'FaceObservation', 'FacePipeline',
           'FacePipelineOptions', 'HeadPose', 'TrackedFace']


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(import_module(module), name)
