"""The Python API behind ``POST /_localvpc/traffic`` (records per subscription), the built-in
enricher's Lambda record contract, and reject-reason BPA."""

from __future__ import annotations

import base64
import json
import threading
from contextlib import AbstractContextManager
from typing import Any

from flowlog_lab import Lab, TargetType, two_tier

from localvpc.dataplane import compile_network
from localvpc.flowlogs.enrich import enrich_records
from localvpc.flowlogs.enricher_lambda import ENRICHER_NAME, make_enricher
from localvpc.flowlogs.format import SEED_FIELDS, format_record
from localvpc.flowlogs.live import run_for_subscriptions
from localvpc.flowlogs.records import Subscription
from localvpc.model.public_access import (
    BlockMode,
    VpcBlockPublicAccessOptions,
    options_id,
)

SPEC = """
seed: 3
start: 2024-06-01T00:00:00Z
duration: 10m
flows:
  - {from: WEB, to: DB, port: 5432, count: 4, every: 2m, tcp_flags: handshake}
  - {from: WEB, to: DB, port: 22, count: 2, every: 3m}
"""


def _spec(net: dict[str, Any], lab: Lab) -> str:
    web = lab.eni_of(net["web"]).id
    return SPEC.replace("WEB", web).replace("DB", "10.0.2.20")


def test_records_per_subscription_follow_the_spec_and_the_verdicts() -> None:
    lab = Lab()
    net = two_tier(lab)
    web, db = lab.eni_of(net["web"]).id, lab.eni_of(net["db"]).id
    idle = lab.eni(net["web_sn"], "10.0.1.99").id
    entered: list[int] = []
    lock = threading.RLock()

    def guard() -> AbstractContextManager[Any]:
        entered.append(1)
        return lock

    subs = [Subscription(net["vpc"].id, interval=60),
            Subscription(db, traffic_type="REJECT", interval=600),
            Subscription(idle, interval=600)]
    run = run_for_subscriptions(lambda: compile_network(lab.net), _spec(net, lab), subs,
                                guard=guard)
    assert entered, "the plane is used under the guard"
    assert run.stats.connections == 6 and run.stats.accepted == 4 and run.stats.rejected == 2
    vpc_recs, db_rejects, idle_recs = run.records
    ok = [r for r in vpc_recs if r["log-status"] == "OK"]
    # 5432: 4 connections x (web egress, db ingress, db egress reply, web ingress reply).
    pg = [r for r in ok if 5432 in (r["dstport"], r["srcport"])]
    assert len(pg) == 16 and {r["action"] for r in pg} == {"ACCEPT"}
    # 22 is rejected by the db's security group: ACCEPT leaving web, REJECT at db only.
    ssh = [(r["interface-id"], r["flow-direction"], r["action"]) for r in ok
           if r["dstport"] == 22]
    assert sorted(ssh) == sorted([(web, "egress", "ACCEPT")] * 2 + [(db, "ingress", "REJECT")] * 2)
    # Two connections, two client ports: two records.
    assert [r["action"] for r in db_rejects if r["log-status"] == "OK"] == ["REJECT"] * 2
    assert all(r["interface-id"] == db for r in db_rejects)
    assert {r["log-status"] for r in idle_recs} == {"NODATA"}
    assert len(idle_recs) == 1  # one 600-s window covers the 10-minute run

    # ``start`` moves the whole run.
    later = run_for_subscriptions(compile_network(lab.net), _spec(net, lab), subs[:1],
                                  start=1_800_000_000)
    assert min(r["start"] for r in later.records[0]) >= 1_800_000_000


def _event(lines: list[str]) -> dict[str, Any]:
    return {"invocationId": "x", "region": "us-east-1",
            "deliveryStreamArn": "arn:aws:firehose:us-east-1:111111111111:deliverystream/s",
            "records": [{"recordId": f"r{i}", "approximateArrivalTimestamp": 0,
                         "data": base64.b64encode(json.dumps({"message": line}).encode())
                         .decode()} for i, line in enumerate(lines)]}


