"""Errors of the event-camera core (attune.events)."""
from __future__ import annotations

from attune.errors import AttuneError


class EventError(AttuneError):
    """Event data that cannot be used: arrays of different lengths, a bad sensor size, a bad window."""


class RecordingError(AttuneError):
    """An event recording (AEDAT4 file) that is missing or cannot be decoded."""
