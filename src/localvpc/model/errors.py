"""Typed errors shared by every layer, so callers can catch localvpc's own failures only."""

from __future__ import annotations


class LocalVpcError(Exception):
    """Base of every error localvpc raises on purpose."""


class ModelError(LocalVpcError):
    """The model is inconsistent or a lookup names something that does not exist."""


class SnapshotError(LocalVpcError):
    """A snapshot folder cannot be read (missing, unreadable, malformed JSON)."""


class TopologyError(LocalVpcError):
    """A topology YAML file is invalid; the message names the file, line and field."""


class TraceInputError(LocalVpcError):
    """A trace request is malformed: unknown start node, bad address, bad protocol."""
