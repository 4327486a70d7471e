"""`attune people`: enrol, list and forget the people the robot knows (attune.identity).

    attune people enroll NAME --consent "TEXT" (--images F [F ...] [--strict] [--retouch-model F.onnx]
                         | --camera N | --bag BAG)
                         [--allow-untrusted]
    attune people list
    attune people forget NAME
    attune people new-key | rotate-key --new-key-file FILE

The database (default ~/.local/share/attune/people.db, or $ATTUNE_PEOPLE_DB) holds protected
templates, encrypted; the key comes from --key-file, $ATTUNE_PEOPLE_KEY or ~/.config/attune/people.key
(mode 0600). See docs/identity.md.

--camera and --bag run the stream guard (attune.integrity.enrolment) over the frames first and refuse
a stream that does not look like a live camera (a replay, a loop, a virtual camera, a still image);
--allow-untrusted enrols anyway and records the override in the consent note (docs/integrity.md).
--images photos are screened for retouching (attune.integrity.photo_screening): a likely retouched
photo is enrolled with a warning, or refused with --strict. --retouch-model screens with a retouch CNN
made by `attune train retouch-cnn` instead of the shipped feature model (see its model card).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from attune.errors import AttuneError
from attune.identity.keys import (
    KEY_ENV,
    create_key_file,
    default_database_path,
    default_key_path,
    load_key,
    read_key_file,
)

ENROL_FRAMES = 5
#: Most bag frames the stream guard reads (the first ones: 30 s at 30 fps).
GUARD_BAG_FRAMES = 900
#: Consecutive camera frames the stream guard reads before enrolling (3 s at 30 fps).
GUARD_CAMERA_FRAMES = 90


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('people', help='enrol, list and forget known people (face identification)',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='people_command', metavar='ACTION', required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument('--db', type=Path, default=None, help='people database (default '
                       '$ATTUNE_PEOPLE_DB or ~/.local/share/attune/people.db)')
        q.add_argument('--key-file', type=Path, default=None, help=f'key file (mode 0600); default ${KEY_ENV}, '
                       'else ~/.config/attune/people.key')

    e = sub.add_parser('enroll', help="enrol a person's face (with their recorded consent)")
    e.add_argument('name')
    e.add_argument('--consent', required=True,
                   help='consent note stored with the enrolment: who consented, when, to what')
    source = e.add_mutually_exclusive_group(required=True)
    source.add_argument('--images', type=Path, nargs='+', help='photos showing only this person')
    source.add_argument('--camera', type=int, help='camera device index (OpenCV)')
    source.add_argument('--bag', type=Path, help='a bag with camera images of this person alone')
    e.add_argument('--topic', default='/camera/image_raw', help='image topic in --bag (default %(default)s)')
    e.add_argument('--strict', action='store_true',
                   help='refuse --images photos that look retouched (default: warn and enrol)')
    e.add_argument('--retouch-model', type=Path, default=None,
                   help='screen --images with this retouch CNN (`attune train retouch-cnn`) instead of the shipped '
                        'feature model')
    e.add_argument('--frames', type=int, default=ENROL_FRAMES, help='templates from --camera/--bag (default '
                   '%(default)s)')
    e.add_argument('--allow-untrusted', action='store_true', help='enrol from --camera/--bag even when the stream '
                   'guard judges the stream not a live camera (recorded in the consent note)')
    common(e)
    e.set_defaults(handler=enroll)

    ls = sub.add_parser('list', help='list enrolled people (never their templates)')
    common(ls)
    ls.set_defaults(handler=list_people)

    f = sub.add_parser('forget', help='erase a person and every template of theirs')
    f.add_argument('name')
    common(f)
    f.set_defaults(handler=forget)

    k = sub.add_parser('new-key', help='create a new random key file (mode 0600)')
    k.add_argument('--key-file', type=Path, default=None, help='where (default ~/.config/attune/people.key)')
    k.set_defaults(handler=new_key)

    r = sub.add_parser('rotate-key', help='re-encrypt the database under a new key file')
    r.add_argument('--new-key-file', type=Path, required=True, help='the new key (made with new-key)')
    common(r)
    r.set_defaults(handler=rotate_key)


def _open(ns: argparse.Namespace, *, create: bool = False):
    from attune.identity.store import PeopleDatabase

    path = ns.db or default_database_path()
    if create and not path.exists() and ns.key_file is None and not os.environ.get(KEY_ENV) \
            and not default_key_path().exists():
        create_key_file(default_key_path())
        print(f'created a new key in {default_key_path()} (mode 0600); keep a copy somewhere safe: '
              'without it the database cannot be read', file=sys.stderr)
    key = load_key(ns.key_file)
    return PeopleDatabase.open_or_create(path, key) if create else PeopleDatabase.open(path, key)


def enroll(ns: argparse.Namespace) -> int:
    from attune.identity.embedder import FaceEmbedder
    from attune.identity.matcher import shipped_threshold

    if ns.frames < 1:
        raise AttuneError('--frames must be at least 1')
    if ns.images:
        _screen_for_retouching(ns.images, strict=ns.strict, model=ns.retouch_model)
    db = _open(ns, create=True)
    shipped_threshold(db)  # templates of another kind (an earlier release's): re-enrol into a new database
    embedder = FaceEmbedder()
    consent = ns.consent
    if ns.images:
        embeddings, source = _from_images(embedder, ns.images), f'images ({len(ns.images)})'
    else:
        from attune.integrity.enrolment import require_live

        source = f'bag {ns.bag.name}' if ns.bag is not None else f'camera {ns.camera}'
        check = _bag_stream_check(ns.bag, ns.topic) if ns.bag is not None else _camera_stream_check(ns.camera)
        note = require_live(check, source, ns.allow_untrusted)  # UntrustedStreamError: refused
        print(note, file=sys.stderr)
        consent = f'{consent}\n{note}'
        if ns.bag is not None:
            embeddings = _from_bag(embedder, ns.bag, ns.topic, ns.frames)
        else:
            embeddings = _from_camera(embedder, ns.camera, ns.frames)
    person = db.enroll(ns.name, embeddings, consent, source)
    db.save()
    print(f'enrolled {person.name} ({person.person_id}): {len(embeddings)} new template(s), '
          f'{len(person.templates)} in all, in {db.path}')
    return 0


def list_people(ns: argparse.Namespace) -> int:
    db = _open(ns)
    if not db.people:
        print(f'nobody is enrolled in {db.path}')
    for p in db.people:
        consent = p.consent.splitlines()[0] if p.consent else ''
        print(f'{p.name}\t{p.person_id}\t{len(p.templates)} template(s)\tenrolled {p.enrolled_at}\t'
              f'from {p.source}\tconsent: {consent}')
    return 0


def forget(ns: argparse.Namespace) -> int:
    db = _open(ns)
    person = db.forget(ns.name)
    db.save()
    print(f'forgot {person.name} ({person.person_id}): {len(person.templates)} template(s) erased from {db.path}')
    return 0


def new_key(ns: argparse.Namespace) -> int:
    path = ns.key_file or default_key_path()
    create_key_file(path)
    print(f'new key in {path} (mode 0600)')
    return 0


def rotate_key(ns: argparse.Namespace) -> int:
    db = _open(ns)
    db.save(key=read_key_file(ns.new_key_file))
    print(f're-encrypted {db.path} under {ns.new_key_file}; the old key no longer opens it')
    return 0


def _screen_for_retouching(paths: list[Path], *, strict: bool, model: Path | None) -> None:
    from attune.integrity.photo_screening import screen_enrolment_photos

    screen_enrolment_photos(paths, strict=strict, model=model)


# --- sources ---------------------------------------------------------------------------------------
def _analyzer():
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    return FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=2))


def _from_images(embedder, paths: list[Path]) -> np.ndarray:
    from attune.identity.photos import largest_face_landmarks, read_rgb

    out = []
    with _analyzer() as analyzer:
        for path in paths:
            rgb = read_rgb(path)
            try:
                landmarks = largest_face_landmarks(analyzer, rgb, require_one=True)
            except AttuneError as exc:
                raise AttuneError(f'{path}: {exc}') from None
            if landmarks is None:
                raise AttuneError(f'{path}: no face found')
            out.append(embedder.embed_mesh(rgb, landmarks))
    return np.stack(out)


def _from_frames(embedder, frames, wanted: int) -> np.ndarray:
    """Embeddings of the single face in up to `wanted` of `frames` (frames with no face or several are
    skipped)."""
    from attune.identity.photos import largest_face_landmarks

    out = []
    with _analyzer() as analyzer:
        for rgb in frames:
            try:
                landmarks = largest_face_landmarks(analyzer, rgb, require_one=True)
            except AttuneError:
                continue
            if landmarks is not None:
                out.append(embedder.embed_mesh(rgb, landmarks))
            if len(out) >= wanted:
                break
    if not out:
        raise AttuneError('no frame showed exactly one face')
    return np.stack(out)


def _from_bag(embedder, bag: Path, topic: str, wanted: int) -> np.ndarray:
    from attune.bag.reader import bag_topics, read_messages
    from attune.imaging import rgb8_from_compressed, rgb8_from_image

    topics = bag_topics(bag)
    if topic not in topics:
        raise AttuneError(f'{bag} has no topic {topic}; it has {", ".join(topics)}')
    msgtype, count = topics[topic]
    decode = rgb8_from_compressed if msgtype.endswith('CompressedImage') else rgb8_from_image
    step = max(1, count // (wanted * 3))  # spread over the recording; three tries per template

    def frames():
        for i, m in enumerate(read_messages(bag, [topic])):
            if i % step == 0:
                yield decode(m.deserialize())
    return _from_frames(embedder, frames(), wanted)


def _bag_stream_check(bag: Path, topic: str):
    """The stream guard's verdict over the bag's first GUARD_BAG_FRAMES images: header stamps against the
    bag's receive times, frame ids against the bag's camera_info (the publishing node is not recorded)."""
    from attune.bag.reader import bag_topics, read_messages
    from attune.imaging import rgb8_from_compressed, rgb8_from_image
    from attune.integrity.enrolment import EnrolmentStreamGuard
    from attune.integrity.evidence import CameraInfoSeen

    topics = bag_topics(bag)
    if topic not in topics:
        raise AttuneError(f'{bag} has no topic {topic}; it has {", ".join(topics)}')
    info_topic = topic.rsplit('/', 1)[0] + '/camera_info'
    info = None
    if info_topic in topics:
        for m in read_messages(bag, [info_topic]):
            msg = m.deserialize()
            info = CameraInfoSeen(msg.header.frame_id, int(msg.width), int(msg.height))
            break
    decode = rgb8_from_compressed if topics[topic][0].endswith('CompressedImage') else rgb8_from_image
    guard = EnrolmentStreamGuard(camera_info=info)
    for i, m in enumerate(read_messages(bag, [topic])):
        if i >= GUARD_BAG_FRAMES:
            break
        msg = m.deserialize()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        guard.add(decode(msg), stamp, m.timestamp_ns, msg.header.frame_id)
    return guard.check()


def _camera_stream_check(index: int):
    """The stream guard's verdict over GUARD_CAMERA_FRAMES consecutive frames of the camera. The
    capture stamps are the driver's (CAP_PROP_POS_MSEC, on the receive clock from the first frame)
    when it gives them, else the receive times; the publisher is the device's name."""
    import cv2

    from attune.integrity.enrolment import EnrolmentStreamGuard, camera_publisher

    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        raise AttuneError(f'cannot open camera {index}')
    guard = EnrolmentStreamGuard(publishers=(camera_publisher(index),))
    first: tuple[float, int] | None = None
    try:
        for _ in range(GUARD_CAMERA_FRAMES):
            ok, bgr = cap.read()
            receive = time.time_ns()
            if not ok:
                raise AttuneError(f'camera {index} stopped delivering frames')
            pos_ms = float(cap.get(cv2.CAP_PROP_POS_MSEC))
            first = first or (pos_ms, receive)
            stamp = first[1] + int((pos_ms - first[0]) * 1e6) if pos_ms > 0 else receive
            guard.add(np.ascontiguousarray(bgr[:, :, ::-1]), stamp, receive, f'camera{index}')
    finally:
        cap.release()
    return guard.check()


def _from_camera(embedder, index: int, wanted: int, interval_s: float = 0.4, timeout_s: float = 30.0) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        raise AttuneError(f'cannot open camera {index}')

    def frames():
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ok, bgr = cap.read()
            if not ok:
                raise AttuneError(f'camera {index} stopped delivering frames')
            yield np.ascontiguousarray(bgr[:, :, ::-1])
            time.sleep(interval_s)  # different moments, not one frozen pose
    try:
        print(f'look at camera {index}; collecting {wanted} views', file=sys.stderr)
        return _from_frames(embedder, frames(), wanted)
    finally:
        cap.release()
