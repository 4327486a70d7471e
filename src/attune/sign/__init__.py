"""Sign recognition core (no rclpy, no torch): features, data sets and blocks, composed sequences,
CTC decoding, hysteresis, ONNX sign models, the streaming recognizer, signer emotion."""
from attune.sign.events import SignEvent
from attune.sign.model import SHIPPED, SignModel, SignModelInfo
from attune.sign.recognizer import HandStream, RecognizerOptions, SignRecognizer, StreamOptions

__all__ = ['SHIPPED', 'HandStream', 'RecognizerOptions', 'SignEvent', 'SignModel', 'SignModelInfo',
           'SignRecognizer', 'StreamOptions']
