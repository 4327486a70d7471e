"""`attune view`: Foxglove payloads from attune's types, the shipped layout, and the whole relay:
real rclpy publishers -> ViewRelay -> foxglove-sdk WebSocket server -> a plain WebSocket client
that speaks the Foxglove protocol, checks the advertised channels and schemas, subscribes and
decodes every message (protobuf through the schema the server advertised, JSON)."""
from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import time

import numpy as np
import pytest

from attune.behavior.fusion import ExpressionObservation
from attune.face.types import FaceFrame, FaceObservation, TrackedFace
from attune.geometry import BoundingBox
from attune.view import layout, live, payloads

W, H = 64, 48


def face_frame(stamp_ns: int = 1_500_000_000) -> FaceFrame:
    rng = np.random.default_rng(0)
    landmarks = rng.uniform(0.3, 0.6, (478, 3)).astype(np.float32)
    faces = (TrackedFace('f1', FaceObservation(BoundingBox(0.25, 0.25, 0.5, 0.75), 0.9, landmarks), 10, 0.3),
             TrackedFace('f2', FaceObservation(BoundingBox(0.6, 0.1, 0.9, 0.4), 0.8), 5, 0.1))
    return FaceFrame(stamp_ns=stamp_ns, width=W, height=H, faces=faces)


def test_face_annotations_in_image_pixels() -> None:
    encoded = payloads.face_annotations(face_frame(), {'f1': 'happy 0.80'}).encode()
    decoded = _protobuf_class('foxglove.ImageAnnotations', payloads.ImageAnnotations.get_schema().data)
    msg = decoded.FromString(encoded)
    boxes = [p for p in msg.points if p.type == 2]  # LINE_LOOP
    assert [(q.x, q.y) for q in boxes[0].points] == [(16, 12), (32, 12), (32, 36), (16, 36)]
    assert len(boxes) == 2 and len(msg.points) == 3  # f2 has no landmarks
    assert len(msg.points[1].points) == 478 and msg.points[1].points[0].x == pytest.approx(
        face_frame().faces[0].observation.landmarks[0, 0] * W, abs=1e-4)
    assert [t.text for t in msg.texts] == ['f1 happy 0.80', 'f2']
    assert (boxes[0].timestamp.seconds, boxes[0].timestamp.nanos) == (1, 500_000_000)


def test_payloads_refuse_bad_images_and_keep_json_strict() -> None:
    with pytest.raises(ValueError, match="encoding 'weird'"):
        payloads.raw_image(stamp_ns=1, frame_id='', width=2, height=2, encoding='weird', step=6, data=bytes(12))
    with pytest.raises(ValueError, match='does not hold 2 rows'):
        payloads.raw_image(stamp_ns=1, frame_id='', width=2, height=2, encoding='rgb8', step=6, data=bytes(7))
    expression = ExpressionObservation('f1', 'ensemble', 'happy', 0.8, ('neutral', 'happy'), (0.2, 0.8), math.nan, 0.3)
    data = payloads.expression_payload(expression, {'AU12': 0.7, 'AU4': math.nan}, 2_000_000_001)
    assert data['valence'] is None and data['action_units'] == {'AU12': 0.7, 'AU4': None}
    assert data['probabilities'] == {'neutral': 0.2, 'happy': 0.8} and data['timestamp'] == {'sec': 2, 'nsec': 1}
    json.dumps(data, allow_nan=False)


def test_shipped_layout_is_current_and_uses_the_views_topics() -> None:
    assert layout.main(['--check']) == 0, 'regenerate with python -m attune.view.layout'
    topics = {live.CAMERA_TOPIC, live.ANNOTATIONS_TOPIC, *live.JSON_CHANNELS}
    text = layout.layout_json()
    paths = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.startswith('/'):
                    paths.add(key)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.startswith('/'):
            paths.add(node)

    walk(json.loads(text))
    used = {p.split('{')[0].split('.')[0] for p in paths}
    assert used and used <= topics, used - topics
    assert {live.CAMERA_TOPIC, live.ANNOTATIONS_TOPIC, live.STATE_TOPIC, live.COMMAND_TOPIC} <= used


