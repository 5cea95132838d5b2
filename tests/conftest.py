"""Shared fixtures: where ../shared lives, and skipping cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SNAPSHOTS = SHARED / "aws-snapshots"
ACCEPTANCE = SHARED / "acceptance"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


def snapshot_dir(name: str) -> Path:
    path = SNAPSHOTS / name
    if not path.is_dir():
        pytest.skip(f"snapshot {name} is not present")
    return path
