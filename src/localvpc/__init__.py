"""localvpc: Amazon VPC and its neighbouring networking services, emulated on one machine.

Top-level convenience: ``Network`` (the typed model) and ``trace`` helpers.
"""

from localvpc.model.network import Network

__all__ = ["Network"]
__version__ = "0.1.0"
