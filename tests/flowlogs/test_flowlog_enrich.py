"""The article's enricher as a vectorised transform: fields, lookups, scoping."""

from __future__ import annotations

import pyarrow as pa
from flowlog_testnet import ACCOUNT, small_network

from localvpc.flowlogs.enrich import DST_FIELDS, enrich_records, enrich_table
from localvpc.flowlogs.format import SEED_FIELDS


def _rec(**over: object) -> dict[str, object]:
    base: dict[str, object] = {f: None for f in SEED_FIELDS}
    base.update({"account-id": ACCOUNT, "action": "ACCEPT", "az-id": "use1-az1",
                 "bytes": 7251, "dstaddr": "10.0.2.20", "srcaddr": "10.0.1.10",
                 "instance-id": "i-web", "interface-id": "eni-web0", "log-status": "OK",
                 "region": "us-east-1", "vpc-id": "vpc-a", "version": 5,
                 "flow-direction": "egress", "packets": 25, "protocol": 6})
    base.update(over)
    return base


def test_article_sample_record_fields() -> None:
    (out,) = enrich_records([_rec()], small_network())
    added = [k for k in out if k not in SEED_FIELDS]
    assert added == ["src-tag-Name", "src-tag-project", "src-tag-team", "dst-tag-Name",
                     "dst-tag-team", *DST_FIELDS]
    assert out["src-tag-project"] == "Log Analytics" and out["src-tag-Name"] == "web-1"
    assert out["dst-tag-Name"] == "db-1" and out["dst-tag-team"] == "Data"
    assert out["dst-vpc-id"] == "vpc-a" and out["dst-subnet-id"] == "subnet-a2"
    assert out["dst-az-id"] == "us-east-1b"  # the zone NAME, as the Lambda writes it
    assert out["dst-instance-id"] == "i-db" and out["dst-interface-id"] == "eni-db0"
    # Original fields untouched.
    assert {k: out[k] for k in SEED_FIELDS} == _rec()


def test_address_on_second_eni_gives_the_instance_first_eni() -> None:
    (out,) = enrich_records([_rec(dstaddr="10.0.2.21")], small_network())
    assert out["dst-instance-id"] == "i-db" and out["dst-interface-id"] == "eni-db0"


def test_lookups_honour_vpc_and_account() -> None:
    net = small_network()
    recs = [
        _rec(),                                   # vpc-a record: vpc-a's 10.0.2.20
        _rec(**{"vpc-id": "vpc-b", "instance-id": "i-bdb", "dstaddr": "10.0.2.20"}),
        _rec(dstaddr="10.0.1.10"),                # ACCOUNT's web, not OTHER's
        _rec(**{"account-id": "999999999999"}),   # unknown account: nothing found
        _rec(dstaddr="52.95.128.179"),            # public address: no dst keys
        _rec(dstaddr="10.0.1.30"),                # untagged instance: no dst keys
        _rec(**{"instance-id": None, "dstaddr": None}),  # '-' fields: no lookups at all
    ]
    out = enrich_records(recs, net)
    assert out[0]["dst-instance-id"] == "i-db"
    assert out[1]["dst-instance-id"] == "i-bdb" and out[1]["src-tag-Name"] == "b-db"
    assert out[2]["dst-instance-id"] == "i-web" and out[2]["dst-tag-Name"] == "web-1"
    for rec in out[3:]:
        assert not any(k.startswith("dst-") for k in rec), rec
    assert "src-tag-Name" not in out[3]
    assert out[4]["src-tag-Name"] == "web-1"
    assert not any(k.startswith("src-") for k in out[6])


def test_table_keeps_order_and_types_and_needs_no_vpc_column() -> None:
    net = small_network()
    table = pa.table({"instance-id": ["i-db", "-", "i-web"] * 2,
                      "dstaddr": ["10.0.1.10", "10.0.2.20", "10.0.9.9"] * 2,
                      "bytes": pa.array([1, 2, 3, 4, 5, 6], pa.int64())})
    out = enrich_table(table, net, account=ACCOUNT, region="us-east-1")
    assert out.column("bytes").to_pylist() == [1, 2, 3, 4, 5, 6]
    assert out.column("src-tag-Name").to_pylist() == ["db-1", None, "web-1"] * 2
    # Without a vpc-id column, 10.0.2.20 is ambiguous within the account; the smallest VPC
    # id wins (vpc-a).
    assert out.column("dst-instance-id").to_pylist() == ["i-web", "i-db", None] * 2
    # New columns are dictionary-encoded strings (values: the network's instances).
    assert out.schema.field("dst-vpc-id").type == pa.dictionary(pa.int32(), pa.string())
    # Dictionary-encoded input (as a CSV reader produces it) gives the same answers.
    encoded = pa.table({"instance-id": table.column("instance-id").dictionary_encode(),
                        "dstaddr": table.column("dstaddr").dictionary_encode(),
                        "bytes": table.column("bytes")})
    again = enrich_table(encoded, net, account=ACCOUNT, region="us-east-1")
    assert again.to_pylist() == out.to_pylist()
