"""The rosbags type store that knows attune's own messages (no rclpy).

Why: rosbags ships the standard ROS 2 message definitions, but not ours. Bags we write must carry
the full definition of every type (so `ros2 bag`, rosbags and Foxglove decode attune/msg/Faces
without our package installed), and bags recorded elsewhere (by `ros2 bag record` with a storage
that drops definitions) must still be readable. Both need one store holding the Kilted standard
types plus every `msg/*.msg` of attune, parsed from the same files rosidl builds from, so a new
.msg file is picked up without touching this module.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from rosbags.interfaces.typing import Typesdict
from rosbags.typesys import Stores, TypesysError, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from attune.errors import BagError
from attune.resources import msg_dir

#: The ROS package name of attune's interfaces.
PACKAGE = 'attune'

#: The distribution whose standard message definitions (and RIHS01 hashes) the store uses.
BASE_STORE = Stores.ROS2_KILTED


def attune_types(directory: Path | None = None) -> Typesdict:
    """The rosbags type definitions of every `*.msg` file in `directory` (default: attune's msg/).

    Each file `Name.msg` becomes the type `attune/msg/Name`; references between our own messages
    (`Face[] faces`) resolve within the package, as rosidl resolves them.

    Raises:
        BagError: the directory holds no .msg file, or a file cannot be read or parsed.
    """
    directory = msg_dir() if directory is None else directory
    files = sorted(directory.glob('*.msg'))
    if not files:
        raise BagError(f'no message definitions (*.msg) found in {directory}')
    types: Typesdict = {}
    for path in files:
        try:
            types.update(get_types_from_msg(path.read_text(encoding='utf-8'),
                                            f'{PACKAGE}/msg/{path.stem}'))
        except (OSError, UnicodeDecodeError, TypesysError) as exc:
            raise BagError(f'cannot read message definition {path}: {exc}') from None
    return types


@cache
def attune_typestore() -> Typestore:
    """The shared rosbags Typestore: ROS 2 Kilted standard types plus attune's messages.

    Built once per process (parsing a dozen .msg files and generating their CDR code takes a
    fraction of a second); treat it as read-only. Need more types? Build your own store with
    `get_typestore(BASE_STORE)` and register `attune_types()` plus yours.

    Raises:
        BagError: attune's msg/ directory is missing, or a definition cannot be parsed or
            conflicts with a standard type.
    """
    store = get_typestore(BASE_STORE)
    try:
        store.register(attune_types())
    except TypesysError as exc:
        raise BagError(f'cannot register attune\'s message definitions from {msg_dir()}: {exc}') from None
    return store
