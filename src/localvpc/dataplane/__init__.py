"""The data plane: compiles the model into forwarding state and traces packets through it.

Imports only ``localvpc.model``; never the API or the CLI.
"""

from localvpc.dataplane.compiled import ForwardingPlane, compile_network
from localvpc.dataplane.engine import Tracer
from localvpc.dataplane.flow import Disposition, Flow, Hop, Trace

__all__ = ["Disposition", "Flow", "ForwardingPlane", "Hop", "Trace", "Tracer", "compile_network"]
