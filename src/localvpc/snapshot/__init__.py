"""Builders of the model from outside descriptions: AWS describe-* snapshots and topology YAML.

Imports only ``localvpc.model``.
"""

from localvpc.snapshot.loader import load_snapshot

__all__ = ["load_snapshot"]
