"""Middleware settings attune applies to its own processes before rclpy starts."""
from __future__ import annotations

import os
from collections.abc import MutableMapping

from attune.resources import config_file

PROFILE_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')


def use_attune_dds_profile(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """Point Fast DDS at config/fastdds.xml (large shared-memory segments for images), unless the
    user already chose a profile. Child processes inherit it. Returns the profile in effect."""
    for name in PROFILE_VARIABLES:
        if environ.get(name):
            return environ[name]
    try:
        profile = config_file('fastdds.xml')
    except Exception:  # noqa: BLE001 - an installation without share files still runs, with defaults
        return None
    if profile.is_file():
        environ['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
        return str(profile)
    return None