def test_live_view_relays_compressed_frames_at_most_max_image_hz() -> None:
    """LiveView alone (no ROS): the camera as the camera compressed it, throttled, only while watched."""
    websockets = pytest.importorskip('websockets')
    from attune.imaging import encode_compressed

    jpeg = encode_compressed(np.full((H, W, 3), 128, np.uint8), 'jpeg')
    now = [100.0]
    with live.LiveView('127.0.0.1', 0, camera='compressed', max_image_hz=10, clock=lambda: now[0]) as view:
        assert not view.compressed_image(stamp_ns=1, frame_id='cam', data=jpeg, format='jpeg')  # nobody watches

        async def client() -> tuple[dict, list[bytes]]:
            async with websockets.connect(f'ws://127.0.0.1:{view.port}', proxy=None,
                                          subprotocols=['foxglove.sdk.v1', 'foxglove.websocket.v1']) as ws:
                channel = None
                while channel is None:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    channel = next((c for c in message.get('channels', []) if c['topic'] == live.CAMERA_TOPIC), None)
                await ws.send(json.dumps({'op': 'subscribe', 'subscriptions': [{'id': 7, 'channelId': channel['id']}]}))
                deadline = time.monotonic() + 10
                while not view.listening(live.CAMERA_TOPIC) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)  # the server registers the subscription on its own thread
                sent = [view.compressed_image(stamp_ns=2_000_000_000, frame_id='cam', data=jpeg, format='jpeg'),
                        view.compressed_image(stamp_ns=2_050_000_000, frame_id='cam', data=jpeg, format='jpeg')]
                now[0] += 0.1
                sent.append(view.compressed_image(stamp_ns=2_100_000_000, frame_id='cam', data=jpeg, format='JPEG'))
                assert sent == [True, False, True]  # 10 Hz: the frame 50 ms later is dropped
                frames = [await asyncio.wait_for(ws.recv(), 5) for _ in range(2)]
                return channel, frames

        channel, frames = asyncio.run(client())
    assert channel['schemaName'] == 'foxglove.CompressedImage' and view.dropped == {'camera': 1}
    images = [_decode(channel, frame[13:]) for frame in frames]
    assert [struct.unpack('<I', frame[1:5])[0] for frame in frames] == [7, 7]
    assert [(i.format, i.data, i.timestamp.seconds, i.timestamp.nanos) for i in images] == [
        ('jpeg', jpeg, 2, 0), ('jpeg', jpeg, 2, 100_000_000)]


def _protobuf_class(name: str, schema: bytes):
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    files = descriptor_pb2.FileDescriptorSet.FromString(schema)
    pool = descriptor_pool.DescriptorPool()
    for f in files.file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


# --- the whole relay through rclpy and the WebSocket ----------------------------------------------
EXPECTED = {  # topic -> (schema name, encoding)
    live.CAMERA_TOPIC: ('foxglove.RawImage', 'protobuf'),
    live.ANNOTATIONS_TOPIC: ('foxglove.ImageAnnotations', 'protobuf'),
    live.EXPRESSION_TOPIC: ('attune.view.Expression', 'json'),
    live.AFFECT_TOPIC: ('attune.view.AffectState', 'json'),
    live.STATE_TOPIC: ('attune.view.InteractionState', 'json'),
    live.COMMAND_TOPIC: ('attune.view.BehaviorCommand', 'json'),
    live.SIGN_TOPIC: ('attune.view.Sign', 'json'),
    live.DIAGNOSTICS_TOPIC: ('attune.view.Diagnostics', 'json'),
    live.RATING_TOPIC: ('attune.view.SessionRating', 'json'),
}
CAMERA = '/test_view/camera/image_raw'


