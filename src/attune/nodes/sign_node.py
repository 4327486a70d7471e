"""sign_node: attune/Hands in, attune/Sign and the signer's AffectState out.

A thin lifecycle node around attune.sign.SignRecognizer: isolated signs (one message per held sign,
thanks to hysteresis), continuous gloss sequences (CTC-decoded per signing segment), and the
signer's emotion (hand-motion energy fused with the face's Expression, docs/sign.md).

Subscribes:  <hands_topic>        attune/Hands (from hands_node), reliable
             <expression_topic>   attune/Expression (optional; for signer emotion)
             <faces_topic>        attune/Faces (optional; which face is the signer's)
Publishes:   /attune/sign         attune/Sign: header = the Hands frame at which the decision was made
             /attune/affect       attune/AffectState, source 'signer_emotion', at most emotion_rate_hz
             /diagnostics         diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from attune.errors import AttuneError
from attune.hands.types import HandFrame
from attune.ros import msg_affect_state, msg_expression, msg_hands, msg_sign, qos
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import FAILED, Diagnostics, NodeShell, stale_input_parameter
from attune.ros.stamps import to_ns
from attune.sign.emotion import SignerEmotionOptions
from attune.sign.events import SignEvent
from attune.sign.hysteresis import HysteresisOptions, SegmenterOptions
from attune.sign.model import SignModel
from attune.sign.recognizer import FrameResult, RecognizerOptions, SignRecognizer, StreamOptions

if TYPE_CHECKING:
    from attune.msg import Expression, Faces, Hands, Sign

NODE_NAME = 'sign_node'
SIGN_TOPIC = '/attune/sign'
AFFECT_TOPIC = '/attune/affect'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('hands_topic', '/attune/hands', 'attune/Hands topic to subscribe to.'),
    ParamSpec('input_queue_depth', 30, 'Hands messages queued (reliable) while the node is busy; sign models '
              'need consecutive frames, so this is deeper than an image queue.', min=1, max=1000),
    ParamSpec('mode', 'both', 'isolated: one Sign per held sign; continuous: one Sign with the decoded gloss '
              'sequence per signing segment; both.', choices=('isolated', 'continuous', 'both')),
    ParamSpec('isolated_model', 'asl_alphabet', 'Isolated sign model: a shipped name (asl_alphabet, '
              'kinivi_handshape, kinivi_trajectory) or the path of an .onnx from `attune train sign isolated`.'),
    ParamSpec('continuous_model', 'asl_fingerspelling_ctc', 'Continuous (CTC) model: a shipped name '
              '(asl_fingerspelling_ctc, kinivi_handshape_ctc) or the path of an .onnx from '
              '`attune train sign continuous`.'),
    ParamSpec('decoder', 'beam', 'CTC decoding of continuous segments: greedy or beam (prefix beam search).',
              choices=('greedy', 'beam'), dynamic=True),
    ParamSpec('beam_width', 8, 'Beam width of the prefix beam search.', min=1, max=64, dynamic=True),
    ParamSpec('top_k', 3, 'Alternatives reported in Sign.top_glosses.', min=1, max=20, dynamic=True),
    ParamSpec('on_threshold', 0.7, 'Smoothed probability at which an isolated sign starts.', min=0.0, max=1.0,
              dynamic=True),
    ParamSpec('off_threshold', 0.4, 'Smoothed probability below which a held sign ends (hysteresis; '
              '<= on_threshold).', min=0.0, max=1.0, dynamic=True),
    ParamSpec('min_frames', 4, 'Frames above on_threshold before an isolated sign counts.', min=1, max=300,
              dynamic=True),
    ParamSpec('release_frames', 4, 'Frames below off_threshold that end a held sign.', min=1, max=300,
              dynamic=True),
    ParamSpec('max_gap_frames', 6, 'Frames without a hand a held sign survives.', min=0, max=300, dynamic=True),
    ParamSpec('smoothing', 0.5, 'Weight of the past in the moving average of the probabilities (0 = none).',
              min=0.0, max=0.99, dynamic=True),
    ParamSpec('report', 'end', 'When an isolated Sign is published: end (once the sign ends, with its '
              'duration) or onset (as soon as it is recognized).', choices=('end', 'onset'), dynamic=True),
    ParamSpec('min_window_frames', 4, 'Fewest frames of a signing run the isolated model classifies '
              '(shorter runs are padded to the model window).', min=1, max=300, dynamic=True),
    ParamSpec('dominant_hand', 'auto', 'The signing hand: right, left, or auto (the hand that was signing, '
              'else the higher one).', choices=('auto', 'right', 'left'), dynamic=True),
    ParamSpec('mirrored_input', False, 'The camera images are mirrored (keep equal to hands_node).',
              dynamic=True),
    ParamSpec('mirror_left_hands', True, 'Mirror a left signing hand to a right one (sign languages mirror '
              'signs for left-handed signers); false for gestures with an absolute direction.', dynamic=True),
    ParamSpec('bridge_frames', 3, 'Frames a lost signing hand is bridged over (last features repeated).',
              min=0, max=100, dynamic=True),
    ParamSpec('segment_end_gap_frames', 8, 'Frames without the signing hand that end a continuous segment.',
              min=1, max=300, dynamic=True),
    ParamSpec('segment_min_frames', 8, 'Shorter continuous segments are not decoded.', min=1, max=500,
              dynamic=True),
    ParamSpec('max_segment_frames', 300, 'A continuous segment this long is decoded and a new one starts '
              '(at most what the model takes).', min=8, max=4096, dynamic=True),
    ParamSpec('signer_emotion', True, 'Publish the signer\'s AffectState on /attune/affect.', dynamic=True),
    ParamSpec('expression_topic', '/attune/expression', 'attune/Expression topic fused into signer emotion; '
              "'' = hands only (arousal and engagement, no emotion distribution)."),
    ParamSpec('faces_topic', '/attune/faces', "attune/Faces topic used to tell which face signs (the face "
              "whose centre is horizontally nearest the signing wrist); '' = the latest Expression of any face."),
    ParamSpec('emotion_rate_hz', 2.0, 'Most AffectState messages per second.', min=0.1, max=30.0, dynamic=True),
    ParamSpec('emotion_window_s', 2.0, 'Seconds of hand motion in the signer-emotion features.', min=0.2,
              max=30.0, dynamic=True),
    ParamSpec('hand_weight', 0.5, 'Weight of hand-motion arousal against the face\'s.', min=0.0, max=1.0,
              dynamic=True),
    stale_input_parameter('a Hands message', 'hands messages come back'),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)

_RECOGNIZER_PARAMS = {p.name for p in PARAMETERS} - {
    'hands_topic', 'input_queue_depth', 'isolated_model', 'continuous_model', 'signer_emotion',
    'expression_topic', 'faces_topic', 'emotion_rate_hz', 'autostart'}


def recognizer_options(p: Mapping[str, Any]) -> RecognizerOptions:
    """RecognizerOptions from the node's parameter values."""
    return RecognizerOptions(
        mode=p['mode'],
        stream=StreamOptions(dominant_hand=p['dominant_hand'], mirrored_input=p['mirrored_input'],
                             mirror_left_hands=p['mirror_left_hands'], max_gap_frames=p['bridge_frames']),
        hysteresis=HysteresisOptions(on_threshold=p['on_threshold'], off_threshold=p['off_threshold'],
                                     min_frames=p['min_frames'], release_frames=p['release_frames'],
                                     max_gap_frames=p['max_gap_frames'], smoothing=p['smoothing'],
                                     top_k=p['top_k'], report=p['report']),
        segmenter=SegmenterOptions(end_gap_frames=p['segment_end_gap_frames'], min_frames=p['segment_min_frames'],
                                   max_frames=p['max_segment_frames']),
        emotion=SignerEmotionOptions(window_s=p['emotion_window_s'], hand_weight=p['hand_weight']),
        min_window_frames=p['min_window_frames'], decoder=p['decoder'], beam_width=p['beam_width'],
        top_k=p['top_k'])


