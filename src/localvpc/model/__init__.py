"""The typed resource model: plain dataclasses for every VPC resource kind.

Imports only the standard library; every other layer builds on it.
"""

from localvpc.model.errors import LocalVpcError, ModelError
from localvpc.model.network import Network

__all__ = ["LocalVpcError", "ModelError", "Network"]
