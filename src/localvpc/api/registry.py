"""Providers: one object per AWS service whose methods are named after the operations.

A handler is ``def CreateVpc(self, ctx: RequestContext, params: dict) -> dict``: it receives
the parameters parsed from botocore's input shape and returns a dict in the output shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localvpc.api.context import RequestContext

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]


class Provider:
    """Base class; subclasses set ``service`` (botocore's service name)."""

    service: str = ""
    #: Operations that may take long (an analysis of a whole network, a large object): the
    #: server runs them in a worker thread instead of on its event loop.
    slow_operations: frozenset[str] = frozenset()

    def prepare(self, ctx: RequestContext) -> None:
        """Called before every handler (e.g. to create per-account defaults lazily)."""

    def handler(self, operation: str) -> Handler | None:
        fn = getattr(self, operation, None)
        return fn if callable(fn) and operation[:1].isupper() else None


class Registry:
    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}

    def add(self, provider: Provider) -> None:
        self._providers[provider.service] = provider

    def get(self, service: str) -> Provider | None:
        return self._providers.get(service)

    def services(self) -> list[str]:
        return sorted(self._providers)
