"""Face perception core (no rclpy): MediaPipe detection + FaceMesh, tracking, head pose."""
from attune.face.mediapipe_face import FaceAnalyzer, FaceAnalyzerOptions
from attune.face.pipeline import FacePipeline, FacePipelineOptions
from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace

__all__ = ['FaceAnalyzer', 'FaceAnalyzerOptions', 'FaceFrame', 'FaceObservation', 'FacePipeline',
           'FacePipelineOptions', 'HeadPose', 'TrackedFace']
