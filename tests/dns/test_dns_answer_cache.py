"""The server's answer cache (what makes a repeated query cheap): a repeat is answered
without resolving, with its own id and the question as asked; any model change empties it;
answers that may differ next time (weighted picks, forwarded answers) are never kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import pytest
from dnslab import Lab, Upstream

from localvpc.dns.answer import Answer
from localvpc.dns.forward import Forwarder
from localvpc.dns.resolver import Origin, Resolver
from localvpc.dns.server import DnsServer


class CountingResolver(Resolver):
    """Counts the queries that really got resolved."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.resolved: list[str] = []

    def resolve(self, origin: Origin, name: str, qtype: str = "A") -> Answer:
        self.resolved.append(name.lower().rstrip("."))
        return super().resolve(origin, name, qtype)


@pytest.fixture
def lab() -> Lab:
    lab = Lab()
    vpc = lab.vpc()
    zone = lab.zone("app.example", private=False)
    lab.record(zone, "www.app.example", "A", "192.0.2.10")
    lab.record(zone, "w.app.example", "A", "192.0.2.1", set_identifier="one", weight=1)
    lab.record(zone, "w.app.example", "A", "192.0.2.2", set_identifier="two", weight=1)
    assert vpc.id in lab.net.vpcs
    return lab


def serve(lab: Lab, cache_size: int = 1024) -> tuple[DnsServer, CountingResolver, int]:
    resolver = CountingResolver(lab.source, forwarder=Forwarder(timeout=0.5), seed=7)
    server = DnsServer(lab.source, resolver, poll_interval=0.05,
                       cache_size=cache_size).start()
    port = server.port_of("vpc", next(iter(lab.net.vpcs)))
    assert port is not None
    return server, resolver, port


@pytest.fixture
def running(lab: Lab) -> Iterator[tuple[DnsServer, CountingResolver, int]]:
    server, resolver, port = serve(lab)
    yield server, resolver, port
    server.stop()


def ask(port: int, name: str, tcp: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, dns.rdatatype.A)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=port, timeout=3)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=3)


def values(reply: dns.message.Message) -> list[str]:
    return [rd.to_text() for rrset in reply.answer for rd in rrset]


def test_a_repeat_is_answered_from_the_cache_with_its_own_id(
        running: tuple[DnsServer, CountingResolver, int]) -> None:
    _, resolver, port = running
    first, second = ask(port, "www.app.example"), ask(port, "www.app.example")
    assert values(first) == values(second) == ["192.0.2.10"]
    assert first.id != second.id  # dnspython checks the id matches its query
    assert resolver.resolved == ["www.app.example"]
    # another spelling is another question: resolved once, echoed as asked
    mixed = ask(port, "WWW.App.example")
    assert str(mixed.question[0].name) == "WWW.App.example." and values(mixed) == [
        "192.0.2.10"]
    # TCP answers are kept apart from UDP ones (a UDP answer may be truncated)
    assert values(ask(port, "www.app.example", tcp=True)) == ["192.0.2.10"]
    ask(port, "www.app.example", tcp=True)
    assert resolver.resolved == ["www.app.example"] * 3


def test_a_model_change_empties_the_cache(
        lab: Lab, running: tuple[DnsServer, CountingResolver, int]) -> None:
    _, resolver, port = running
    assert values(ask(port, "www.app.example")) == ["192.0.2.10"]
    zone = next(iter(lab.net.hosted_zones.values()))
    www = next(r for r in zone.records if r.name == "www.app.example.")
    www.values = ["192.0.2.99"]
    assert values(ask(port, "www.app.example")) == ["192.0.2.10"]  # no write told anyone
    lab.touch()  # what every API write does
    assert values(ask(port, "www.app.example")) == ["192.0.2.99"]
    assert len(resolver.resolved) == 2


def test_weighted_answers_are_picked_afresh_every_time(
        running: tuple[DnsServer, CountingResolver, int]) -> None:
    _, resolver, port = running
    seen = Counter(values(ask(port, "w.app.example"))[0] for _ in range(60))
    assert set(seen) == {"192.0.2.1", "192.0.2.2"}
    assert resolver.resolved.count("w.app.example") == 60


def test_forwarded_answers_are_asked_again(
        lab: Lab, running: tuple[DnsServer, CountingResolver, int]) -> None:
    _, _, port = running
    up = Upstream({("db.onprem.example", "A"): ["192.168.7.7"]})
    try:
        vpc = next(iter(lab.net.vpcs.values()))
        sub = lab.subnet(vpc, "10.0.1.0/24")
        lab.rule(vpc, "onprem.example", targets=[("127.0.0.1", up.port)],
                 endpoint=lab.outbound(vpc, sub))
        lab.touch()
        for _ in range(3):
            assert values(ask(port, "db.onprem.example")) == ["192.168.7.7"]
        assert up.queries == [("db.onprem.example.", "A")] * 3
    finally:
        up.stop()


def test_cache_size_zero_resolves_every_query(lab: Lab) -> None:
    server, resolver, port = serve(lab, cache_size=0)
    try:
        for _ in range(3):
            assert values(ask(port, "www.app.example")) == ["192.0.2.10"]
        assert resolver.resolved == ["www.app.example"] * 3
    finally:
        server.stop()


def test_the_cache_stays_bounded(lab: Lab) -> None:
    server, _, port = serve(lab, cache_size=4)
    try:
        for i in range(10):
            assert ask(port, f"n{i}.app.example").rcode() == 3  # NXDOMAIN, kept
            assert len(server._cache) <= 4
    finally:
        server.stop()
