"""identity_node: attune/Faces + camera images in, attune/PersonMatches (who each face is) out.

A thin lifecycle node over attune.identity. It loads the people database (encrypted protected
templates, see docs/identity.md), embeds each new face track at once and then every `refresh_s`
seconds, at most `max_embeddings_per_frame` faces per frame, so its cost per frame is bounded; it runs
in its own process and never delays the face node. Faces and images are matched by exact header stamp
(attune.ros.faces_join). A person who leaves and comes back under a new track gets the same person id.
Changes to the database (`attune people enroll/forget`) are picked up within `reload_period_s`.
Templates are never published or logged.

Subscribes:  <faces_topic>   attune/Faces (reliable)
             <image_topic>   sensor_msgs/Image or CompressedImage (image_transport)
Publishes:   /attune/person_matches  attune/PersonMatches per processed image with identified faces
             /diagnostics            diagnostic_msgs/DiagnosticArray, once per second
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.errors import AttuneError
from attune.identity.embedder import FaceEmbedder
from attune.identity.face_people import FaceMatch
from attune.identity.keys import default_database_path, load_key
from attune.identity.matcher import Identifier, shipped_threshold
from attune.identity.store import PeopleDatabase
from attune.identity.tracks import TrackIdentities
from attune.ros import msg_person_matches, qos
from attune.ros.faces_join import FacesJoinNode, JoinedFaces, faces_join_parameters
from attune.ros.image_input import image_input_parameters
from attune.ros.node_main import run_node
from attune.ros.params import ParamSpec
from attune.ros.shell import Diagnostics
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from sensor_msgs.msg import CompressedImage, Image
    from std_msgs.msg import Header

    from attune.msg import Faces

NODE_NAME = 'identity_node'

PARAMETERS: tuple[ParamSpec, ...] = (
    *faces_join_parameters(),
    *image_input_parameters(topic_help='Camera image topic the Faces were computed from.', queue_depth=2),
    ParamSpec('database', '', "People database; '' = $ATTUNE_PEOPLE_DB or ~/.local/share/attune/people.db."),
    ParamSpec('key_file', '', "Database key file (mode 0600); '' = $ATTUNE_PEOPLE_KEY, else "
              '~/.config/attune/people.key.'),
    ParamSpec('threshold', 0.0, 'Similarity a face needs to be a known person; 0 = the shipped operating '
              'point (chosen on ../shared/data).', min=0.0, max=1.0),
    ParamSpec('refresh_s', 2.0, 'Seconds between embeddings of a track already identified once.', min=0.1,
              max=3600.0, dynamic=True),
    ParamSpec('max_embeddings_per_frame', 1, 'Most faces embedded per image (~100 ms each on one core).',
              min=1, max=20, dynamic=True),
    ParamSpec('history', 5, 'Embeddings of a track whose mean scores decide who it is.', min=1, max=100),
    ParamSpec('max_abs_yaw_deg', 45.0, 'Faces turned further (yaw or pitch) are not embedded.', min=0.0,
              max=90.0, dynamic=True),
    ParamSpec('reload_period_s', 5.0, 'How often to check the database file for enrolments and erasures.',
              min=0.5, max=3600.0),
    ParamSpec('autostart', True, 'Configure and activate at start-up without a lifecycle manager.'),
)


@dataclass(frozen=True)
class _Database:
    """The people database this node identifies against, and the key that opens it (set at configure)."""

    path: Path
    key: bytes


class IdentityNode(FacesJoinNode):
    """See the module docstring."""

    DIAGNOSTICS = Diagnostics('identity', working='identifying', idle='no faces in the last {s:g} s')
    COUNTERS = ('frames_processed', 'embeddings', 'embedding_failures', 'faces_skipped_pose', 'database_reloads')

    def __init__(self, **kwargs: Any) -> None:
        self._embedder: FaceEmbedder | None = None
        self._tracks: TrackIdentities | None = None
        self._database: _Database | None = None
        self._db_signature: tuple[int, int, int] | None = None
        self._people = 0
        super().__init__(NODE_NAME, PARAMETERS, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------------
    def configure(self) -> None:
        p = self.params
        database = _Database(Path(p['database']).expanduser() if p['database'] else default_database_path(),
                             load_key(p['key_file'] or None))
        self._load_database(database)
        self._database = database
        self._embedder = FaceEmbedder()
        self._pub = self.add_publisher(self._msgs.PersonMatches, '/attune/person_matches', qos.RESULTS)
        self.add_timer(p['reload_period_s'], self._reload_if_changed)

    def activate(self) -> None:
        self.subscribe_faces()
        self.subscribe_images()
        self.get_logger().info(f'identifying faces of {self.params["faces_topic"]} against {self._people} '
                               f'enrolled people in {self._database.path if self._database else "?"}')

    def release(self) -> None:
        self._embedder = self._tracks = self._database = None

    def parameters_changed(self, names: set[str]) -> None:
        super().parameters_changed(names)
        if self._tracks is not None:
            self._tracks.refresh_s = self.params['refresh_s']
            self._tracks.max_per_frame = self.params['max_embeddings_per_frame']

    def diagnostic_values(self) -> dict[str, Any]:
        values = {'enrolled_people': self._people, 'tracks': len(self._tracks) if self._tracks is not None else 0}
        values.update(super().diagnostic_values())
        return values

    # --- database --------------------------------------------------------------------------------
    def _load_database(self, source: _Database) -> None:
        p = self.params
        signature = _file_signature(source.path)
        database = PeopleDatabase.open(source.path, source.key)
        threshold = p['threshold'] or shipped_threshold(database)
        self._tracks = TrackIdentities(Identifier(database, threshold), refresh_s=p['refresh_s'],
                                       max_per_frame=p['max_embeddings_per_frame'], history=p['history'])
        self._db_signature = signature
        self._people = len(database.people)

    def _reload_if_changed(self) -> None:
        source = self._database
        if source is None or _file_signature(source.path) == self._db_signature:
            return
        try:
            self._load_database(source)
        except AttuneError as exc:
            self.bad_input.report('database', f'kept the loaded people: {exc}')
            return
        self.count('database_reloads')
        self.get_logger().info(f'people database changed: {self._people} enrolled people')

    # --- callbacks -------------------------------------------------------------------------------
    def on_faces(self, msg: Faces) -> None:
        if self._sync is None:
            return
        frame = self.decode_faces(msg)
        if frame is None:
            return
        item = JoinedFaces(msg, frame)
        image = self.join_faces(to_ns(msg.header.stamp), item)
        if image is not None and msg.faces:  # an empty Faces only frees its waiting image
            self.process_joined(item, image)

    def process_joined(self, faces: JoinedFaces, image_msg: Image | CompressedImage) -> None:
        faces_msg, frame = faces.msg, faces.frame
        tracks, embedder = self._tracks, self._embedder
        if tracks is None or embedder is None or not faces_msg.faces:
            return
        stamp = to_ns(faces_msg.header.stamp)
        now_s = stamp * 1e-9
        limit = self.params['max_abs_yaw_deg']
        usable = {f.id: f.observation.landmarks for f in frame.faces if f.observation.landmarks is not None
                  and (f.head_pose is None or (abs(f.head_pose.yaw) <= limit and abs(f.head_pose.pitch) <= limit))}
        self.count('faces_skipped_pose', len(frame.faces) - len(usable))
        due = tracks.due(list(usable), now_s)
        if due:
            rgb = self.decode(image_msg, stamp, size=(faces_msg.image_width, faces_msg.image_height))
            if rgb is None:
                return
            for track_id in due:
                start = time.perf_counter()
                try:
                    embedding = embedder.embed_mesh(rgb, usable[track_id])
                except ValueError as exc:
                    tracks.mark_failed(track_id, now_s)
                    self.count('embedding_failures')
                    self.bad_input.report('embedding', f'face {track_id} not identified: {exc}')
                    continue
                tracks.update(track_id, embedding, now_s)
                del embedding  # never kept, published or logged
                self.processed(start, 'embeddings')
        self._publish(faces_msg.header, [f.id for f in frame.faces], tracks)
        self.count('frames_processed')
        self.last_input = time.monotonic()

    def _publish(self, header: Header, face_ids: list[str], tracks: TrackIdentities) -> None:
        matches = []
        for face_id in face_ids:
            identity = tracks.identity(face_id)
            if identity is None:
                continue
            matches.append(FaceMatch(face_id=face_id, person_id=identity.person_id, name=identity.name,
                                     known=identity.known, confidence=float(identity.score),
                                     threshold=float(tracks.identifier.threshold),
                                     embeddings=tracks.embeddings(face_id)))
        if matches:
            self._pub.publish(msg_person_matches.to_msg(matches, header))


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