class Publishers:
    """One real rclpy publisher per topic the view relays, and a message for each."""

    def __init__(self, node) -> None:
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
        from sensor_msgs.msg import Image
        from std_msgs.msg import Header

        import attune.msg as m
        from attune.behavior.commands import Action, Command
        from attune.behavior.outcome import ProtocolResult
        from attune.ros import msg_behavior_command, msg_faces, msg_interaction_event, qos
        from attune.ros.stamps import from_ns

        stamp = 1_500_000_000
        header = Header(stamp=from_ns(stamp, type(Header().stamp)), frame_id='camera')
        self.pixels = np.arange(W * H * 3, dtype=np.uint8).reshape(H, W, 3)
        image = Image(header=header, width=W, height=H, encoding='rgb8', step=W * 3, data=self.pixels.tobytes())
        expression = m.Expression(header=header, face_id='f1', source='ensemble', label='happy', confidence=0.8,
                                  labels=['neutral', 'happy'], probabilities=[0.2, 0.8], valence=0.4, arousal=0.2,
                                  action_units=['AU6', 'AU12'], au_intensities=[0.5, 0.7])
        affect = m.AffectState(header=header, face_id='f1', source='asd_emotion', emotions=['happy'],
                               probabilities=[1.0], dominant_emotion='happy', valence=0.5, arousal=0.1,
                               engagement=math.nan)
        state = m.InteractionState(header=header, person_id='f1', present=True, attention=0.9, engagement=0.7,
                                   valence=0.3, arousal=0.1, distress=0.05, summary='engaged, smiling')
        command = msg_behavior_command.to_msg(Command(Action.SAY, text='Hello!', rule='greet', reason='a new face',
                                                      stamp_ns=stamp))
        sign = msg_interaction_event.forward_sign(
            m.Sign(header=header, gloss='hello', confidence=0.9, face_id='f1', source='tcn'), 'f1')
        protocol = msg_interaction_event.to_msg(ProtocolResult('f1', 'name_call', 'responded', latency_s=1.25,
                                                               head_turn_deg=30.0, emotion='happy', valence=0.5,
                                                               stamp_ns=stamp), header)
        rating = m.SessionRating(header=header, engagement=6, comfort=0, note='settling in', rater='AB')
        diagnostics = DiagnosticArray(header=header, status=[DiagnosticStatus(
            level=DiagnosticStatus.WARN, name='face_node', message='no input for 5 s',
            values=[KeyValue(key='frames', value='12')])])
        self.bad_image = Image(header=header, width=W, height=H, encoding='weird', step=W * 3,
                               data=self.pixels.tobytes())
        faces = msg_faces.to_msg(face_frame(stamp), header)
        pairs = [(CAMERA, image, qos.SENSOR), ('/attune/faces', faces, qos.RESULTS),
                 ('/attune/expression', expression, qos.RESULTS), ('/attune/affect', affect, qos.RESULTS),
                 ('/attune/interaction_state', state, qos.RESULTS), ('/attune/behavior/command', command, qos.RESULTS),
                 ('/attune/interaction/events', sign, qos.RESULTS),
                 ('/attune/interaction/events', protocol, qos.RESULTS), ('/attune/session/rating', rating, qos.RESULTS),
                 ('/diagnostics', diagnostics, qos.RESULTS)]
        self.pubs = [(node.create_publisher(type(msg), topic, profile), msg) for topic, msg, profile in pairs]

    def publish_all(self) -> None:
        for pub, msg in self.pubs:
            pub.publish(msg)


