"""Reading rosbag2 bags: topics, and messages as raw CDR bytes that deserialize on demand (no rclpy).

Why a wrapper over rosbags' Reader: replay needs the raw bytes (published as they are), reports
and tests need messages; both need our own types (attune/msg/*) decodable even from bags that
do not carry their definitions (recorded by `ros2 bag record` into sqlite3, or by an older
writer). Types the bag defines but we do not know are taken from the bag; so are our own types
when the bag's definition differs from ours (a bag from an older attune), judged by the RIHS01
hash stored with each topic.
"""
from __future__ import annotations

from collections.abc import Collection, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rosbags.interfaces import Connection, MessageDefinitionFormat
from rosbags.interfaces.typing import Typesdict
from rosbags.rosbag2 import Reader, ReaderError
from rosbags.typesys import Stores, TypesysError, get_types_from_idl, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from attune.bag.typestore import attune_typestore
from attune.errors import BagError

_IDL_SEPARATOR = '=' * 80 + '\n'


@dataclass(frozen=True)
class BagMessage:
    """One message of a bag.

    Attributes:
        topic: the topic it was recorded on.
        msgtype: its ROS type, e.g. 'sensor_msgs/msg/Image'.
        timestamp_ns: the bag timestamp (record or receive time), nanoseconds.
        data: the serialized message, CDR with its 4-byte encapsulation header (what DDS carries,
            and what rclpy's Publisher.publish(bytes) takes).
    """

    topic: str
    msgtype: str
    timestamp_ns: int
    data: bytes
    _typestore: Typestore = field(repr=False, compare=False)

    def deserialize(self) -> Any:
        """The message as a rosbags message object (fields as in ROS, arrays as numpy).

        Raises:
            BagError: the type is unknown (neither a standard, an attune nor a bag-defined type)
                or the bytes do not decode as that type.
        """
        try:
            return self._typestore.deserialize_cdr(self.data, self.msgtype)
        except KeyError:
            raise BagError(f'cannot decode {self.msgtype} on {self.topic}: the type is not known '
                           'to attune and the bag does not carry its definition') from None
        except Exception as exc:  # noqa: BLE001 - rosbags' generated decoders raise many types
            raise BagError(f'cannot decode {self.msgtype} message on {self.topic} '
                           f'(timestamp {self.timestamp_ns}): {type(exc).__name__}: {exc}') from None


def open_reader(path: Path) -> Reader:
    """An opened rosbags Reader for a bag directory or a single .mcap/.db3 file.

    Raises:
        BagError: the path does not exist or is not a readable rosbag2 bag.
    """
    path = Path(path)
    if not path.exists():
        raise BagError(f'bag {path} does not exist')
    try:
        reader = Reader(path)
        reader.open()
    except (ReaderError, OSError) as exc:
        raise BagError(f'cannot read bag {path}: {exc}') from None
    return reader


def bag_topics(path: Path) -> dict[str, tuple[str, int]]:
    """{topic: (msgtype, message count)} from the bag's metadata, in the bag's topic order.

    A topic recorded under several connections (different QoS) has its counts added; recorded
    with several types, it reports the first.

    Raises:
        BagError: the bag cannot be read.
    """
    reader = open_reader(path)
    try:
        topics: dict[str, tuple[str, int]] = {}
        for conn in reader.connections:
            msgtype, count = topics.get(conn.topic, (conn.msgtype, 0))
            topics[conn.topic] = (msgtype, count + conn.msgcount)
        return topics
    finally:
        reader.close()


def read_messages(path: Path, topics: Iterable[str] | None = None, *, start_ns: int | None = None,
                  stop_ns: int | None = None) -> Generator[BagMessage, None, None]:
    """The bag's messages in timestamp order, optionally only those on `topics`.

    The bag and the requested topics are checked before this returns; the messages are then
    read lazily (an image bag never sits in memory whole). Iterate to the end or close the
    iterator to release the file.

    Args:
        path: a bag directory, or one .mcap/.db3 file.
        topics: topic names to keep; None: all.
        start_ns: only messages with timestamp >= start_ns.
        stop_ns: only messages with timestamp < stop_ns.

    Raises:
        BagError: the bag cannot be read, or a requested topic is not in it.
    """
    path = Path(path)
    reader = open_reader(path)
    try:
        connections = select_connections(reader, path, topics)
        store = typestore_for(reader.connections)
    finally:
        reader.close()
    return _messages(path, {c.id for c in connections}, store, start_ns, stop_ns)


def _messages(path: Path, ids: Collection[int], store: Typestore, start_ns: int | None,
              stop_ns: int | None) -> Generator[BagMessage, None, None]:
    try:
        with Reader(path) as reader:
            connections = [c for c in reader.connections if c.id in ids]
            if not connections:
                return
            for conn, timestamp, data in reader.messages(connections, start=start_ns, stop=stop_ns):
                yield BagMessage(conn.topic, conn.msgtype, timestamp, bytes(data), store)
    except (ReaderError, OSError) as exc:
        raise BagError(f'cannot read bag {path}: {exc}') from None


def select_connections(reader: Reader, path: Path, topics: Iterable[str] | None) -> list[Connection]:
    """The reader's connections on `topics` (all when None).

    Raises:
        BagError: a requested topic is not in the bag (the message lists those that are).
    """
    if topics is None:
        return list(reader.connections)
    wanted = list(dict.fromkeys(topics))
    present = {c.topic for c in reader.connections}
    missing = [t for t in wanted if t not in present]
    if missing:
        raise BagError(f'topic{"s" if len(missing) > 1 else ""} {", ".join(missing)} not in bag {path} '
                       f'(it has: {", ".join(sorted(present)) or "no topics"})')
    return [c for c in reader.connections if c.topic in wanted]


def typestore_for(connections: Iterable[Connection]) -> Typestore:
    """A Typestore that decodes every connection: attune_typestore(), extended when needed.

    A connection needs more when its type is unknown to attune_typestore(), or when it carries a
    RIHS01 hash that differs from ours (same name, other definition). Then the definitions the
    bag carries for those types are used. Types that remain unknown fail only when a message of
    theirs is deserialized.
    """
    base = attune_typestore()
    foreign: Typesdict = {}
    for conn in connections:
        known = conn.msgtype in base.fielddefs
        if known and (not conn.digest or not conn.digest.startswith('RIHS01_')
                      or conn.digest == _hash(base, conn.msgtype)):
            continue
        if conn.msgdef.format == MessageDefinitionFormat.NONE or not conn.msgdef.data:
            continue
        try:
            foreign.update(_parse_definition(conn))
        except TypesysError:
            continue  # an unparsable definition: the type stays as we know it, or unknown
    if not foreign:
        return base
    store = get_typestore(Stores.EMPTY)
    store.register({**base.fielddefs, **foreign})
    return store


def _hash(store: Typestore, msgtype: str) -> str:
    try:
        return store.hash_rihs01(msgtype)
    except (KeyError, TypesysError):
        return ''


def _parse_definition(conn: Connection) -> Typesdict:
    """The types a connection's stored definition declares (the type and its dependencies)."""
    text = conn.msgdef.data
    if conn.msgdef.format == MessageDefinitionFormat.MSG:
        return get_types_from_msg(text, conn.msgtype)
    types: Typesdict = {}
    if text.startswith(f'{_IDL_SEPARATOR}IDL: '):
        for part in text.split(_IDL_SEPARATOR)[1:]:
            types.update(get_types_from_idl(part.split('\n', 1)[1]))
    else:
        types.update(get_types_from_idl(text))
    return types
