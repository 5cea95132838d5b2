"""The ``route-search.*`` filters of SearchTransitGatewayRoutes and SearchLocalGatewayRoutes.

They compare prefixes, not strings, so they are applied here and the remaining filters go
through ``common.apply_filters``:

* ``exact-match``: the route's destination equals the given CIDR;
* ``subnet-of-match``: the destination lies inside the given CIDR (or equals it);
* ``supernet-of-match``: the destination contains the given CIDR (or equals it);
* ``longest-prefix-match``: of the routes containing the given CIDR, the most specific.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from localvpc.api.providers.ec2.common import error
from localvpc.model.base import IPNetwork, parse_cidr

T = TypeVar("T")

PREFIX = "route-search."
KINDS = ("exact-match", "longest-prefix-match", "subnet-of-match", "supernet-of-match")


def split(filters: Sequence[dict[str, Any]] | None
          ) -> tuple[list[tuple[str, list[IPNetwork]]], list[dict[str, Any]]]:
    """Separate the route-search filters (parsed) from the others."""
    searches: list[tuple[str, list[IPNetwork]]] = []
    rest: list[dict[str, Any]] = []
    for f in filters or []:
        name = str(f.get("Name", ""))
        if not name.startswith(PREFIX):
            rest.append(f)
            continue
        kind = name[len(PREFIX):]
        if kind not in KINDS:
            raise error("InvalidParameterValue", f"The filter '{name}' is invalid")
        cidrs: list[IPNetwork] = []
        for value in f.get("Values") or []:
            try:
                cidrs.append(parse_cidr(str(value)))
            except ValueError:
                raise error("InvalidParameterValue", f"Value ({value}) for filter {name} is "
                            "not a valid CIDR block.") from None
        searches.append((kind, cidrs))
    return searches, rest


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _matches(kind: str, dst: IPNetwork, cidrs: list[IPNetwork]) -> bool:
    if kind == "exact-match":
        return dst in cidrs
    if kind == "subnet-of-match":
        return any(_within(dst, c) for c in cidrs)
    if kind == "supernet-of-match":
        return any(_within(c, dst) for c in cidrs)
    return False


def apply(items: list[T], searches: list[tuple[str, list[IPNetwork]]],
          destination: Callable[[T], IPNetwork | None]) -> list[T]:
    """Keep the items every search matches (values of one search are OR-ed)."""
    for kind, cidrs in searches:
        keep: list[T] = []
        for item in items:
            dst = destination(item)
            if dst is not None and _matches(kind, dst, cidrs):
                keep.append(item)
        if kind == "longest-prefix-match":
            for c in cidrs:
                covering = [i for i in items if (d := destination(i)) is not None
                            and _within(c, d)]
                if covering:
                    best = max(d.prefixlen for i in covering
                               if (d := destination(i)) is not None)
                    keep.extend(i for i in covering if (d := destination(i)) is not None
                                and d.prefixlen == best and i not in keep)
        items = keep
    return items