def _recognize(recognizer: SignRecognizer, msg: Hands) -> tuple[HandFrame, FrameResult]:
    frame = msg_hands.from_msg(msg)
    return frame, recognizer.update(frame)


class SignNode(NodeShell):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('sign recognition', working='processing', idle='no hands messages in the last {s:g} s')
    COUNTERS = ('frames_processed', 'signs_published')

    def __init__(self, **kwargs: Any) -> None:
        self._recognizer: SignRecognizer | None = None
        self._models: dict[str, SignModel] = {}
        self._model_names: dict[str, str] = {}
        self._sign_pub: Publisher[Sign] | None = None
        self._last_header: Header | None = None
        self._last_affect_ns: int | None = None
        self._faces: list[tuple[str, float, float]] = []  # (id, centre x, bottom y), normalized
        self._signer_face = ''
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        self._recognizer = self._build_recognizer()
        self._sign_pub = self.add_publisher(self._msgs.Sign, SIGN_TOPIC, qos.RESULTS)
        self._affect_pub = self.add_publisher(self._msgs.AffectState, AFFECT_TOPIC, qos.RESULTS)

    def activate(self) -> None:
        p = self.params
        hands_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=p['input_queue_depth'],
                               reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
        self.add_subscription(self._msgs.Hands, p['hands_topic'], self._on_hands, hands_qos)
        if p['expression_topic']:
            self.add_subscription(self._msgs.Expression, p['expression_topic'], self._on_expression, qos.RESULTS)
        if p['faces_topic']:
            self.add_subscription(self._msgs.Faces, p['faces_topic'], self._on_faces, qos.RESULTS)
        self.get_logger().info(f"recognizing signs ({p['mode']}) from {p['hands_topic']}")

    def deactivate(self) -> None:
        self._flush()

    def release(self) -> None:
        self._recognizer = None
        self._models.clear()
        self._sign_pub = None

    def _build_recognizer(self) -> SignRecognizer:
        """A recognizer for the current parameters (models already loaded are kept)."""
        p = self.params
        options = recognizer_options(p)
        wanted = {}
        if options.mode in ('isolated', 'both'):
            wanted['isolated'] = p['isolated_model']
        if options.mode in ('continuous', 'both'):
            wanted['continuous'] = p['continuous_model']
        models = {role: self._kept_or_loaded(role, name) for role, name in wanted.items()}
        recognizer = SignRecognizer(options, isolated=models.get('isolated'), continuous=models.get('continuous'))
        self._models = models
        self._model_names = dict(wanted)
        return recognizer

    def _kept_or_loaded(self, role: str, name: str) -> SignModel:
        """The model already loaded for `role` when it is `name`, else `name` loaded."""
        kept = self._models.get(role)
        return kept if kept is not None and self._model_names.get(role) == name else SignModel(name)

    # --- parameters ------------------------------------------------------------------------------
    def check_parameters(self, values: Mapping[str, Any]) -> None:
        recognizer_options(values)  # thresholds and modes that only make sense together

    def parameters_changed(self, names: set[str]) -> None:
        if self._recognizer is not None and names & _RECOGNIZER_PARAMS:
            self._flush()
            self._recognizer = self.rebuilt(None, self._build_recognizer, 'sign recognizer')

    # --- callbacks -------------------------------------------------------------------------------
    def _on_faces(self, msg: Faces) -> None:
        self._faces = [(f.id, 0.5 * (f.roi.xmin + f.roi.xmax), f.roi.ymax) for f in msg.faces]

    def _on_expression(self, msg: Expression) -> None:
        recognizer = self._recognizer  # one reference: release() may clear it from another thread
        if recognizer is None:
            return
        try:
            expression = msg_expression.signer_input(msg)
        except (TypeError, ValueError) as exc:
            self.bad_input.report('expression', f'dropped Expression: {exc}')
            return
        if self.params['faces_topic'] and self._signer_face and expression.face_id != self._signer_face:
            return  # another person's face
        if len(expression.labels) != len(expression.probabilities):
            self.bad_input.report('expression', f'dropped Expression of face {expression.face_id!r}: '
                                   f'{len(expression.labels)} labels but {len(expression.probabilities)} probabilities')
            return
        recognizer.emotion.add_expression(expression)

    def _on_hands(self, msg: Hands) -> None:
        recognizer = self._recognizer
        if recognizer is None:
            return
        start = time.perf_counter()
        stamp = to_ns(msg.header.stamp)
        outcome = self.attempt('processing', f'dropped Hands (stamp {stamp} ns)', _recognize, recognizer, msg)
        if outcome is FAILED:
            return
        frame, result = outcome
        for problem in result.problems:
            self.bad_input.report('landmarks', f'Hands (stamp {stamp} ns): {problem}')
        self._last_header = msg.header
        if result.frame.present and result.frame.wrist is not None:
            self._update_signer_face(result.frame.wrist, frame.width, frame.height)
        for event in result.events:
            self._publish_sign(event, msg.header)
        if self.params['signer_emotion']:
            self._publish_affect(recognizer, msg.header, stamp)
        self.processed(start, 'frames_processed')

    def _update_signer_face(self, wrist: Any, width: int, height: int) -> None:
        """The signer's face: the face whose centre is nearest (horizontally) to the signing wrist."""
        if not self._faces:
            return
        aspect = width / height if width and height else 1.0
        x = float(wrist[0]) / aspect  # back from isotropic to normalized image x
        self._signer_face = min(self._faces, key=lambda f: abs(f[1] - x))[0]

    def _publish_sign(self, event: SignEvent, header: Header) -> None:
        if self._signer_face and not event.face_id:
            from dataclasses import replace

            event = replace(event, face_id=self._signer_face)
        if self._sign_pub is None:  # events come from the recognizer, made by configure() with the publisher
            raise AttuneError('a sign event before the sign node was configured')
        self._sign_pub.publish(msg_sign.to_msg(event, header))
        self.count('signs_published')

    def _publish_affect(self, recognizer: SignRecognizer, header: Header, stamp: int) -> None:
        period_ns = int(1e9 / self.params['emotion_rate_hz'])
        if self._last_affect_ns is not None and 0 <= stamp - self._last_affect_ns < period_ns:
            return
        affect = recognizer.emotion.estimate(stamp)
        if affect is None:
            return
        if not affect.face_id and self._signer_face:
            from dataclasses import replace

            affect = replace(affect, face_id=self._signer_face)
        self._affect_pub.publish(msg_affect_state.to_msg(msg_affect_state.from_signer_affect(affect), header))
        self._last_affect_ns = stamp

    def _flush(self) -> None:
        if self._recognizer is None or self._sign_pub is None:
            return
        events = self._recognizer.flush()
        if events and self._last_header is not None:
            for event in events:
                self._publish_sign(event, self._last_header)

    def diagnostic_error(self) -> str:
        return '' if self._recognizer is not None else 'no recognizer (see the error log)'


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = SignNode


def main(args: list[str] | None = None) -> int:
    return run_node(SignNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
