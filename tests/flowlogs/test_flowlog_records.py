"""Aggregation into records: intervals, TCP flags, NODATA/SKIPDATA, filters, scopes, formats,
and the agreement of records with the trace engine's verdicts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flowlog_lab import Lab, TargetType, bidir, two_tier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localvpc.dataplane import compile_network
from localvpc.dataplane.request import trace_request
from localvpc.flowlogs.format import SEED_FIELDS, SEED_FORMAT, format_record, parse_log_format
from localvpc.flowlogs.records import (
    ACK,
    FIN,
    SYN,
    FlowLogCollector,
    Subscription,
    SubscriptionError,
    packet_flags,
)
from localvpc.flowlogs.traffic import Connection, Endpoint, Port, RunStats, TrafficRunner

T0 = 1717200000  # window-aligned


def _records(c: FlowLogCollector, rid: str, **kw: Any) -> list[dict[str, Any]]:
    return list(c.records(Subscription(rid, **kw)))


def _ok(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in recs if r["log-status"] == "OK"]


def test_packet_flags_keep_only_what_aws_reports() -> None:
    assert packet_flags(SYN) == 2
    assert packet_flags(SYN | ACK) == 18
    assert packet_flags(ACK) == 0
    assert packet_flags(ACK | 8) == 0  # PSH+ACK
    assert packet_flags(SYN | 0x40) == 2  # ECE is dropped
    assert packet_flags(FIN | ACK) == 1


def test_one_window_connection_ors_its_flags_per_direction() -> None:
    lab = Lab()
    n = two_tier(lab)
    trace, _ = bidir(lab, n["web"], "10.0.2.20", port=5432)
    c = FlowLogCollector(compile_network(lab.net))
    c.observe(trace, 10, 900, T0 + 5, T0 + 9, SYN | FIN)
    assert trace.return_trace is not None
    c.observe(trace.return_trace, 8, 4000, T0 + 5, T0 + 9, 18 | FIN)
    recs = _ok(_records(c, n["vpc"].id, interval=60))
    web = lab.eni_of(n["web"]).id
    flags = {(r["interface-id"] == web, r["flow-direction"]): r["tcp-flags"] for r in recs}
    # The client side reports 3 both ways, the server side 19 (FORMAT.md §6).
    assert flags == {(True, "egress"): 3, (False, "ingress"): 3, (False, "egress"): 19,
                     (True, "ingress"): 19}
    assert {(r["packets"], r["bytes"], r["start"], r["end"]) for r in recs
            if r["flow-direction"] == "egress" and r["interface-id"] == web} == {
        (10, 900, T0 + 5, T0 + 9)}


def test_long_connection_spans_windows_with_syn_first_and_fin_last() -> None:
    lab = Lab()
    n = two_tier(lab)
    trace, _ = bidir(lab, n["web"], "10.0.2.20", port=5432)
    c = FlowLogCollector(compile_network(lab.net))
    c.observe(trace, 300, 30000, T0 + 30, T0 + 180, SYN | FIN)
    web = lab.eni_of(n["web"]).id
    recs = [r for r in _ok(_records(c, web, interval=60))]
    assert [(r["start"], r["end"], r["tcp-flags"]) for r in recs] == [
        (T0 + 30, T0 + 59, 2), (T0 + 60, T0 + 119, 0), (T0 + 120, T0 + 179, 0),
        (T0 + 180, T0 + 180, 1)]
    assert sum(r["packets"] for r in recs) == 300 and sum(r["bytes"] for r in recs) == 30000
    # The same traffic at 600 s: one record, flags OR-ed.
    (one,) = _ok(_records(c, web, interval=600))
    assert (one["packets"], one["start"], one["end"], one["tcp-flags"]) == (
        300, T0 + 30, T0 + 180, 3)


def test_nodata_for_subscribed_enis_without_traffic() -> None:
    lab = Lab()
    n = two_tier(lab)
    idle = lab.instance(n["web_sn"], "10.0.1.99")
    trace, _ = bidir(lab, n["web"], "10.0.2.20", port=5432)
    c = FlowLogCollector(compile_network(lab.net), start=T0, end=T0 + 180)
    c.observe(trace, 5, 500, T0 + 70, T0 + 75)
    recs = _records(c, n["web_sn"].id, interval=60, fields=tuple(SEED_FIELDS))
    idle_eni = lab.eni_of(idle).id
    nodata = [r for r in recs if r["log-status"] == "NODATA"]
    # Three windows; the idle ENI has none, the web server is idle in the first and last.
    assert Counter(r["interface-id"] for r in nodata) == {idle_eni: 3,
                                                         lab.eni_of(n["web"]).id: 2}
    line = format_record(nodata[0], parse_log_format(SEED_FORMAT))
    first = nodata[0]
    assert first["start"] == T0 and first["end"] == T0 + 59 and first["action"] is None
    # Only version, account, interface, start, end and status are filled (FORMAT.md §5).
    assert line.split().count("-") == 29 - 6
    assert "NODATA" in line


def test_traffic_type_filter_and_resource_scopes() -> None:
    lab = Lab()
    n = two_tier(lab)
    fp = compile_network(lab.net)
    c = FlowLogCollector(fp)
    for port in (5432, 22):
        _, traces = trace_request(fp, n["web"].id, "10.0.2.20", None, "tcp", 40000, port,
                                  bidirectional=True)
        c.observe(traces[0], 3, 180, T0, T0 + 1, SYN)
    db = lab.eni_of(n["db"]).id
    web = lab.eni_of(n["web"]).id
    assert {r["dstport"] for r in _records(c, db, traffic_type="REJECT")} == {22}
    assert {r["dstport"] for r in _records(c, db, traffic_type="ACCEPT")} == {5432}
    assert {r["action"] for r in _records(c, web)} == {"ACCEPT"}
    assert {r["interface-id"] for r in _records(c, n["db_sn"].id)} == {db}
    assert {r["interface-id"] for r in _records(c, n["vpc"].id)} == {db, web}
    with pytest.raises(SubscriptionError):
        Subscription(n["vpc"].id, interval=300)
    with pytest.raises(SubscriptionError):
        Subscription(n["vpc"].id, traffic_type="SOME")


def test_skipdata_when_an_eni_has_more_flows_than_capacity() -> None:
    lab = Lab()
    n = two_tier(lab)
    fp = compile_network(lab.net)
    c = FlowLogCollector(fp)
    for sport in range(40000, 40005):
        _, traces = trace_request(fp, n["web"].id, "10.0.2.20", None, "tcp", sport, 5432)
        c.observe(traces[0], 1, 60, T0 + sport - 40000, T0 + sport - 40000, SYN)
    web = lab.eni_of(n["web"]).id
    recs = _records(c, web, interval=60, max_flows=3)
    assert [r["log-status"] for r in recs] == ["OK", "OK", "OK", "SKIPDATA"]
    assert recs[-1]["srcaddr"] is None and recs[-1]["interface-id"] == web


def test_transit_gateway_records_use_the_tgw_format() -> None:
    lab = Lab()
    a, b = lab.vpc("10.0.0.0/16"), lab.vpc("10.1.0.0/16")
    sa, sb = lab.subnet(a, "10.0.1.0/24"), lab.subnet(b, "10.1.1.0/24")
    tgw = lab.tgw()
    table = lab.tgw_table(tgw)
    att_a = lab.attach(tgw, a, [sa], table, propagate_to=[table])
    lab.attach(tgw, b, [sb], table, propagate_to=[table])
    lab.route(lab.main_table(a), "10.0.0.0/8", TargetType.TRANSIT_GATEWAY, tgw.id)
    x = lab.instance(sa, "10.0.1.5")
    fp = compile_network(lab.net)
    c = FlowLogCollector(fp)
    _, traces = trace_request(fp, x.id, "10.9.9.9", None, "tcp", 40000, 80)  # no route
    c.observe(traces[0], 4, 240, T0, T0 + 3, SYN)
    sub = Subscription(tgw.id, interval=600)
    assert sub.interval == 60 and sub.fields[1] == "resource-type"
    recs = list(c.records(sub))
    ok = _ok(recs)
    assert [(r["tgw-attachment-id"], r["packets-lost-no-route"], r["resource-type"])
            for r in ok] == [(att_a.id, 4, "TransitGateway")]
    line = format_record(ok[0], sub.fields).split()
    assert len(line) == 36 and line[0] == "6"
    assert [r["log-status"] for r in recs if r["log-status"] != "OK"] == ["NODATA"]


def test_the_seed_all_fields_format_renders_every_field() -> None:
    lab = Lab()
    n = two_tier(lab)
    trace, _ = bidir(lab, n["web"], "10.0.2.20", port=5432)
    c = FlowLogCollector(compile_network(lab.net))
    c.observe(trace, 2, 120, T0, T0 + 1, SYN)
    fields = parse_log_format(SEED_FORMAT)
    rec = _ok(_records(c, lab.eni_of(n["web"]).id, interval=60, fields=tuple(fields)))[0]
    values = dict(zip(fields, format_record(rec, fields).split(" "), strict=True))
    assert values["version"] == "5"
    assert values["vpc-id"] == n["vpc"].id and values["subnet-id"] == n["web_sn"].id
    assert values["instance-id"] == n["web"].id and values["type"] == "IPv4"
    assert values["az-id"] == "use1-az6" and values["region"] == "us-east-1"
    assert values["flow-direction"] == "egress" and values["traffic-path"] == "1"
    assert values["tcp-flags"] == "2" and values["log-status"] == "OK"
    assert (values["sublocation-type"], values["pkt-dst-aws-service"]) == ("-", "-")


def test_a_shared_trace_replayed_for_another_port_gives_that_port() -> None:
    """The runner traces once per class of client ports; the records carry the real port
    and the same verdicts as tracing that port itself."""
    lab = Lab()
    n = two_tier(lab)
    lab.nacl(n["vpc"], [n["db_sn"]], [(100, "6", "allow", False, "0.0.0.0/0", 5432, 5432),
                                      (100, "6", "allow", True, "0.0.0.0/0", 32768, 61000)])
    fp = compile_network(lab.net)
    runner = TrafficRunner(fp)
    src = Endpoint(lab.eni_of(n["web"]).id)
    stats = RunStats()
    ports = [40000, 40001, 50000, 62000, 62001, 1024]
    for k, sport in enumerate(ports):
        runner.play(Connection(T0 + k, src, n["db"].network_interface_ids and
                               lab.eni_of(n["db"]).private_ips[0].address, Port(6, 5432),
                               sport, 3, 300, 2, 200, 0.5, "handshake"), stats)
    assert runner.traced == 3  # 32768-61000, above 61000, and 1024 traced exactly
    exact = FlowLogCollector(fp)
    for k, sport in enumerate(ports):
        _, traces = trace_request(fp, src.node, "10.0.2.20", None, "tcp", sport, 5432,
                                  bidirectional=True)
        exact.observe(traces[0], 3, 300, T0 + k, T0 + k + 0.5, SYN | FIN)
        if traces[0].return_trace is not None:
            exact.observe(traces[0].return_trace, 2, 200, T0 + k, T0 + k + 0.5, 18 | FIN)

    def rows(c: FlowLogCollector) -> list[tuple[Any, ...]]:
        return sorted((r["interface-id"], r["flow-direction"], r["srcport"], r["dstport"],
                       r["action"], r["packets"], r["tcp-flags"])
                      for r in _ok(_records(c, n["vpc"].id, interval=60)))

    assert rows(runner.collector) == rows(exact)
    assert ("REJECT" in {r[4] for r in rows(exact)})


# ---------------------------------------------------------------------------- property
def _lab_network() -> tuple[Lab, dict[str, Any]]:
    lab = Lab()
    n = two_tier(lab)
    igw = lab.igw(n["vpc"])
    rt = lab.route_table(n["vpc"], [n["web_sn"]])
    lab.route(rt, "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    lab.eni_of(n["web"]).private_ips[0].public_ip = __import__("ipaddress").ip_address(
        "198.51.100.10")
    lab.nacl(n["vpc"], [n["db_sn"]], [(90, "6", "deny", False, "10.0.1.128/25", 0, 65535),
                                      (100, "-1", "allow", False, "0.0.0.0/0", None, None),
                                      (100, "6", "allow", True, "0.0.0.0/0", 1024, 50000),
                                      (110, "17", "allow", True, "0.0.0.0/0", 0, 65535)])
    lab.instance(n["web_sn"], "10.0.1.200", sgs=[n["web_sg"]])
    return lab, n


LAB, NET = _lab_network()
FP = compile_network(LAB.net)
STARTS = sorted([*LAB.net.instances, "internet"])
DSTS = ["10.0.1.10", "10.0.2.20", "10.0.1.200", "198.51.100.10", "8.8.8.8", "10.0.2.99"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from(STARTS), dst=st.sampled_from(DSTS),
       proto=st.sampled_from(["tcp", "udp", "icmp"]), sport=st.integers(1025, 65535),
       dport=st.sampled_from([22, 443, 5432, 53]))
def test_records_agree_with_the_trace_verdicts(start: str, dst: str, proto: str, sport: int,
                                               dport: int) -> None:
    src = "203.0.113.7" if start == "internet" else None
    _, traces = trace_request(FP, start, dst, src, proto, sport, dport, bidirectional=True)
    trace = traces[0]
    c = FlowLogCollector(FP)
    c.observe(trace, 3, 300, T0, T0 + 2, SYN)
    if trace.return_trace is not None:
        c.observe(trace.return_trace, 2, 200, T0, T0 + 2, 18)
    recs = _ok(_records(c, NET["vpc"].id, interval=60))
    got = Counter((r["interface-id"], r["flow-direction"], r["action"]) for r in recs)
    want: Counter[tuple[str, str, str]] = Counter()
    for t in (trace, trace.return_trace):
        for x in t.crossings if t is not None else []:
            if not x.tgw_id:
                want[(x.point, x.direction, x.action)] += 1
    assert got == want
    # The verdict semantics: a REJECT is always the last ENI of its direction, decided by
    # that ENI's security group or its subnet's ACL; everything before it was accepted.
    for t in (trace, trace.return_trace):
        if t is None:
            continue
        actions = [x.action for x in t.crossings]
        if "REJECT" in actions:
            assert actions.index("REJECT") == len(actions) - 1
            assert t.hops[-1].code in ("ENI_SG_RULES_MISMATCH", "SUBNET_ACL_RESTRICTION")
        elif t.hops[-1].code in ("ENI_SG_RULES_MISMATCH", "SUBNET_ACL_RESTRICTION"):
            # A filter drop no ENI logs: only an ACL guarding an address nobody owns.
            assert t.final_flow is not None
            assert FP.owner(NET["vpc"].id, t.final_flow.dst_ip) is None, t.to_json()
    for r in recs:
        assert r["packets"] in (2, 3)
        assert r["srcaddr"] is not None and r["dstaddr"] is not None
