"""Amazon VPC IPAM: IPAMs, scopes, pools, pool CIDRs, allocations and VPCs made from a
pool, through boto3 (and the AWS CLI) against a real server; one restart keeps it all."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server


def fails(expected: str, fn: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return str(e.value.response["Error"]["Message"])


def hierarchy(ec2: Any, **child_rules: Any) -> tuple[dict[str, Any], str, str]:
    """IPAM -> private default scope -> top pool 10.0.0.0/8 (no locale) -> us-east-1 child
    pool given 10.0.0.0/12 from it; returns the IPAM, the top and the child pool ids."""
    ipam = ec2.create_ipam(OperatingRegions=[{"RegionName": "us-east-1"},
                                             {"RegionName": "us-west-2"}])["Ipam"]
    scope = ipam["PrivateDefaultScopeId"]
    top = ec2.create_ipam_pool(IpamScopeId=scope, AddressFamily="ipv4",
                               Description="top")["IpamPool"]["IpamPoolId"]
    ec2.provision_ipam_pool_cidr(IpamPoolId=top, Cidr="10.0.0.0/8")
    child = ec2.create_ipam_pool(IpamScopeId=scope, AddressFamily="ipv4", Locale="us-east-1",
                                 SourceIpamPoolId=top, **child_rules)["IpamPool"]["IpamPoolId"]
    ec2.provision_ipam_pool_cidr(IpamPoolId=child, Cidr="10.0.0.0/12")
    return ipam, top, child


def test_ipam_comes_with_default_scopes_and_is_modified_and_deleted(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    ipam = ec2.create_ipam(Description="corp", TagSpecifications=[
        {"ResourceType": "ipam", "Tags": [{"Key": "team", "Value": "net"}]}])["Ipam"]
    iid = ipam["IpamId"]
    assert iid.startswith("ipam-") and ipam["IpamRegion"] == "us-east-1"
    assert ipam["OperatingRegions"] == [{"RegionName": "us-east-1"}]
    assert ipam["IpamArn"] == f"arn:aws:ec2::000000000000:ipam/{iid}"
    assert ipam["ScopeCount"] == 2 and ipam["State"] == "create-complete"
    scopes = {s["IpamScopeId"]: s for s in ec2.describe_ipam_scopes(
        Filters=[{"Name": "ipam-id", "Values": [iid]}])["IpamScopes"]}
    assert scopes[ipam["PrivateDefaultScopeId"]]["IpamScopeType"] == "private"
    assert scopes[ipam["PublicDefaultScopeId"]]["IpamScopeType"] == "public"
    assert all(s["IsDefault"] for s in scopes.values())
    # a custom private scope; default scopes cannot go
    custom = ec2.create_ipam_scope(IpamId=iid, Description="dev")["IpamScope"]
    assert custom["IpamScopeType"] == "private" and not custom["IsDefault"]
    assert ec2.describe_ipams(IpamIds=[iid])["Ipams"][0]["ScopeCount"] == 3
    fails("InvalidParameterValue", ec2.delete_ipam_scope,
          IpamScopeId=ipam["PrivateDefaultScopeId"])
    ec2.delete_ipam_scope(IpamScopeId=custom["IpamScopeId"])
    fails("InvalidIpamScopeId.NotFound", ec2.describe_ipam_scopes,
          IpamScopeIds=[custom["IpamScopeId"]])
    # operating regions; the home Region stays
    out = ec2.modify_ipam(IpamId=iid, AddOperatingRegions=[{"RegionName": "eu-west-1"}],
                          Description="corp2")["Ipam"]
    assert [r["RegionName"] for r in out["OperatingRegions"]] == ["us-east-1", "eu-west-1"]
    fails("InvalidParameterValue", ec2.modify_ipam, IpamId=iid,
          RemoveOperatingRegions=[{"RegionName": "us-east-1"}])
    found = ec2.describe_ipams(Filters=[{"Name": "tag:team", "Values": ["net"]}])["Ipams"]
    assert [i["Description"] for i in found] == ["corp2"]
    assert ec2.describe_ipams(Filters=[{"Name": "tag:team", "Values": ["x"]}])["Ipams"] == []
    ec2.delete_ipam(IpamId=iid)
    assert ec2.describe_ipams()["Ipams"] == []
    assert ec2.describe_ipam_scopes()["IpamScopes"] == []
    fails("InvalidIpamId.NotFound", ec2.delete_ipam, IpamId=iid)


def test_vpcs_from_a_regional_child_pool(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    ipam, top, child = hierarchy(ec2, AllocationMinNetmaskLength=16,
                                 AllocationMaxNetmaskLength=20)
    pools = {p["IpamPoolId"]: p for p in ec2.describe_ipam_pools()["IpamPools"]}
    assert pools[child]["SourceIpamPoolId"] == top and pools[child]["PoolDepth"] == 2
    assert pools[child]["Locale"] == "us-east-1" and pools[top]["Locale"] == "None"
    assert pools[child]["AllocationMinNetmaskLength"] == 16
    (cidr,) = ec2.get_ipam_pool_cidrs(IpamPoolId=child)["IpamPoolCidrs"]
    assert (cidr["Cidr"], cidr["State"]) == ("10.0.0.0/12", "provisioned")
    # the child's CIDR is an allocation of type ipam-pool in the top pool
    (parent_alloc,) = ec2.get_ipam_pool_allocations(IpamPoolId=top)["IpamPoolAllocations"]
    assert (parent_alloc["Cidr"], parent_alloc["ResourceType"],
            parent_alloc["ResourceId"]) == ("10.0.0.0/12", "ipam-pool", child)

    first = ec2.create_vpc(Ipv4IpamPoolId=child, Ipv4NetmaskLength=16)["Vpc"]
    second = ec2.create_vpc(Ipv4IpamPoolId=child, Ipv4NetmaskLength=16)["Vpc"]
    a = ipaddress.ip_network(first["CidrBlock"])
    b = ipaddress.ip_network(second["CidrBlock"])
    assert (str(a), str(b)) == ("10.0.0.0/16", "10.1.0.0/16")
    assert not a.overlaps(b)
    allocs = ec2.get_ipam_pool_allocations(
        IpamPoolId=child, Filters=[{"Name": "resource-type", "Values": ["vpc"]}]
    )["IpamPoolAllocations"]
    assert {(x["ResourceId"], x["Cidr"]) for x in allocs} == {
        (first["VpcId"], "10.0.0.0/16"), (second["VpcId"], "10.1.0.0/16")}

    # a secondary block from the same pool, released with its disassociation
    assoc = ec2.associate_vpc_cidr_block(VpcId=first["VpcId"], Ipv4IpamPoolId=child,
                                         Ipv4NetmaskLength=20)["CidrBlockAssociation"]
    assert assoc["CidrBlock"] == "10.2.0.0/20"
    ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    held = {x["Cidr"] for x in ec2.get_ipam_pool_allocations(
        IpamPoolId=child)["IpamPoolAllocations"]}
    assert held == {"10.0.0.0/16", "10.1.0.0/16"}

    # GetIpamResourceCidrs: managed VPC blocks name their pool; the default VPC is unmanaged
    rows = ec2.get_ipam_resource_cidrs(IpamScopeId=ipam["PrivateDefaultScopeId"],
                                       ResourceType="vpc")["IpamResourceCidrs"]
    by_vpc = {r["ResourceId"]: r for r in rows}
    assert by_vpc[first["VpcId"]]["IpamPoolId"] == child
    assert by_vpc[first["VpcId"]]["ManagementState"] == "managed"
    unmanaged = [r for r in rows if r["ManagementState"] == "unmanaged"]
    assert [r["ResourceCidr"] for r in unmanaged] == ["172.31.0.0/16"]
    only = ec2.get_ipam_resource_cidrs(IpamScopeId=ipam["PrivateDefaultScopeId"],
                                       IpamPoolId=child)["IpamResourceCidrs"]
    assert {r["ResourceId"] for r in only} == {first["VpcId"], second["VpcId"]}

    # deleting the VPC gives its block back: the next VPC gets it again
    ec2.delete_vpc(VpcId=first["VpcId"])
    held = {x["Cidr"] for x in ec2.get_ipam_pool_allocations(
        IpamPoolId=child)["IpamPoolAllocations"]}
    assert held == {"10.1.0.0/16"}
    third = ec2.create_vpc(Ipv4IpamPoolId=child, Ipv4NetmaskLength=16)["Vpc"]
    assert third["CidrBlock"] == "10.0.0.0/16"


def test_allocation_rules_exhaustion_and_explicit_cidrs(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    _, top, child = hierarchy(ec2, AllocationMinNetmaskLength=13,
                              AllocationMaxNetmaskLength=24)
    # netmask outside the pool's rules
    msg = fails("InvalidParameterValue", ec2.create_vpc, Ipv4IpamPoolId=child,
                Ipv4NetmaskLength=25)
    assert "/25" in msg
    fails("InvalidParameterValue", ec2.allocate_ipam_pool_cidr, IpamPoolId=child,
          NetmaskLength=12)
    # no length and no default length
    fails("InvalidParameterCombination", ec2.allocate_ipam_pool_cidr, IpamPoolId=child)
    # exhaustion: a /12 holds two /13s
    one = ec2.allocate_ipam_pool_cidr(IpamPoolId=child, NetmaskLength=13,
                                      Description="a")["IpamPoolAllocation"]
    two = ec2.allocate_ipam_pool_cidr(IpamPoolId=child, NetmaskLength=13)["IpamPoolAllocation"]
    assert (one["Cidr"], two["Cidr"]) == ("10.0.0.0/13", "10.8.0.0/13")
    assert one["ResourceType"] == "custom"
    msg = fails("InvalidParameterValue", ec2.allocate_ipam_pool_cidr, IpamPoolId=child,
                NetmaskLength=24)
    assert msg == "The allocation size is too big for the pool."
    fails("InvalidParameterValue", ec2.create_vpc, Ipv4IpamPoolId=child, Ipv4NetmaskLength=16)
    # release one, then explicit CIDRs must fit and not overlap
    fails("InvalidIpamPoolAllocationId.NotFound", ec2.release_ipam_pool_allocation,
          IpamPoolId=child, Cidr=one["Cidr"], IpamPoolAllocationId="ipam-pool-alloc-0")
    assert ec2.release_ipam_pool_allocation(
        IpamPoolId=child, Cidr=one["Cidr"],
        IpamPoolAllocationId=one["IpamPoolAllocationId"])["Success"] is True
    vpc = ec2.create_vpc(Ipv4IpamPoolId=child, CidrBlock="10.4.0.0/16")["Vpc"]
    assert vpc["CidrBlock"] == "10.4.0.0/16"
    fails("InvalidParameterValue", ec2.allocate_ipam_pool_cidr, IpamPoolId=child,
          Cidr="10.4.128.0/17")  # overlaps the VPC's allocation
    fails("InvalidParameterValue", ec2.allocate_ipam_pool_cidr, IpamPoolId=child,
          Cidr="10.16.0.0/16")  # outside the child's 10.0.0.0/12
    # preview keeps nothing; disallowed CIDRs are skipped
    preview = ec2.allocate_ipam_pool_cidr(IpamPoolId=child, NetmaskLength=16,
                                          PreviewNextCidr=True,
                                          DisallowedCidrs=["10.0.0.0/16"])["IpamPoolAllocation"]
    assert preview["Cidr"] == "10.1.0.0/16"
    assert len(ec2.get_ipam_pool_allocations(IpamPoolId=child)["IpamPoolAllocations"]) == 2
    # a VPC pool must be of the caller's Region
    west = fresh.client("ec2", region="us-west-2")
    fails("InvalidParameterValue", west.create_vpc, Ipv4IpamPoolId=child, Ipv4NetmaskLength=16)
    fails("InvalidIpamPoolId.NotFound", ec2.create_vpc, Ipv4IpamPoolId="ipam-pool-0",
          Ipv4NetmaskLength=16)
    # a pool with CIDRs, allocations or children does not go
    fails("IncorrectState", ec2.delete_ipam_pool, IpamPoolId=top)
    fails("IncorrectState", ec2.deprovision_ipam_pool_cidr, IpamPoolId=child,
          Cidr="10.0.0.0/12")
    ec2.modify_ipam_pool(IpamPoolId=child, AllocationMaxNetmaskLength=28,
                         AllocationDefaultNetmaskLength=28)
    got = ec2.allocate_ipam_pool_cidr(IpamPoolId=child)["IpamPoolAllocation"]
    assert got["Cidr"] == "10.0.0.0/28"
    fails("InvalidParameterValue", ec2.modify_ipam_pool, IpamPoolId=child,
          AllocationMinNetmaskLength=29)


def test_pool_cidrs_deprovision_and_pagination(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    ipam = ec2.create_ipam()["Ipam"]
    scope = ipam["PrivateDefaultScopeId"]
    top = ec2.create_ipam_pool(IpamScopeId=scope, AddressFamily="ipv4")["IpamPool"]["IpamPoolId"]
    for i in range(6):
        ec2.provision_ipam_pool_cidr(IpamPoolId=top, Cidr=f"10.{i}.0.0/16")
    fails("InvalidParameterValue", ec2.provision_ipam_pool_cidr, IpamPoolId=top,
          Cidr="10.0.128.0/17")
    fails("InvalidParameterValue", ec2.provision_ipam_pool_cidr, IpamPoolId=top,
          Cidr="2001:db8::/48")
    page = ec2.get_ipam_pool_cidrs(IpamPoolId=top, MaxResults=5)
    rest = ec2.get_ipam_pool_cidrs(IpamPoolId=top, MaxResults=5, NextToken=page["NextToken"])
    assert len(page["IpamPoolCidrs"]) == 5 and len(rest["IpamPoolCidrs"]) == 1
    assert "NextToken" not in rest
    one = ec2.get_ipam_pool_cidrs(IpamPoolId=top, Filters=[
        {"Name": "cidr", "Values": ["10.3.0.0/16"]}])["IpamPoolCidrs"]
    assert [c["Cidr"] for c in one] == ["10.3.0.0/16"]
    # a child takes its CIDR by netmask length; deprovisioning gives it back to the top
    child = ec2.create_ipam_pool(IpamScopeId=scope, AddressFamily="ipv4",
                                 SourceIpamPoolId=top)["IpamPool"]["IpamPoolId"]
    got = ec2.provision_ipam_pool_cidr(IpamPoolId=child, NetmaskLength=18)["IpamPoolCidr"]
    assert got["Cidr"] == "10.0.0.0/18"
    out = ec2.deprovision_ipam_pool_cidr(IpamPoolId=child, Cidr="10.0.0.0/18")["IpamPoolCidr"]
    assert out["State"] == "pending-deprovision"
    assert ec2.get_ipam_pool_allocations(IpamPoolId=top)["IpamPoolAllocations"] == []
    ec2.delete_ipam_pool(IpamPoolId=child)
    fails("IncorrectState", ec2.delete_ipam, IpamId=ipam["IpamId"])
    ec2.delete_ipam(IpamId=ipam["IpamId"], Cascade=True)
    assert ec2.describe_ipam_pools()["IpamPools"] == []


def test_aws_cli_creates_a_pool(fresh: Server) -> None:
    ipam = fresh.aws("ec2", "create-ipam")["Ipam"]
    pool = fresh.aws("ec2", "create-ipam-pool", "--ipam-scope-id",
                     ipam["PrivateDefaultScopeId"], "--address-family", "ipv4",
                     "--locale", "us-east-1")["IpamPool"]
    fresh.aws("ec2", "provision-ipam-pool-cidr", "--ipam-pool-id", pool["IpamPoolId"],
              "--cidr", "192.168.0.0/16")
    vpc = fresh.aws("ec2", "create-vpc", "--ipv4-ipam-pool-id", pool["IpamPoolId"],
                    "--ipv4-netmask-length", "24")["Vpc"]
    assert vpc["CidrBlock"] == "192.168.0.0/24"
    listed = fresh.aws("ec2", "describe-ipam-pools", "--filters",
                       "Name=locale,Values=us-east-1")["IpamPools"]
    assert [p["IpamPoolId"] for p in listed] == [pool["IpamPoolId"]]


def test_restart_keeps_ipam_state(tmp_path: Path) -> None:
    own_server = tmp_path / "state.db"
    srv = start_server(own_server, "--no-dns", "--no-proxy")
    try:
        ec2 = srv.client("ec2")
        _, top, child = hierarchy(ec2)
        vpc = ec2.create_vpc(Ipv4IpamPoolId=child, Ipv4NetmaskLength=16)["Vpc"]
    finally:
        stop_server(srv)
    srv = start_server(own_server, "--no-dns", "--no-proxy")
    try:
        ec2 = srv.client("ec2")
        pools = {p["IpamPoolId"] for p in ec2.describe_ipam_pools()["IpamPools"]}
        assert pools == {top, child}
        (alloc,) = ec2.get_ipam_pool_allocations(IpamPoolId=child)["IpamPoolAllocations"]
        assert (alloc["ResourceId"], alloc["Cidr"]) == (vpc["VpcId"], "10.0.0.0/16")
        nxt = ec2.create_vpc(Ipv4IpamPoolId=child, Ipv4NetmaskLength=16)["Vpc"]
        assert nxt["CidrBlock"] == "10.1.0.0/16"
    finally:
        stop_server(srv)
