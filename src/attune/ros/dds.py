"""Middleware settings attune applies to its own processes before rclpy starts."""
from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from attune.resources import config_file

PROFILE_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
#: Large shared-memory segments, for processes that send images or event packets.
LARGE_PROFILE = 'fastdds.xml'
#: The same transports with a small segment, for processes that send only small messages.
SMALL_PROFILE = 'fastdds-small.xml'


def use_attune_dds_profile(environ: MutableMapping[str, str] = os.environ, *,
                           large_messages: bool = True) -> str | None:
    """Point Fast DDS at attune's profile, unless the user already chose one of their own. Child
    processes inherit it. Returns the profile in effect.

    large_messages: config/fastdds.xml (32 MB shared-memory segments, so 1 MB camera images arrive);
    false: config/fastdds-small.xml (4 MB), for a process that sends only small messages. Fast DDS
    writes a participant's whole segment at start-up, so the segment is resident memory in every
    process; readers map the sender's segment, so only senders need a large one. A profile inherited
    from an attune parent (`attune up` sets the large one) is replaced by the one this process needs.
    """
    ours = _attune_profiles()
    for name in PROFILE_VARIABLES:
        chosen = environ.get(name)
        if chosen and Path(chosen) not in ours:
            return chosen
    try:
        profile = config_file(LARGE_PROFILE if large_messages else SMALL_PROFILE)
    except Exception:  # noqa: BLE001 - an installation without share files still runs, with defaults
        return None
    if profile.is_file():
        environ['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
        environ.pop('FASTRTPS_DEFAULT_PROFILES_FILE', None)
        return str(profile)
    return None


def _attune_profiles() -> set[Path]:
    try:
        return {config_file(LARGE_PROFILE), config_file(SMALL_PROFILE)}
    except Exception:  # noqa: BLE001 - no share files: nothing is ours
        return set()
