"""DuckDB view ``awslogs``: the seed's three Athena queries as printed, partitions, reports."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from flowlog_testnet import ACCOUNT, small_network

from localvpc.flowlogs.columnar import write_parquet
from localvpc.flowlogs.enrich import enrich_records, enrich_table
from localvpc.flowlogs.format import SEED_FIELDS, format_record, header_line
from localvpc.flowlogs.reports import run_report
from localvpc.flowlogs.sql import FlowLogQueryError, run_query

SEED_QUERIES = [
    "Select * from awslogs where \"dst-az-id\"='us-east-1a'",
    "Select * from awslogs where \"src-tag-project\"='Log Analytics' or "
    "\"dst-tag-team\"='Engineering' ",
    "Select \"srcaddr\", \"srcport\", \"dstaddr\", \"dstport\", \"region\", \"az-id\", "
    "\"dst-az-id\", \"flow-direction\" from awslogs where \"az-id\"='use1-az2' and "
    "\"dst-az-id\"='us-east-1a'",
]


def traffic() -> list[dict[str, object]]:
    """web (us-east-1a, use1-az6 in the catalogue) talking to db (us-east-1b) and back."""
    out = []
    for i in range(6):
        egress = i % 2 == 0
        out.append({f: None for f in SEED_FIELDS} | {
            "account-id": ACCOUNT, "action": "REJECT" if i == 4 else "ACCEPT",
            "az-id": "use1-az6" if egress else "use1-az1", "bytes": 1000 * (i + 1),
            "dstaddr": "10.0.2.20" if egress else "10.0.1.10", "dstport": 5432 if egress else 0,
            "end": 1700000060, "flow-direction": "egress" if egress else "ingress",
            "instance-id": "i-web" if egress else "i-db", "interface-id": "eni-x",
            "log-status": "OK", "packets": 10, "protocol": 6, "region": "us-east-1",
            "srcaddr": "10.0.1.10" if egress else "10.0.2.20", "srcport": 40000 + i,
            "start": 1700000000, "subnet-id": "subnet-a1", "tcp-flags": 19, "type": "IPv4",
            "version": 5, "vpc-id": "vpc-a"})
    # The article's own example: an ingress record in zone id use1-az2 whose destination
    # instance is in the zone named us-east-1a.
    out.append(out[1] | {"az-id": "use1-az2", "srcport": 1, "bytes": 7251})
    return out


def firehose_tree(root: Path) -> list[dict[str, object]]:
    """What the article's pipeline leaves in S3: enriched NDJSON (all strings, '-' kept),
    gzip, under AWSLogs/year=/month=/day=/."""
    enriched = enrich_records(traffic(), small_network())
    day = root / "AWSLogs/year=2023/month=11/day=14"
    day.mkdir(parents=True)
    body = "".join(json.dumps({k: "-" if v is None else str(v) for k, v in r.items()}) + "\n"
                   for r in enriched)
    (day / "PUT-S3-Demo-1-2023-11-14-22-13-20-abcd").with_suffix(".gz").write_bytes(
        gzip.compress(body.encode()))
    return enriched


def test_seed_queries_run_as_printed(tmp_path: Path) -> None:
    enriched = firehose_tree(tmp_path)
    q1 = run_query(SEED_QUERIES[0], tmp_path).records()
    assert sorted(r["srcport"] for r in q1) == sorted(
        r["srcport"] for r in enriched if r.get("dst-az-id") == "us-east-1a")
    assert {r["dst-instance-id"] for r in q1} == {"i-web"}
    q2 = run_query(SEED_QUERIES[1], tmp_path).records()
    assert len(q2) == sum(r.get("src-tag-project") == "Log Analytics"
                          or r.get("dst-tag-team") == "Engineering" for r in enriched)
    q3 = run_query(SEED_QUERIES[2], tmp_path)
    assert q3.columns == ["srcaddr", "srcport", "dstaddr", "dstport", "region", "az-id",
                          "dst-az-id", "flow-direction"]
    assert q3.rows == [("10.0.2.20", 1, "10.0.1.10", 0, "us-east-1", "use1-az2",
                        "us-east-1a", "ingress")]
    parts = run_query("select distinct year, month, day, \"dst-vpc-id\" from awslogs "
                      "where \"dst-vpc-id\" is not null", tmp_path).rows
    assert parts == [("2023", "11", "14", "vpc-a")]
    # Typed like the record shape; '-' became NULL.
    row = run_query("select bytes + 1, \"traffic-path\" from awslogs order by bytes limit 1",
                    tmp_path).rows
    assert row == [(1001, None)]


def test_text_and_parquet_layouts_union(tmp_path: Path) -> None:
    recs = traffic()
    fields = list(SEED_FIELDS)
    plain = tmp_path / "AWSLogs/111111111111/vpcflowlogs/us-east-1/2023/11/14/22"
    plain.mkdir(parents=True)
    (plain / "111111111111_vpcflowlogs_us-east-1_fl-1_20231114T2210Z_00000001.log.gz"
     ).write_bytes(gzip.compress(("\n".join([header_line(fields)] + [
         format_record(r, fields) for r in recs[:3]]) + "\n").encode()))
    hive = tmp_path / ("AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/"
                       "aws-region=us-east-1/year=2023/month=11/day=15/hour=01")
    table = pa.Table.from_pylist(recs[3:])
    aws_names = table.rename_columns([c.replace("-", "_") for c in table.column_names])
    write_parquet(aws_names, hive / "x_20231115T0100Z_00000002.log.parquet")
    res = run_query("select \"aws-account-id\", \"aws-region\", year, month, day, hour, "
                    "count(*), sum(bytes) from awslogs group by all order by day", tmp_path)
    assert res.rows == [
        ("111111111111", "us-east-1", "2023", "11", "14", "22", 3, 6000),
        ("111111111111", "us-east-1", "2023", "11", "15", "01", 4, 4000 + 5000 + 6000 + 7251),
    ]
    with pytest.raises(FlowLogQueryError):
        run_query("select \"no-such-column\" from awslogs", tmp_path)


def test_reports(tmp_path: Path) -> None:
    net = small_network()
    table = enrich_table(pa.Table.from_pylist(traffic()), net)
    write_parquet(table, tmp_path / "year=2023/month=11/day=14/part-0.parquet")
    top = run_report("top-talkers", tmp_path).records()
    assert [(t["srcaddr"], t["dstaddr"], t["bytes"]) for t in top] == [
        ("10.0.2.20", "10.0.1.10", 2000 + 4000 + 6000 + 7251),
        ("10.0.1.10", "10.0.2.20", 1000 + 3000 + 5000)]
    rejected = run_report("rejected", tmp_path).records()
    assert rejected == [{"srcaddr": "10.0.1.10", "dstaddr": "10.0.2.20", "dstport": 5432,
                         "protocol": 6, "records": 1, "packets": 10}]
    by_tag = run_report("by-tag", tmp_path, tag="Name").records()
    assert [(t["source Name"], t["destination Name"], t["bytes"]) for t in by_tag] == [
        ("db-1", "web-1", 19251), ("web-1", "db-1", 9000)]
    # web (use1-az6 = us-east-1a) -> db (us-east-1b = use1-az1): every egress record
    # crosses zones; ingress records (db's ENI) are not counted twice.
    zones = run_report("cross-zone", tmp_path).records()
    assert [(z["az-id"], z["dst-az-id"], z["bytes"]) for z in zones] == [
        ("use1-az6", "use1-az1", 9000)]
    assert run_report("cross-vpc", tmp_path).rows == []
    with pytest.raises(FlowLogQueryError, match="enrich"):
        run_report("by-tag", tmp_path, tag="Missing")


def test_cli_query_and_report(tmp_path: Path) -> None:
    firehose_tree(tmp_path)
    done = subprocess.run([sys.executable, "-m", "localvpc", "flowlogs", "query",
                           SEED_QUERIES[2], "--data", str(tmp_path), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in done.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["az-id"] == "use1-az2"
    done = subprocess.run([sys.executable, "-m", "localvpc", "flowlogs", "query",
                           "select nope from awslogs", "--data", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "nope" in done.stderr
