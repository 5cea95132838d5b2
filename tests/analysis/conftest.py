"""Fixtures for analysis tests: the data-plane tests' ``Lab`` builds the networks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataplane"))

from lab import Lab


@pytest.fixture
def lab() -> Lab:
    return Lab()
