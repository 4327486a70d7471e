"""Fixtures of the expression tests."""
from __future__ import annotations

import pytest

from test.expression.photos import Photo, london_photos


@pytest.fixture
def london() -> list[Photo]:
    return london_photos()
