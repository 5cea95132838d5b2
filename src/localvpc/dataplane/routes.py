"""Compiled route tables: VPC (subnet and gateway) tables, transit gateway tables, LGW tables.

Each compiles into a ``PrefixTable`` whose value at a prefix is the list of candidate routes
for that exact prefix, best first, so a lookup is one trie walk plus taking the head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from localvpc.dataplane.lpm import PrefixTable
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.gateways import LocalGatewayRoute, LocalGatewayRouteTable
from localvpc.model.transit import TransitGatewayRoute
from localvpc.model.vpc import Route, RouteOrigin, RouteTable

# RS-3: static CIDR route > prefix-list route > propagated route.
_RANK_STATIC, _RANK_PREFIX_LIST, _RANK_PROPAGATED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RouteChoice:
    """The winning route for a packet and the prefix it matched."""

    prefix: str
    route: Route
    table_id: str

    def describe(self) -> str:
        r = self.route
        via = f" (prefix list {r.prefix_list_id})" if r.prefix_list_id else ""
        origin = " propagated" if r.origin == RouteOrigin.PROPAGATED else ""
        return f"route {self.prefix}{via} -> {r.target_id}{origin} in {self.table_id}"


class CompiledRouteTable:
    """A VPC route table ready for longest-prefix-match lookups (RS-1..RS-7)."""

    __slots__ = ("_table", "id")

    def __init__(self, table: RouteTable,
                 prefix_list: Callable[[str], Sequence[IPNetwork]],
                 propagated: Sequence[Route] = ()) -> None:
        self.id = table.id
        self._table: PrefixTable[list[tuple[int, int, Route]]] = PrefixTable()
        order = 0
        for route in table.routes:
            if route.destination is not None:
                rank = (_RANK_PROPAGATED if route.origin == RouteOrigin.PROPAGATED
                        else _RANK_STATIC)
                self._add(route.destination, rank, order, route)
            elif route.prefix_list_id is not None:
                for cidr in prefix_list(route.prefix_list_id):
                    # RS-5: overlapping lists resolve deterministically by list id.
                    self._add(cidr, _RANK_PREFIX_LIST, order, route)
            order += 1
        for route in propagated:
            if route.destination is not None:
                self._add(route.destination, _RANK_PROPAGATED, order, route)
                order += 1

    def _add(self, prefix: IPNetwork, rank: int, order: int, route: Route) -> None:
        entry = (rank, order if rank != _RANK_PREFIX_LIST else 0, route)
        current = self._table.get(prefix)
        if current is None:
            self._table.insert(prefix, [entry])
            return
        current.append(entry)
        current.sort(key=lambda e: (e[0], e[2].prefix_list_id or "", e[1]))

    def lookup(self, address: IPAddress) -> RouteChoice | None:
        hit = self._table.lookup(address)
        if hit is None:
            return None
        prefix, candidates = hit
        return RouteChoice(prefix, candidates[0][2], self.id)

    def __len__(self) -> int:
        return len(self._table)


# TG-6: static > prefix-list reference > VPC propagated > Direct Connect > Connect > VPN
# propagated.
_TGW_PREFIX_LIST, _TGW_PROPAGATED = 1, 2
_TGW_PROPAGATION_RANK = {"vpc": 0, "direct-connect-gateway": 1, "connect": 2, "vpn": 3}


@dataclass(frozen=True, slots=True)
class TgwRouteChoice:
    prefix: str
    route: TransitGatewayRoute
    table_id: str

    def describe(self) -> str:
        target = "blackhole" if self.route.attachment_id is None else self.route.attachment_id
        return (f"transit gateway route {self.prefix} -> {target} ({self.route.route_type}) "
                f"in {self.table_id}")


class CompiledTgwRouteTable:
    """A transit gateway route table with its propagated routes merged in (TG-3..TG-7)."""

    __slots__ = ("_table", "id")

    def __init__(self, table_id: str, static: Sequence[TransitGatewayRoute],
                 propagated: Sequence[tuple[str, TransitGatewayRoute]],
                 prefix_list: Sequence[TransitGatewayRoute] = ()) -> None:
        self.id = table_id
        self._table: PrefixTable[tuple[int, TransitGatewayRoute]] = PrefixTable()
        for route in static:
            rank = 0 if route.route_type != "propagated" else _TGW_PROPAGATED
            self._put(route.destination, rank, route)
        for route in prefix_list:  # the entries of a referenced prefix list (TG-6)
            self._put(route.destination, _TGW_PREFIX_LIST, route)
        for resource_type, route in propagated:
            self._put(route.destination,
                      _TGW_PROPAGATED + _TGW_PROPAGATION_RANK.get(resource_type, 4), route)

    def _put(self, prefix: IPNetwork, rank: int, route: TransitGatewayRoute) -> None:
        current = self._table.get(prefix)
        # Lower rank wins; on a tie the first one installed keeps the route (TG-4, ASSUMED).
        if current is None or rank < current[0]:
            self._table.insert(prefix, (rank, route))

    def lookup(self, address: IPAddress) -> TgwRouteChoice | None:
        hit = self._table.lookup(address)
        if hit is None:
            return None
        prefix, (_, route) = hit
        return TgwRouteChoice(prefix, route, self.id)


class CompiledLgwRouteTable:
    """An Outposts local gateway route table: LPM, then static beats propagated (LG-7)."""

    __slots__ = ("_table", "id", "table")

    def __init__(self, table: LocalGatewayRouteTable) -> None:
        self.id = table.id
        self.table = table
        self._table: PrefixTable[LocalGatewayRoute] = PrefixTable()
        for route in table.routes:
            if route.state in ("deleting", "deleted"):
                continue
            current = self._table.get(route.destination)
            if current is None or (current.route_type != "static"
                                   and route.route_type == "static"):
                self._table.insert(route.destination, route)

    def lookup(self, address: IPAddress) -> tuple[str, LocalGatewayRoute] | None:
        return self._table.lookup(address)

