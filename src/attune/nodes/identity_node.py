"""identity_node: attune/Faces + camera images in, attune/PersonMatches (who each face is) out.

A thin lifecycle node over attune.identity. It loads the people database (encrypted protected
templates, see docs/identity.md), embeds each new face track at once and then every `refresh_s`
seconds, at most `max_embeddings_per_frame` faces per frame, so its cost per frame is bounded; it runs
in its own process and never delays the face node. Faces and images are matched by exact header stamp
(attune.expression.sync). A person who leaves and comes back under a new track gets the same person id.
Changes to the database (`attune people enroll/forget`) are picked up within `reload_period_s`.
Templates are never published or logged.

Subscribes:  <faces_topic>   attune/Faces (reliable)
             <image_topic>   sensor_msgs/Image or CompressedImage (image_transport)
Publishes:   /attune/person_matches  attune/PersonMatches per processed image with identified faces
             /diagnostics            diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CompressedImage, Image

from attune.errors import AttuneError, ImageError
from attune.expression.sync import ExactStampSynchronizer
from attune.identity.embedder import FaceEmbedder
from attune.identity.keys import default_database_path, load_key
from attune.identity.matcher import Identifier, operating_point
from attune.identity.store import PeopleDatabase
from attune.identity.tracks import TrackIdentities
from attune.imaging import DEFAULT_MAX_PIXELS, rgb8_from_compressed, rgb8_from_image
from attune.ros import qos
from attune.ros.diagnostics import node_status
from attune.ros.face_msgs import faces_from_msg
from attune.ros.interfaces import attune_msgs
from attune.ros.lifecycle import AutostartLifecycleNode
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.stamps import to_ns
from attune.ros.throttle import ThrottledReporter

NODE_NAME = 'identity_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('faces_topic', '/attune/faces', "attune/Faces topic (the face node's output)."),
    ParamSpec('image_topic', '/camera/image_raw', 'Camera image topic the Faces were computed from.'),
    ParamSpec('image_transport', 'raw', 'raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage.',
              choices=('raw', 'compressed')),
    ParamSpec('reliable_input', False, 'Subscribe to images reliably instead of with sensor QoS (bag processing).'),
    ParamSpec('input_queue_depth', 2, 'Images kept by the subscription while the node is busy.', min=1, max=100),
    ParamSpec('sync_queue_size', 30, 'Unmatched images (or Faces) kept while waiting for their partner.',
              min=1, max=1000),
    ParamSpec('database', '', "People database; '' = $ATTUNE_PEOPLE_DB or ~/.local/share/attune/people.db."),
    ParamSpec('key_file', '', "Database key file (mode 0600); '' = $ATTUNE_PEOPLE_KEY, else "
              '~/.config/attune/people.key.'),
    ParamSpec('threshold', 0.0, 'Similarity a face needs to be a known person; 0 = the shipped operating '
              'point (chosen on ../shared/data).', min=0.0, max=1.0),
    ParamSpec('refresh_s', 2.0, 'Seconds between embeddings of a track already identified once.', min=0.1,
              max=3600.0, dynamic=True),
    ParamSpec('max_embeddings_per_frame', 1, 'Most faces embedded per image (~100 ms each on one core).',
              min=1, max=20, dynamic=True),
    ParamSpec('history', 5, "Embeddings of a track whose mean scores decide who it is.", min=1, max=100),
    ParamSpec('max_abs_yaw_deg', 45.0, 'Faces turned further (yaw or pitch) are not embedded.', min=0.0,
              max=90.0, dynamic=True),
    ParamSpec('reload_period_s', 5.0, 'How often to check the database file for enrolments and erasures.',
              min=0.5, max=3600.0),
    ParamSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'Larger images are rejected.', min=1, max=2**31 - 1),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


class IdentityNode(AutostartLifecycleNode):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        self._msgs = attune_msgs()
        self._embedder: FaceEmbedder | None = None
        self._tracks: TrackIdentities | None = None
        self._sync: ExactStampSynchronizer | None = None
        self._db_path: Path | None = None
        self._db_signature: tuple[int, int, int] | None = None
        self._people = 0
        self._subs: list[Any] = []
        self._pub = self._diag_pub = self._diag_timer = self._reload_timer = None
        self._embed_ms: deque[float] = deque(maxlen=300)
        self._frames = self._embeddings = self._failed = self._skipped_pose = self._reloads = 0
        self._last_frame_time: float | None = None
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)
        self._bad_input = ThrottledReporter(self.get_logger().error)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        p = self.params
        self._db_path = Path(p['database']).expanduser() if p['database'] else default_database_path()
        self._key = load_key(p['key_file'] or None)
        self._load_database()
        self._embedder = FaceEmbedder()
        self._sync = ExactStampSynchronizer(queue_size=p['sync_queue_size'])
        self._pub = self.create_lifecycle_publisher(self._msgs.PersonMatches, '/attune/person_matches', qos.RESULTS)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', qos.RESULTS)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)
        self._reload_timer = self.create_timer(p['reload_period_s'], self._reload_if_changed)

    def activate(self) -> None:
        p = self.params
        self._subs.append(self.create_subscription(self._msgs.Faces, p['faces_topic'], self._on_faces, qos.RESULTS))
        image_qos = qos.image_input(p['reliable_input'], p['input_queue_depth'])
        if p['image_transport'] == 'compressed':
            self._subs.append(self.create_subscription(CompressedImage, p['image_topic'], self._on_compressed,
                                                       image_qos))
        else:
            self._subs.append(self.create_subscription(Image, p['image_topic'], self._on_image, image_qos))
        self.get_logger().info(f'identifying faces of {p["faces_topic"]} against {self._people} enrolled '
                               f'people in {self._db_path}')

    def deactivate(self) -> None:
        for sub in self._subs:
            self.destroy_subscription(sub)
        self._subs = []
        if self._sync is not None:
            self._sync.clear()

    def release(self) -> None:
        self._embedder = self._tracks = None
        self._key = None
        for timer in (self._diag_timer, self._reload_timer):
            if timer is not None:
                self.destroy_timer(timer)
        self._diag_timer = self._reload_timer = None
        if self._pub is not None:
            self.destroy_lifecycle_publisher(self._pub)
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
        self._pub = self._diag_pub = None

    def parameters_changed(self, names: set[str]) -> None:
        if self._tracks is not None:
            self._tracks.refresh_s = self.params['refresh_s']
            self._tracks.max_per_frame = self.params['max_embeddings_per_frame']

    # --- database --------------------------------------------------------------------------------
    def _load_database(self) -> None:
        p = self.params
        signature = _file_signature(self._db_path)
        database = PeopleDatabase.open(self._db_path, self._key)
        threshold = p['threshold'] or float(operating_point()['threshold'])
        self._tracks = TrackIdentities(Identifier(database, threshold), refresh_s=p['refresh_s'],
                                       max_per_frame=p['max_embeddings_per_frame'], history=p['history'])
        self._db_signature = signature
        self._people = len(database.people)

    def _reload_if_changed(self) -> None:
        if _file_signature(self._db_path) == self._db_signature:
            return
        try:
            self._load_database()
        except AttuneError as exc:
            self._bad_input.report('database', f'kept the loaded people: {exc}')
            return
        self._reloads += 1
        self.get_logger().info(f'people database changed: {self._people} enrolled people')

    # --- callbacks -------------------------------------------------------------------------------
    def _on_image(self, msg: Image) -> None:
        self._add_image(msg, rgb8_from_image)

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._add_image(msg, rgb8_from_compressed)

    def _add_image(self, msg: Any, decode: Any) -> None:
        if self._sync is None:
            return
        match = self._sync.add_first(to_ns(msg.header.stamp), (msg, decode))
        if match is not None:
            self._process(match[1], *match[0])

    def _on_faces(self, msg: Any) -> None:
        if self._sync is None:
            return
        match = self._sync.add_second(to_ns(msg.header.stamp), msg)
        if match is not None and msg.faces:
            self._process(msg, *match[0])

    def _process(self, faces_msg: Any, image_msg: Any, decode: Any) -> None:
        tracks, embedder = self._tracks, self._embedder
        if tracks is None or embedder is None:
            return
        stamp = to_ns(faces_msg.header.stamp)
        try:
            frame = faces_from_msg(faces_msg)
        except ValueError as exc:
            self._bad_input.report('faces', f'dropped Faces (stamp {stamp} ns): {exc}')
            return
        now_s = stamp * 1e-9
        limit = self.params['max_abs_yaw_deg']
        usable = {f.id: f for f in frame.faces if f.observation.landmarks is not None
                  and (f.head_pose is None or (abs(f.head_pose.yaw) <= limit and abs(f.head_pose.pitch) <= limit))}
        self._skipped_pose += len(frame.faces) - len(usable)
        due = tracks.due(list(usable), now_s)
        if due:
            try:
                rgb = decode(image_msg, max_pixels=self.params['max_image_pixels'])
            except ImageError as exc:
                self._bad_input.report(type(exc).__name__, f'dropped image (stamp {stamp} ns): {exc}')
                return
            for track_id in due:
                start = time.perf_counter()
                try:
                    embedding = embedder.embed_mesh(rgb, usable[track_id].observation.landmarks)
                except ValueError as exc:
                    tracks.mark_failed(track_id, now_s)
                    self._failed += 1
                    self._bad_input.report('embedding', f'face {track_id} not identified: {exc}')
                    continue
                tracks.update(track_id, embedding, now_s)
                del embedding  # never kept, published or logged
                self._embed_ms.append((time.perf_counter() - start) * 1e3)
                self._embeddings += 1
        self._publish(faces_msg.header, [f.id for f in frame.faces], tracks)
        self._frames += 1
        self._last_frame_time = time.monotonic()

    def _publish(self, header: Any, face_ids: list[str], tracks: TrackIdentities) -> None:
        out = self._msgs.PersonMatches(header=header)
        for face_id in face_ids:
            identity = tracks.identity(face_id)
            if identity is None:
                continue
            out.matches.append(self._msgs.PersonMatch(
                face_id=face_id, person_id=identity.person_id, name=identity.name, known=identity.known,
                confidence=float(identity.score), threshold=float(tracks.identifier.threshold),
                embeddings=tracks.embeddings(face_id)))
        if out.matches:
            self._pub.publish(out)

    def _publish_diagnostics(self) -> None:
        values: dict[str, Any] = {
            'enrolled_people': self._people, 'frames_processed': self._frames, 'embeddings': self._embeddings,
            'embedding_failures': self._failed, 'faces_skipped_pose': self._skipped_pose,
            'database_reloads': self._reloads, 'tracks': len(self._tracks) if self._tracks is not None else 0}
        if self._sync is not None:
            values.update({f'sync_{k}': v for k, v in self._sync.counts.as_dict().items()})
        self._diag_pub.publish(node_status(
            self, 'identity', working='identifying', idle='no faces in the last 5 s',
            last_input=self._last_frame_time, processing_ms=self._embed_ms, bad_input=self._bad_input,
            values=values))


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when the database is rewritten (it is replaced by a new file on every save)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


#: The node class, for composition in one process (`attune up --mode composed`).
NODE_CLASS = IdentityNode


def main(args: list[str] | None = None) -> int:
    return run_node(IdentityNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
