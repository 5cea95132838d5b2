"""Longest-prefix-match tables over IPv4 and IPv6, backed by pytricia's Patricia tries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

import pytricia

from localvpc.model.base import IPAddress, IPNetwork

V = TypeVar("V")


class PrefixTable(Generic[V]):
    """Maps prefixes of both families to values; ``lookup`` returns the longest match."""

    __slots__ = ("_v4", "_v6")

    def __init__(self) -> None:
        self._v4 = pytricia.PyTricia(32)
        self._v6 = pytricia.PyTricia(128)

    def _trie(self, version: int) -> pytricia.PyTricia:
        return self._v4 if version == 4 else self._v6

    def get(self, prefix: IPNetwork) -> V | None:
        trie = self._trie(prefix.version)
        key = str(prefix)
        return trie[key] if trie.has_key(key) else None

    def insert(self, prefix: IPNetwork, value: V) -> None:
        self._trie(prefix.version).insert(str(prefix), value)

    def lookup(self, address: IPAddress) -> tuple[str, V] | None:
        """The longest prefix containing ``address`` and its value, or None."""
        trie = self._trie(address.version)
        text = str(address)
        key = trie.get_key(text)
        if key is None:
            return None
        return key, trie[key]

    def value_at(self, address: IPAddress) -> V | None:
        """Only the value of the longest match (cheaper than ``lookup``)."""
        value: V | None = self._trie(address.version).get(str(address))
        return value

    def items(self) -> Iterator[tuple[str, V]]:
        for trie in (self._v4, self._v6):
            for key in trie:
                yield key, trie[key]

    def __len__(self) -> int:
        return len(self._v4) + len(self._v6)
