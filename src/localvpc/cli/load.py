"""Loading a network for a command: a snapshot folder or a topology YAML file."""

from __future__ import annotations

from pathlib import Path

from localvpc.model.network import Network


def load_network(path: str) -> Network:
    """A ``.yaml``/``.yml`` file is a topology; anything else a snapshot folder."""
    p = Path(path)
    if p.suffix.lower() in (".yaml", ".yml"):
        return Network.from_topology(p)
    return Network.from_snapshot(p)
