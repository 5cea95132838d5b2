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


class StoreError(LocalVpcError):
    """The persistent store cannot be opened, read or written (bad path, corrupt file, driver)."""


class CatalogError(LocalVpcError):
    """A zone-catalogue request is invalid; ``code`` is the AWS error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PricingError(LocalVpcError):
    """A Price List request or offer file is invalid; ``code`` is the AWS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
