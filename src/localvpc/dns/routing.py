"""Routing policies: which record sets of one name and type answer a query (dns.md
section 6). Health comes in as a function so alias targets can lend theirs (RP-2)."""

from __future__ import annotations

import random
from collections.abc import Callable

from localvpc.model.dns import ResourceRecordSet

Health = Callable[[ResourceRecordSet], bool]

MULTIVALUE_MAX = 8


def policy_of(rrset: ResourceRecordSet) -> str:
    if rrset.failover:
        return "failover"
    if rrset.weight is not None:
        return "weighted"
    if rrset.multi_value_answer:
        return "multivalue"
    if rrset.region:
        return "latency"
    if rrset.geolocation:
        return "geolocation"
    if rrset.geoproximity:
        return "geoproximity"
    if rrset.cidr_routing:
        return "ip-based"
    return "simple"


def select(rrsets: list[ResourceRecordSet], healthy: Health, rng: random.Random,
           region: str) -> tuple[list[ResourceRecordSet], str]:
    """The record sets that answer, and why. ``rrsets`` share name and type."""
    if not rrsets:
        return [], "no record set"
    policy = policy_of(rrsets[0])
    if policy == "simple" or (len(rrsets) == 1 and policy != "failover"):
        chosen = rrsets[:1]
        return chosen, f"{policy} record{_ident(chosen[0])}"
    if policy == "failover":
        return _failover(rrsets, healthy)
    if policy == "weighted":
        return _weighted(rrsets, healthy, rng)
    if policy == "multivalue":
        up = [r for r in rrsets if healthy(r)]
        if not up:
            # ASSUMED: with no healthy record Route 53 answers from all of them, as for the
            # other policies (RP-5).
            return rrsets[:MULTIVALUE_MAX], "multivalue: no healthy record, answering all"
        return up[:MULTIVALUE_MAX], f"multivalue: {len(up)} of {len(rrsets)} healthy"
    if policy == "latency":
        # The lowest latency from a VPC is its own Region's record (ASSUMED: no latency
        # data between Regions on one machine); else the first healthy.
        up = [r for r in rrsets if healthy(r)] or rrsets
        same = [r for r in up if r.region == region]
        chosen = (same or up)[:1]
        return chosen, f"latency: record for {chosen[0].region}{_ident(chosen[0])}"
    # geolocation / geoproximity / IP-based: the emulator's clients have no location; the
    # default record ("*" location) answers, else the first healthy (ASSUMED).
    up = [r for r in rrsets if healthy(r)] or rrsets
    default = [r for r in up if r.geolocation.get("CountryCode") == "*"
               or r.cidr_routing.get("LocationName") == "*"]
    chosen = (default or up)[:1]
    return chosen, f"{policy}: default location{_ident(chosen[0])}"


def _ident(rrset: ResourceRecordSet) -> str:
    return f" '{rrset.set_identifier}'" if rrset.set_identifier else ""


def _failover(rrsets: list[ResourceRecordSet], healthy: Health
              ) -> tuple[list[ResourceRecordSet], str]:
    """RP-1: primary while healthy; the secondary when the primary is not and the secondary
    is; both unhealthy -> primary. No health check = healthy."""
    primary = next((r for r in rrsets if r.failover == "PRIMARY"), None)
    secondary = next((r for r in rrsets if r.failover == "SECONDARY"), None)
    if primary is None:
        if secondary is None:
            return [], "failover: no record set"
        return [secondary], "failover: only a SECONDARY record exists"
    if healthy(primary):
        return [primary], f"failover: PRIMARY{_ident(primary)} is healthy"
    if secondary is not None and healthy(secondary):
        return [secondary], (f"failover: PRIMARY{_ident(primary)} is unhealthy, "
                             f"SECONDARY{_ident(secondary)} is healthy")
    return [primary], "failover: PRIMARY and SECONDARY are unhealthy, answering PRIMARY"


def _weighted(rrsets: list[ResourceRecordSet], healthy: Health, rng: random.Random
              ) -> tuple[list[ResourceRecordSet], str]:
    """RP-3: by weight among healthy records; zero weights only when every non-zero one is
    down; nothing healthy -> all of them count as healthy."""
    up = [r for r in rrsets if healthy(r)]
    note = ""
    if not up:
        up, note = list(rrsets), " (no healthy record: all count as healthy)"
    positive = [r for r in up if (r.weight or 0) > 0]
    pool = positive or up
    weights = [float(r.weight or 0) for r in pool] if positive else [1.0] * len(pool)
    chosen = rng.choices(pool, weights=weights)[0]
    total = sum(weights)
    return [chosen], (f"weighted: picked{_ident(chosen)} (weight {chosen.weight} of "
                      f"{total:g} among {len(pool)} candidates){note}")
