"""DescribeInstanceTypes: the network fields, filters, pagination and errors.

Expected values are those of the shipped data (``localvpc/data/instance-types.json``, from
moto 5.2.1's recording of the EC2 DescribeInstanceTypes API; see the data README). The
t3.medium record was checked by hand against that source.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server

#: t3.medium as the data source records it (moto 5.2.1, file date 2026-05-20).
T3_MEDIUM_NETWORK = {
    "NetworkPerformance": "Up to 5 Gigabit",
    "MaximumNetworkInterfaces": 3,
    "MaximumNetworkCards": 1,
    "DefaultNetworkCardIndex": 0,
    "NetworkCards": [{
        "NetworkCardIndex": 0,
        "NetworkPerformance": "Up to 5 Gigabit",
        "MaximumNetworkInterfaces": 3,
        "BaselineBandwidthInGbps": 0.256,
        "PeakBandwidthInGbps": 5.0,
    }],
    "Ipv4AddressesPerInterface": 6,
    "Ipv6AddressesPerInterface": 6,
    "Ipv6Supported": True,
    "EnaSupport": "required",
    "EfaSupported": False,
    "EncryptionInTransitSupported": False,
}

T3_ALL = ["t3.2xlarge", "t3.large", "t3.medium", "t3.micro", "t3.nano", "t3.small",
          "t3.xlarge"]


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def names(response: dict[str, Any]) -> list[str]:
    return sorted(t["InstanceType"] for t in response["InstanceTypes"])


def flt(**filters: list[str]) -> list[dict[str, Any]]:
    """``flt(instance_type=["t3.*"])`` -> EC2 filters (``_`` becomes ``-``, ``__`` ``.``)."""
    return [{"Name": k.replace("__", ".").replace("_", "-"), "Values": v}
            for k, v in filters.items()]


@pytest.fixture
def ec2(fresh: Server) -> Any:
    return fresh.client("ec2")


# ---------------------------------------------------------------------- one type


def test_t3_medium_network_fields(ec2: Any) -> None:
    r = ec2.describe_instance_types(InstanceTypes=["t3.medium"])
    assert r.get("NextToken") is None
    [t3] = r["InstanceTypes"]
    assert t3["InstanceType"] == "t3.medium"
    assert t3["CurrentGeneration"] is True
    assert t3["Hypervisor"] == "nitro"
    assert t3["ProcessorInfo"] == {"SupportedArchitectures": ["x86_64"]}
    assert t3["VCpuInfo"] == {"DefaultVCpus": 2}
    assert t3["MemoryInfo"] == {"SizeInMiB": 4096}
    assert t3["NetworkInfo"] == T3_MEDIUM_NETWORK
    assert "SupportedInRegion" not in t3


def test_several_types_and_the_cli_example_t2_micro(ec2: Any) -> None:
    r = ec2.describe_instance_types(InstanceTypes=["t2.micro", "p4d.24xlarge", "t2.micro"])
    by_name = {t["InstanceType"]: t for t in r["InstanceTypes"]}
    assert sorted(by_name) == ["p4d.24xlarge", "t2.micro"]
    # the AWS CLI documentation's describe-instance-types example shows these values
    t2 = by_name["t2.micro"]
    assert t2["Hypervisor"] == "xen"
    assert t2["ProcessorInfo"]["SupportedArchitectures"] == ["i386", "x86_64"]
    assert t2["VCpuInfo"]["DefaultVCpus"] == 1
    assert t2["MemoryInfo"]["SizeInMiB"] == 1024
    net = t2["NetworkInfo"]
    assert (net["NetworkPerformance"], net["MaximumNetworkInterfaces"],
            net["Ipv4AddressesPerInterface"], net["Ipv6AddressesPerInterface"],
            net["Ipv6Supported"], net["EnaSupport"]) == ("Low to Moderate", 2, 2, 2, True,
                                                          "unsupported")
    # several network cards
    p4d = by_name["p4d.24xlarge"]["NetworkInfo"]
    assert p4d["MaximumNetworkCards"] == 4
    assert p4d["MaximumNetworkInterfaces"] == 60
    assert [c["NetworkCardIndex"] for c in p4d["NetworkCards"]] == [0, 1, 2, 3]
    assert {c["MaximumNetworkInterfaces"] for c in p4d["NetworkCards"]} == {15}
    assert p4d["EfaSupported"] is True
    assert p4d["EncryptionInTransitSupported"] is True


def test_bare_metal_has_no_hypervisor(ec2: Any) -> None:
    [metal] = ec2.describe_instance_types(InstanceTypes=["c5n.metal"])["InstanceTypes"]
    assert "Hypervisor" not in metal
    assert metal["NetworkInfo"]["EfaSupported"] is True
    assert metal["CurrentGeneration"] is True


# ---------------------------------------------------------------------- filters


def test_instance_type_filter_wildcards(ec2: Any) -> None:
    assert names(ec2.describe_instance_types(Filters=flt(instance_type=["t3.*"]))) == T3_ALL
    assert names(ec2.describe_instance_types(
        Filters=flt(instance_type=["t3.?icro", "t3.nano"]))) == ["t3.micro", "t3.nano"]
    assert names(ec2.describe_instance_types(Filters=flt(instance_type=["t3"]))) == []


def test_network_filters(ec2: Any) -> None:
    def q(**filters: list[str]) -> list[str]:
        return names(ec2.describe_instance_types(Filters=flt(instance_type=["t3.*"],
                                                                **filters)))

    assert q(network_info__maximum_network_interfaces=["3"]) == ["t3.large", "t3.medium",
                                                                  "t3.small"]
    assert q(network_info__maximum_network_interfaces=["2", "4"]) == [
        "t3.2xlarge", "t3.micro", "t3.nano", "t3.xlarge"]
    assert q(network_info__ipv4_addresses_per_interface=["6"]) == ["t3.medium"]
    assert q(network_info__network_performance=["Up to 5 Gigabit"]) == T3_ALL
    assert q(network_info__network_performance=["Up to 5*"]) == T3_ALL
    assert q(network_info__ena_support=["required"]) == T3_ALL
    assert q(network_info__ena_support=["unsupported"]) == []
    assert q(network_info__ipv6_supported=["true"]) == T3_ALL
    assert q(network_info__efa_supported=["true"]) == []
    assert q(network_info__maximum_network_cards=["1"]) == T3_ALL
    assert q(network_info__encryption_in_transit_supported=["false"]) == T3_ALL

    t2 = names(ec2.describe_instance_types(
        Filters=flt(instance_type=["t2.*"], network_info__ena_support=["unsupported"])))
    assert "t2.micro" in t2
    assert names(ec2.describe_instance_types(
        Filters=flt(instance_type=["c5n.*"], network_info__efa_supported=["true"]))) == [
        "c5n.18xlarge", "c5n.9xlarge", "c5n.metal"]
    no_ipv6 = names(ec2.describe_instance_types(
        Filters=flt(network_info__ipv6_supported=["false"])))
    assert "m1.small" in no_ipv6 and "t3.medium" not in no_ipv6


def test_compute_filters(ec2: Any) -> None:
    assert names(ec2.describe_instance_types(Filters=flt(
        instance_type=["t3*.*", "t4g.*"], vcpu_info__default_vcpus=["2"],
        memory_info__size_in_mib=["4096"]))) == ["t3.medium", "t3a.medium", "t4g.medium"]
    assert names(ec2.describe_instance_types(Filters=flt(
        instance_type=["t3a.medium", "t4g.medium"],
        processor_info__supported_architecture=["arm64"]))) == ["t4g.medium"]
    assert names(ec2.describe_instance_types(Filters=flt(
        instance_type=["t2.micro", "t3.micro"],
        processor_info__supported_architecture=["i386"]))) == ["t2.micro"]
    old = names(ec2.describe_instance_types(Filters=flt(current_generation=["false"])))
    assert "m1.small" in old and not set(old) & set(T3_ALL)
    assert names(ec2.describe_instance_types(Filters=flt(
        instance_type=["t2.micro", "t3.micro"], hypervisor=["xen"]))) == ["t2.micro"]


def test_filter_with_instance_types(ec2: Any) -> None:
    r = ec2.describe_instance_types(InstanceTypes=["t3.medium", "t3.nano"],
                                    Filters=flt(network_info__maximum_network_interfaces=["3"]))
    assert names(r) == ["t3.medium"]


def test_bad_filters(ec2: Any) -> None:
    fails("InvalidParameterValue", ec2.describe_instance_types,
          Filters=flt(no_such_filter=["x"]))
    # documented by AWS, but its data is not shipped: refused rather than answered wrongly
    message = fails("InvalidParameterValue", ec2.describe_instance_types,
                    Filters=flt(bare_metal=["true"]))
    assert "bare-metal" in message and "network-info.ena-support" in message


# ---------------------------------------------------------------------- pagination


def test_pages(ec2: Any) -> None:
    first = ec2.describe_instance_types(Filters=flt(instance_type=["t3.*"]), MaxResults=5)
    assert len(first["InstanceTypes"]) == 5 and first["NextToken"]
    second = ec2.describe_instance_types(Filters=flt(instance_type=["t3.*"]), MaxResults=5,
                                         NextToken=first["NextToken"])
    assert second.get("NextToken") is None
    assert sorted(names(first) + names(second)) == T3_ALL
    fails("InvalidNextToken", ec2.describe_instance_types, MaxResults=5, NextToken="bad!")


def test_paginator_walks_the_region(ec2: Any) -> None:
    pages = list(ec2.get_paginator("describe_instance_types").paginate(
        PaginationConfig={"PageSize": 100}))
    assert all(len(p["InstanceTypes"]) <= 100 for p in pages)
    seen = [t["InstanceType"] for p in pages for t in p["InstanceTypes"]]
    assert len(seen) == len(set(seen)) == 1243  # us-east-1's list in the offerings data
    whole = ec2.describe_instance_types()
    assert whole.get("NextToken") is None and len(whole["InstanceTypes"]) == 1243


def test_max_results_bounds(fresh: Server) -> None:
    ec2 = boto3.client("ec2", endpoint_url=fresh.url, region_name="us-east-1",
                       aws_access_key_id="AKIDLOCALVPCTEST", aws_secret_access_key="secret",
                       config=Config(parameter_validation=False))
    fails("InvalidParameterValue", ec2.describe_instance_types, MaxResults=4)
    fails("InvalidParameterValue", ec2.describe_instance_types, MaxResults=101)
    assert len(ec2.describe_instance_types(MaxResults=100)["InstanceTypes"]) == 100


# ---------------------------------------------------------------------- errors, Regions


def test_unknown_instance_type(ec2: Any) -> None:
    # cc1.4xlarge is a valid InstanceType enum value that the data does not list
    message = fails("InvalidInstanceType", ec2.describe_instance_types,
                    InstanceTypes=["t3.medium", "cc1.4xlarge"])
    assert message == "The following supplied instance types do not exist: [cc1.4xlarge]"
    message = fails("InvalidInstanceType", ec2.describe_instance_types,
                    InstanceTypes=["cc1.4xlarge", "hi1.4xlarge"])
    assert message == ("The following supplied instance types do not exist: "
                       "[cc1.4xlarge, hi1.4xlarge]")


def test_types_not_offered_in_the_region(fresh: Server) -> None:
    use1, use2 = fresh.client("ec2"), fresh.client("ec2", region="us-east-2")
    # the offerings data lists trn2.48xlarge in us-east-2 but not in us-east-1
    message = fails("InvalidInstanceType", use1.describe_instance_types,
                    InstanceTypes=["trn2.48xlarge"])
    assert message == "The following supplied instance types do not exist: [trn2.48xlarge]"
    assert names(use2.describe_instance_types(InstanceTypes=["trn2.48xlarge"])) == [
        "trn2.48xlarge"]
    assert "trn2.48xlarge" not in names(use1.describe_instance_types(
        Filters=flt(instance_type=["trn2.*"])))

    r = use1.describe_instance_types(InstanceTypes=["trn2.48xlarge", "t3.medium"],
                                     IncludeUnsupportedInRegion=True)
    support = {t["InstanceType"]: t["SupportedInRegion"] for t in r["InstanceTypes"]}
    assert support == {"trn2.48xlarge": False, "t3.medium": True}
    everything = use1.describe_instance_types(IncludeUnsupportedInRegion=True)
    assert len(everything["InstanceTypes"]) == 1263


def test_region_without_offering_data_describes_every_type(fresh: Server) -> None:
    r = fresh.client("ec2", region="eu-west-1").describe_instance_types()
    assert len(r["InstanceTypes"]) == 1263
    assert all("SupportedInRegion" not in t for t in r["InstanceTypes"])


# ---------------------------------------------------------------------- AWS CLI


def test_aws_cli_describe_instance_types(fresh: Server) -> None:
    out = fresh.aws("ec2", "describe-instance-types", "--instance-types", "t3.medium")
    [t3] = out["InstanceTypes"]
    assert t3["InstanceType"] == "t3.medium"
    assert t3["NetworkInfo"] == T3_MEDIUM_NETWORK
    assert t3["VCpuInfo"]["DefaultVCpus"] == 2
    assert t3["MemoryInfo"]["SizeInMiB"] == 4096

    listed = fresh.aws("ec2", "describe-instance-types", "--filters",
                       "Name=instance-type,Values=t3.*",
                       "Name=network-info.maximum-network-interfaces,Values=3",
                       "--query", "InstanceTypes[].InstanceType")
    assert sorted(listed) == ["t3.large", "t3.medium", "t3.small"]


def test_instance_type_unknown_to_botocore_gets_ec2s_own_error(fresh: Server) -> None:
    with pytest.raises(ClientError) as e:
        fresh.client("ec2").describe_instance_types(InstanceTypes=["zz9.nope"])
    assert e.value.response["Error"]["Code"] == "InvalidInstanceType"
