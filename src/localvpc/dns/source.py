"""Where the DNS layer reads the model from. The API's ``ServerState`` fits this shape; the
DNS layer sits below the API and so names only the shape, not the class. ``StaticSource``
serves a loaded snapshot or topology (the CLI) and tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from localvpc.model.network import Network


class ChangeSink(Protocol):
    def save(self, resource: Any) -> Any: ...


class ModelSource(Protocol):
    """The live model: ``generation`` changes after every write that changed resources."""

    network: Network
    generation: int

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def write(self) -> AbstractContextManager[ChangeSink]: ...


class _Saved:
    def __init__(self) -> None:
        self.put: list[Any] = []

    def save(self, resource: Any) -> Any:
        self.put.append(resource)
        return resource


class StaticSource:
    """A model held in memory only: writes change it and bump the generation."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.generation = 0
        self._lock = threading.RLock()

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @contextmanager
    def write(self) -> Iterator[_Saved]:
        with self._lock:
            saved = _Saved()
            yield saved
            self.generation += 1

    def touch(self) -> None:
        """Tell readers the model changed (tests edit the network in place)."""
        with self._lock:
            self.generation += 1
