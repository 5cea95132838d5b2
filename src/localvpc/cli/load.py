"""Loading a network for a command: a snapshot folder or a topology YAML file."""

from __future__ import annotations

from pathlib import Path

from localvpc.model.network import Network
from localvpc.snapshot import load_snapshot
from localvpc.snapshot.topology import load_topology


def load_network(path: str) -> Network:
    """A ``.yaml``/``.yml`` file is a topology; anything else a snapshot folder."""
    p = Path(path)
    if p.suffix.lower() in (".yaml", ".yml"):
        return load_topology(p)
    return load_snapshot(p)
