"""Fixtures for data-plane tests: a fresh ``Lab`` per test."""

from __future__ import annotations

import pytest
from lab import Lab


@pytest.fixture
def lab() -> Lab:
    return Lab()