@pytest.mark.ros
def test_view_relays_ros_topics_to_a_foxglove_client(spinner) -> None:
    websockets = pytest.importorskip('websockets')
    import rclpy

    from attune.ros.view_relay import ViewRelay

    view = live.LiveView('127.0.0.1', 0, max_image_hz=0)
    try:
        relay = spinner.add(ViewRelay(view, CAMERA))
        pubs = Publishers(spinner.add(rclpy.create_node('view_probe')))
        received, channels, subprotocol, history = asyncio.run(_client(websockets, view.port, pubs, relay))
    finally:
        view.close()
    assert subprotocol in ('foxglove.sdk.v1', 'foxglove.websocket.v1')
    by_topic = {c['topic']: c for c in channels}
    assert {t: (by_topic[t]['schemaName'], by_topic[t]['encoding']) for t in EXPECTED} == EXPECTED
    assert json.loads(by_topic[live.STATE_TOPIC]['schema'])['properties']['engagement'] == {'type': ['number', 'null']}

    image = _decode(by_topic[live.CAMERA_TOPIC], received[live.CAMERA_TOPIC])
    assert (image.width, image.height, image.encoding, image.step) == (W, H, 'rgb8', W * 3)
    assert image.data == pubs.pixels.tobytes() and image.frame_id == 'camera'
    annotations = _decode(by_topic[live.ANNOTATIONS_TOPIC], received[live.ANNOTATIONS_TOPIC])
    assert [(q.x, q.y) for q in annotations.points[0].points] == [(16, 12), (32, 12), (32, 36), (16, 36)]
    assert len(annotations.points[1].points) == 478 and annotations.texts[0].text == 'f1 happy 0.80'

    expression = json.loads(received[live.EXPRESSION_TOPIC])
    assert expression['valence'] == pytest.approx(0.4) and expression['probabilities']['happy'] == pytest.approx(0.8)
    assert expression['action_units']['AU12'] == pytest.approx(0.7) and expression['face_id'] == 'f1'
    affects = [json.loads(data) for data in history[live.AFFECT_TOPIC]]
    (affect,) = {a['source']: a for a in affects if a['protocol'] is None}.values()  # the AffectState
    assert affect['engagement'] is None and affect['source'] == 'asd_emotion' and affect['dominant_emotion'] == 'happy'
    result = next(a['protocol'] for a in affects if a['protocol'] is not None)  # the InteractionEvent
    assert result['status'] == 'responded' and result['latency_s'] == pytest.approx(1.25)
    state = json.loads(received[live.STATE_TOPIC])
    assert state['engagement'] == pytest.approx(0.7) and state['summary'] == 'engaged, smiling'
    command = json.loads(received[live.COMMAND_TOPIC])
    assert (command['action'], command['rule'], command['reason'], command['text']) == (
        'SAY', 'greet', 'a new face', 'Hello!')
    assert json.loads(received[live.SIGN_TOPIC])['gloss'] == 'hello'
    rating = json.loads(received[live.RATING_TOPIC])
    assert (rating['engagement'], rating['comfort'], rating['note']) == (6, None, 'settling in')
    status = json.loads(received[live.DIAGNOSTICS_TOPIC])['status'][0]
    assert (status['name'], status['level_name'], status['values']) == ('face_node', 'WARN', {'frames': '12'})
    assert relay.dropped >= 1  # the image with an unknown encoding: dropped, counted, the relay went on


async def _client(websockets, port: int, pubs: Publishers, relay
                  ) -> tuple[dict[str, bytes], list, str, dict[str, list[bytes]]]:
    async with websockets.connect(f'ws://127.0.0.1:{port}', subprotocols=['foxglove.sdk.v1', 'foxglove.websocket.v1'],
                                  max_size=None, proxy=None) as ws:
        channels: list[dict] = []
        deadline = time.monotonic() + 10
        while {c['topic'] for c in channels} < set(EXPECTED) and time.monotonic() < deadline:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if message['op'] == 'advertise':
                channels += message['channels']
        await ws.send(json.dumps({'op': 'subscribe', 'subscriptions': [
            {'id': i, 'channelId': c['id']} for i, c in enumerate(channels)]}))
        topic_of = {i: c['topic'] for i, c in enumerate(channels)}
        received: dict[str, bytes] = {}
        history: dict[str, list[bytes]] = {}

        def done() -> bool:
            if set(received) < set(EXPECTED) or not relay.dropped:
                return False
            kinds = {json.loads(d)['protocol'] is None for d in history.get(live.AFFECT_TOPIC, [])}
            if kinds != {True, False}:  # both the AffectState and the name-call result
                return False
            return b'f1 happy 0.80' in received[live.ANNOTATIONS_TOPIC]  # the label came from the expression

        deadline = time.monotonic() + 30
        while not done() and time.monotonic() < deadline:
            pubs.publish_all()  # again until everything arrived: DDS discovery and the subscription take a moment
            if live.CAMERA_TOPIC in received and not relay.dropped:
                pubs.pubs[0][0].publish(pubs.bad_image)
            try:
                while True:
                    data = await asyncio.wait_for(ws.recv(), 0.1)
                    if isinstance(data, bytes) and data[0] == 1:  # MessageData
                        subscription, _log_time = struct.unpack('<IQ', data[1:13])
                        received[topic_of[subscription]] = data[13:]
                        history.setdefault(topic_of[subscription], []).append(data[13:])
            except TimeoutError:
                pass
        assert done(), f'missing: {sorted(set(EXPECTED) - set(received))}, dropped {relay.dropped}'
        return received, channels, ws.subprotocol, history


def _decode(channel: dict, data: bytes):
    return _protobuf_class(channel['schemaName'], base64.b64decode(channel['schema'])).FromString(data)
