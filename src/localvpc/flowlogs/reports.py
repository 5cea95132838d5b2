"""Canned flow-log reports, each one SQL query over the ``awslogs`` view.

The questions users ask first (who talks most, what is rejected, which tagged workloads move
bytes, what crosses zones or VPCs) as named queries, so they need not rewrite them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from localvpc.flowlogs.sql import FlowLogQueryError, Result, columns_of, connect, execute
from localvpc.model.catalog import Catalog

REPORTS: tuple[str, ...] = ("top-talkers", "rejected", "by-tag", "cross-zone", "cross-vpc")

# Records that carry traffic (NODATA/SKIPDATA lines have no addresses or counters).
_TRAFFIC = "coalesce(\"log-status\", 'OK') = 'OK'"


def _zone_table(con: duckdb.DuckDBPyConnection) -> None:
    """``_zones(name, zone_id)`` from the zone catalogue: the enricher writes the destination
    zone *name* (as AWS's Lambda does) while flow logs carry zone *ids*."""
    catalog = Catalog.from_package()
    rows = [(z.name, z.zone_id) for r in catalog.regions() for z in catalog.zones(r)]
    con.execute("CREATE OR REPLACE TEMP TABLE _zones(name VARCHAR, zone_id VARCHAR)")
    if rows:
        con.executemany("INSERT INTO _zones VALUES (?, ?)", rows)


def _require(con: duckdb.DuckDBPyConnection, needed: list[str], report: str) -> None:
    have = set(columns_of(con))
    missing = [c for c in needed if c not in have]
    if missing:
        hint = " (enrich the records first)" if any(c.startswith(("dst-", "src-tag-"))
                                                    for c in missing) else ""
        raise FlowLogQueryError(
            f"report {report} needs column(s) {', '.join(missing)} the data does not have{hint}")


def report_sql(name: str, tag: str = "Name", limit: int = 20) -> tuple[str, list[str]]:
    """The SQL of a report and the columns it needs."""
    if name == "top-talkers":
        return (f'SELECT srcaddr, dstaddr, sum(bytes) AS bytes, sum(packets) AS packets, '
                f'count(*) AS records FROM awslogs WHERE {_TRAFFIC} '
                f'GROUP BY srcaddr, dstaddr ORDER BY bytes DESC NULLS LAST, srcaddr, dstaddr '
                f'LIMIT {limit}', ["srcaddr", "dstaddr", "bytes", "packets"])
    if name == "rejected":
        return ('SELECT srcaddr, dstaddr, dstport, protocol, count(*) AS records, '
                'sum(packets) AS packets FROM awslogs WHERE action = \'REJECT\' '
                'GROUP BY srcaddr, dstaddr, dstport, protocol '
                'ORDER BY records DESC, srcaddr, dstaddr, dstport '
                f'LIMIT {limit}', ["srcaddr", "dstaddr", "dstport", "protocol", "action",
                                   "packets"])
    if name == "by-tag":
        src, dst = f"src-tag-{tag}", f"dst-tag-{tag}"
        qs, qd = '"' + src.replace('"', '""') + '"', '"' + dst.replace('"', '""') + '"'
        return (f'SELECT {qs} AS "source {tag}", {qd} AS "destination {tag}", '
                f'sum(bytes) AS bytes, count(*) AS records FROM awslogs WHERE {_TRAFFIC} '
                f'AND ({qs} IS NOT NULL OR {qd} IS NOT NULL) GROUP BY 1, 2 '
                f'ORDER BY bytes DESC NULLS LAST, 1, 2 LIMIT {limit}', [src, dst, "bytes"])
    if name == "cross-zone":
        # Egress records only: each flow is seen leaving its source ENI once; the ingress
        # copy at the destination is enriched with its own zone and would not differ.
        return ('SELECT l."az-id" AS "az-id", coalesce(z.zone_id, l."dst-az-id") AS '
                '"dst-az-id", l."dst-az-id" AS "dst-zone-name", sum(l.bytes) AS bytes, '
                'count(*) AS records FROM awslogs l LEFT JOIN _zones z '
                'ON z.name = l."dst-az-id" WHERE l."dst-az-id" IS NOT NULL '
                'AND coalesce(l."flow-direction", \'egress\') = \'egress\' '
                'AND coalesce(z.zone_id, l."dst-az-id") <> l."az-id" '
                'GROUP BY 1, 2, 3 ORDER BY bytes DESC NULLS LAST, 1, 2 '
                f'LIMIT {limit}', ["az-id", "dst-az-id", "bytes"])
    if name == "cross-vpc":
        return ('SELECT "vpc-id", "dst-vpc-id", sum(bytes) AS bytes, count(*) AS records '
                'FROM awslogs WHERE "dst-vpc-id" IS NOT NULL AND "vpc-id" <> "dst-vpc-id" '
                'AND coalesce("flow-direction", \'egress\') = \'egress\' '
                'GROUP BY 1, 2 ORDER BY bytes DESC NULLS LAST, 1, 2 '
                f'LIMIT {limit}', ["vpc-id", "dst-vpc-id", "bytes"])
    raise FlowLogQueryError(f"unknown report {name!r}; one of {', '.join(REPORTS)}")


def run_report(name: str, data: str | Path | None, tag: str = "Name",
               limit: int = 20) -> Result:
    """Run a canned report over the flow logs below ``data``."""
    sql, needed = report_sql(name, tag, limit)
    con = connect(data)
    _require(con, needed, name)
    if name == "cross-zone":
        _zone_table(con)
    return execute(con, sql)