def test_enricher_handler_keeps_the_lambda_contract() -> None:
    lab = Lab()
    net = two_tier(lab)
    for inst in (net["web"], net["db"]):
        inst.account = net["vpc"].account  # the lab leaves instances in the default account
    net["web"].tags.update({"Name": "web-1", "project": "Log Analytics"})
    net["db"].tags.update({"Name": "db-1", "team": "Engineering"})
    subs = [Subscription(net["vpc"].id, interval=60, fields=SEED_FIELDS)]
    run = run_for_subscriptions(compile_network(lab.net), _spec(net, lab), subs)
    records = [r for r in run.records[0] if r["log-status"] == "OK"]
    lines = [format_record(r, list(SEED_FIELDS)) for r in records]
    handler = make_enricher(lambda rows: enrich_records(rows, lab.net))
    answer = handler(_event([*lines, "not a flow log"]), None)
    out = answer["records"]
    assert [o["recordId"] for o in out] == [f"r{i}" for i in range(len(lines) + 1)]
    assert [o["result"] for o in out] == ["Ok"] * len(lines) + ["ProcessingFailed"]
    assert out[-1]["data"] == _event(["not a flow log"])["records"][0]["data"]
    docs = [base64.b64decode(o["data"]).decode() for o in out[:-1]]
    assert all(d.endswith("\n") and d.count("\n") == 1 for d in docs)
    parsed = [json.loads(d) for d in docs]
    for doc, line in zip(parsed, lines, strict=True):
        assert list(doc)[:29] == list(SEED_FIELDS)  # the article's order, then the extras
        assert " ".join(doc[f] for f in SEED_FIELDS) == line  # values stay strings
    to_db = [d for d in parsed if d["dstaddr"] == "10.0.2.20"]
    assert to_db and all(d["dst-tag-Name"] == "db-1" and d["dst-az-id"] == "us-east-1b"
                         and d["dst-instance-id"] == net["db"].id for d in to_db)
    from_web = [d for d in parsed if d["instance-id"] == net["web"].id]
    assert from_web and all(d["src-tag-project"] == "Log Analytics" for d in from_web)
    assert ENRICHER_NAME == "localvpc-flowlogs-enricher"


def test_block_public_access_rejects_with_reason_bpa() -> None:
    lab = Lab()
    vpc = lab.vpc("10.0.0.0/16")
    sn = lab.subnet(vpc, "10.0.0.0/24")
    igw = lab.igw(vpc)
    lab.route(lab.main_table(vpc), "0.0.0.0/0", TargetType.INTERNET_GATEWAY, igw.id)
    sg = lab.sg(vpc, ingress=[("tcp", 443, 443, "0.0.0.0/0")])
    inst = lab.instance(sn, "10.0.0.10", sgs=[sg], public_ip="198.51.100.10")
    eni = lab.eni_of(inst).id
    spec = (f"duration: 1m\nflows:\n  - {{from: {eni}, to: 8.8.8.8, port: 443}}\n"
            "  - {from: internet, to: 198.51.100.10, port: 443}\n")
    fields = (*SEED_FIELDS, "reject-reason")
    sub = Subscription(eni, interval=60, fields=fields)
    before = run_for_subscriptions(compile_network(lab.net), spec, [sub]).records[0]
    assert {(r["flow-direction"], r["action"], r["reject-reason"]) for r in before
            if r["log-status"] == "OK"} == {("egress", "ACCEPT", None),
                                            ("ingress", "ACCEPT", None)}
    lab.net.add(VpcBlockPublicAccessOptions(
        options_id(vpc.account, vpc.region), vpc.account, vpc.region,
        internet_gateway_block_mode=BlockMode.BIDIRECTIONAL))
    after = run_for_subscriptions(compile_network(lab.net), spec, [sub]).records[0]
    seen = {(r["flow-direction"], r["dstaddr"], r["action"], r["reject-reason"])
            for r in after if r["log-status"] == "OK"}
    assert seen == {("egress", "8.8.8.8", "REJECT", "BPA"),
                    ("ingress", "10.0.0.10", "REJECT", "BPA")}
    assert format_record(next(r for r in after if r["log-status"] == "OK"),
                         list(fields)).endswith(" BPA")
