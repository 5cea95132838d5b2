"""The bundled AWS ip-ranges snapshot and the lookups on it (facts checked against the data)."""

from __future__ import annotations

import ipaddress
from importlib import resources

import pytest

from localvpc.model import aws_prefixes as ap


def _net(text: str) -> ap.IPNetwork:
    return ipaddress.ip_network(text)


def test_header_names_source_and_date() -> None:
    text = (resources.files("localvpc") / "data" / "aws-ip-ranges.csv").read_text("utf-8")
    first, second = text.split("\n", 2)[:2]
    assert first.startswith("# source: AWS ip-ranges.json")
    assert "https://ip-ranges.amazonaws.com/ip-ranges.json" in first
    assert "createDate 2020-12-14-18-11-17" in first
    assert "syncToken 1607969477" in first
    assert "Batfish" in first and "Apache-2.0" in first
    assert second == "ip_prefix,region,service,network_border_group"
    assert ap.data_source() == first[2:]


def test_every_row_parses() -> None:
    records = ap.aws_prefix_records()
    assert len(records) == 4423
    assert sum(r.prefix.version == 4 for r in records) == 3613
    assert sum(r.prefix.version == 6 for r in records) == 810
    assert len(set(records)) == len(records)
    for r in records:
        assert r.prefix == ipaddress.ip_network(str(r.prefix))  # canonical network form
        assert r.region and r.service and r.network_border_group
        assert r.service == r.service.upper()
    # Rows are sorted by family, then address, then prefix length.
    keys = [(r.prefix.version, int(r.prefix.network_address), r.prefix.prefixlen) for r in records]
    assert keys == sorted(keys)


def test_aws_prefixes_counts_and_order() -> None:
    prefixes = ap.aws_prefixes()
    assert len(prefixes) == len(set(prefixes)) == 2696 + 502
    assert len(ap.aws_prefixes(4)) == 2696
    assert len(ap.aws_prefixes(6)) == 502
    assert prefixes[0].version == 4 and prefixes[-1].version == 6
    # Callers get a copy; mutating it doesn't change later answers.
    prefixes.clear()
    assert len(ap.aws_prefixes()) == 3198


def test_dynamodb_china_prefix_is_a_service_prefix() -> None:
    # The data lists 54.222.57.0/24 (cn-north-1) under AMAZON and DYNAMODB only.
    rows = [r for r in ap.aws_prefix_records() if r.prefix == _net("54.222.57.0/24")]
    assert {(r.service, r.region) for r in rows} == {
        ("AMAZON", "cn-north-1"),
        ("DYNAMODB", "cn-north-1"),
    }
    assert _net("54.222.57.0/24") in ap.aws_service_prefixes()
    assert ap.is_aws_service_address("54.222.57.1")
    assert ap.service_of("54.222.57.1") == "DYNAMODB"
    assert ap.region_of("54.222.57.1") == "cn-north-1"


def test_s3_address() -> None:
    # 52.216.0.0/15 is listed under AMAZON and S3 in us-east-1.
    assert ap.service_of("52.216.237.77") == "S3"
    assert ap.service_of(ipaddress.ip_address("52.216.237.77")) == "S3"
    assert ap.region_of("52.216.237.77") == "us-east-1"
    assert ap.is_aws_service_address("52.216.237.77")
    assert ap.services_of("52.216.237.77") == ["AMAZON", "S3"]


def test_non_aws_address() -> None:
    assert ap.service_of("8.8.8.8") is None
    assert ap.region_of("8.8.8.8") is None
    assert ap.services_of("8.8.8.8") == []
    assert not ap.is_aws_address("8.8.8.8")
    assert not ap.is_aws_service_address("8.8.8.8")
    assert ap.service_of("2001:4860:4860::8888") is None


def test_exclusively_ec2_prefix_is_aws_but_not_service() -> None:
    # 54.184.0.0/13 (us-west-2) is listed under AMAZON and EC2 and nothing else.
    ec2 = _net("54.184.0.0/13")
    assert {r.service for r in ap.aws_prefix_records() if r.prefix == ec2} == {"AMAZON", "EC2"}
    assert ec2 in ap.aws_prefixes()
    assert ec2 not in ap.aws_service_prefixes()
    assert ap.service_of("54.191.107.23") == "EC2"
    assert ap.region_of("54.191.107.23") == "us-west-2"
    assert ap.is_aws_address("54.191.107.23")
    assert not ap.is_aws_service_address("54.191.107.23")


def test_service_prefix_rule_holds_for_every_prefix() -> None:
    services: dict[ap.IPNetwork, set[str]] = {}
    for r in ap.aws_prefix_records():
        services.setdefault(r.prefix, set()).add(r.service)
    expected = {
        p
        for p, names in services.items()
        if "AMAZON" in names and not ("EC2" in names and names <= {"AMAZON", "EC2"})
    }
    got = ap.aws_service_prefixes()
    assert set(got) == expected
    assert len(got) == len(expected) == 2800 - 723
    assert set(ap.aws_service_prefixes(4)) | set(ap.aws_service_prefixes(6)) == expected


def test_amazon_only_address() -> None:
    # 52.93.178.234/32 (us-west-1) is listed under AMAZON only.
    assert ap.service_of("52.93.178.234") == "AMAZON"
    assert ap.region_of("52.93.178.234") == "us-west-1"


def test_most_specific_service_wins() -> None:
    # 13.32.0.0/15 is CLOUDFRONT; nothing more specific covers 13.32.1.1.
    assert ap.service_of("13.32.1.1") == "CLOUDFRONT"
    assert ap.region_of("13.32.1.1") == "GLOBAL"
    # 3.218.180.0/25 (DYNAMODB) sits inside 3.218.180.0/22 (DYNAMODB) and 3.208.0.0/12
    # (AMAZON, EC2): the /25 decides.
    assert ap.services_of("3.218.180.1")[:1] == ["DYNAMODB"]
    assert ap.service_of("3.218.180.1") == "DYNAMODB"
    assert "EC2" in ap.services_of("3.218.180.1")


def test_ipv6_lookup() -> None:
    # 2600:1f14::/35 is AMAZON + EC2 (us-west-2); 2600:1f14:fff:f800::/53 inside it is
    # ROUTE53_HEALTHCHECKS.
    assert ap.service_of("2600:1f14::1") == "EC2"
    assert ap.region_of("2600:1f14::1") == "us-west-2"
    assert ap.service_of("2600:1f14:fff:f800::1") == "ROUTE53_HEALTHCHECKS"


def test_bad_address_raises() -> None:
    with pytest.raises(ValueError):
        ap.service_of("not-an-ip")
