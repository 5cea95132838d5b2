"""localvpc: Amazon VPC and its neighbouring networking services, emulated on one machine.

Top-level convenience for the Python API: ``Network`` (the typed model) and the two ways
to build one, ``load_snapshot`` (AWS describe-* JSON) and ``load_topology`` (YAML).
"""

from localvpc.model.network import Network
from localvpc.snapshot import load_snapshot
from localvpc.snapshot.topology import load_topology

__all__ = ["Network", "load_snapshot", "load_topology"]
__version__ = "0.1.0"
