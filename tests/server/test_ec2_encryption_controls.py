"""VPC Encryption Controls through boto3 on a live server: the control's life cycle, the
switch to enforce mode refused while something in the VPC cannot encrypt, launches refused
in enforce mode, and the ``encryption-status`` flow-log field."""

from __future__ import annotations

import gzip
import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server

NITRO, CLEAR = "m6i.large", "t2.micro"  # EncryptionInTransitSupported: true / false


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def vpc_and_subnet(ec2: Any, cidr: str = "10.0.0.0/16", sub: str = "10.0.1.0/24"
                   ) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    return vpc, ec2.create_subnet(VpcId=vpc, CidrBlock=sub)["Subnet"]["SubnetId"]


def launch(ec2: Any, subnet: str, itype: str, name: str = "") -> dict[str, Any]:
    tags = ([{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
            if name else [])
    return ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,  # type: ignore[no-any-return]
                             SubnetId=subnet, InstanceType=itype,
                             TagSpecifications=tags)["Instances"][0]


def test_create_describe_modify_delete(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc, _ = vpc_and_subnet(ec2)
    other, _ = vpc_and_subnet(ec2, "10.1.0.0/16", "10.1.1.0/24")
    made = ec2.create_vpc_encryption_control(VpcId=vpc, TagSpecifications=[
        {"ResourceType": "vpc-encryption-control", "Tags": [{"Key": "team", "Value": "sec"}]}]
    )["VpcEncryptionControl"]
    cid = made["VpcEncryptionControlId"]
    assert cid.startswith("vpcec-") and made["VpcId"] == vpc
    assert (made["Mode"], made["State"]) == ("monitor", "creating")
    assert "ResourceExclusions" not in made  # reported in enforce mode only
    ec2.create_vpc_encryption_control(VpcId=other)

    got = ec2.describe_vpc_encryption_controls(VpcEncryptionControlIds=[cid])[
        "VpcEncryptionControls"]
    assert [(c["State"], c["StateMessage"], c["Tags"]) for c in got] == [
        ("available", "succeeded", [{"Key": "team", "Value": "sec"}])]
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["EncryptionControl"][
        "VpcEncryptionControlId"] == cid
    assert [c["VpcId"] for c in ec2.describe_vpc_encryption_controls(VpcIds=[other])[
        "VpcEncryptionControls"]] == [other]

    changed = ec2.modify_vpc_encryption_control(
        VpcEncryptionControlId=cid, Mode="enforce", InternetGatewayExclusion="enable"
    )["VpcEncryptionControl"]
    assert (changed["Mode"], changed["State"]) == ("enforce", "enforce-in-progress")
    now = ec2.describe_vpc_encryption_controls(Filters=[
        {"Name": "mode", "Values": ["enforce"]}])["VpcEncryptionControls"]
    assert [c["VpcEncryptionControlId"] for c in now] == [cid]
    exclusions = now[0]["ResourceExclusions"]
    assert exclusions["InternetGateway"] == {"State": "enabled", "StateMessage": "succeeded"}
    assert exclusions["NatGateway"]["State"] == "disabled" and len(exclusions) == 8

    with pytest.raises(ClientError) as second:
        ec2.create_vpc_encryption_control(VpcId=vpc)
    assert code(second) == "InvalidParameterValue"
    with pytest.raises(ClientError) as no_vpc:
        ec2.create_vpc_encryption_control(VpcId="vpc-0123456789abcdef0")
    assert code(no_vpc) == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as bad_page:
        ec2.describe_vpc_encryption_controls(NextToken="not-a-token")
    assert code(bad_page) == "InvalidNextToken"

    gone = ec2.delete_vpc_encryption_control(VpcEncryptionControlId=cid)["VpcEncryptionControl"]
    assert gone["State"] == "deleting"
    with pytest.raises(ClientError) as missing:
        ec2.describe_vpc_encryption_controls(VpcEncryptionControlIds=[cid])
    assert code(missing) == "InvalidVpcEncryptionControlId.NotFound"
    assert "EncryptionControl" not in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]
    with pytest.raises(ClientError) as again:
        ec2.delete_vpc_encryption_control(VpcEncryptionControlId=cid)
    assert code(again) == "InvalidVpcEncryptionControlId.NotFound"


def test_enforce_is_refused_while_an_instance_cannot_encrypt(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc, subnet = vpc_and_subnet(ec2)
    old = launch(ec2, subnet, CLEAR)
    cid = ec2.create_vpc_encryption_control(VpcId=vpc)["VpcEncryptionControl"][
        "VpcEncryptionControlId"]
    with pytest.raises(ClientError) as refused:
        ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid, Mode="enforce")
    assert code(refused) == "VpcEncryptionControlStateTransitionFailed"
    assert old["NetworkInterfaces"][0]["NetworkInterfaceId"] in str(refused.value)
    blocking = ec2.get_vpc_resources_blocking_encryption_enforcement(VpcId=vpc)[
        "NonCompliantResources"]
    assert blocking == [{"Id": old["NetworkInterfaces"][0]["NetworkInterfaceId"],
                         "Type": "interface", "Description": blocking[0]["Description"],
                         "IsExcludable": False}]
    assert ec2.describe_vpc_encryption_controls(VpcEncryptionControlIds=[cid])[
        "VpcEncryptionControls"][0]["Mode"] == "monitor"  # unchanged

    # A gateway blocks until its kind is excluded.
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.terminate_instances(InstanceIds=[old["InstanceId"]])
    left = ec2.get_vpc_resources_blocking_encryption_enforcement(VpcId=vpc)[
        "NonCompliantResources"]
    assert [(b["Id"], b["Type"], b["IsExcludable"]) for b in left] == [
        (igw, "internet-gateway", True)]
    with pytest.raises(ClientError) as still:
        ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid, Mode="enforce")
    assert code(still) == "VpcEncryptionControlStateTransitionFailed"
    ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid, Mode="enforce",
                                      InternetGatewayExclusion="enable")
    assert ec2.get_vpc_resources_blocking_encryption_enforcement(VpcId=vpc)[
        "NonCompliantResources"] == []


def test_enforce_mode_refuses_clear_instances_and_gateways(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc, subnet = vpc_and_subnet(ec2)
    cid = ec2.create_vpc_encryption_control(VpcId=vpc)["VpcEncryptionControl"][
        "VpcEncryptionControlId"]
    launch(ec2, subnet, CLEAR)  # monitor mode lets anything in
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for r in ec2.describe_instances()[
        "Reservations"] for i in r["Instances"]])
    ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid, Mode="enforce")

    with pytest.raises(ClientError) as clear:
        launch(ec2, subnet, CLEAR)
    assert code(clear) == "VpcEncryptionControlViolation"
    with pytest.raises(ClientError) as default_type:  # no InstanceType: m1.small
        ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet)
    assert code(default_type) == "VpcEncryptionControlViolation"
    assert launch(ec2, subnet, NITRO)["InstanceType"] == NITRO

    with pytest.raises(ClientError) as eigw:
        ec2.create_egress_only_internet_gateway(VpcId=vpc)
    assert code(eigw) == "VpcEncryptionControlViolation"
    ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid,
                                      EgressOnlyInternetGatewayExclusion="enable")
    assert ec2.create_egress_only_internet_gateway(VpcId=vpc)[
        "EgressOnlyInternetGateway"]["Attachments"] == [{"VpcId": vpc, "State": "attached"}]
    with pytest.raises(ClientError) as nat:
        ec2.create_nat_gateway(SubnetId=subnet, ConnectivityType="private")
    assert code(nat) == "VpcEncryptionControlViolation"

    # Back to monitor mode: nothing is refused.
    ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid, Mode="monitor")
    assert launch(ec2, subnet, CLEAR)["InstanceType"] == CLEAR


SPEC = """
seed: 3
start: 2024-06-01T00:00:00Z
duration: 1m
flows:
  - {from: web-1, to: app-1, port: 5432, count: 1}
  - {from: old-1, to: app-1, port: 5432, count: 1}
  - {from: plain-1, to: plain-2, port: 5432, count: 1}
"""


def post_traffic(server: Server, spec: str) -> dict[str, Any]:
    req = urllib.request.Request(f"{server.url}/_localvpc/traffic?records=true",
                                 data=spec.encode(), method="POST",
                                 headers={"Content-Type": "application/yaml"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def test_flow_logs_carry_the_encryption_status(fresh: Server) -> None:
    ec2, s3 = fresh.client("ec2"), fresh.client("s3")
    s3.create_bucket(Bucket="ec-logs")
    vpc, subnet = vpc_and_subnet(ec2)
    plain_vpc, plain_subnet = vpc_and_subnet(ec2, "10.1.0.0/16", "10.1.1.0/24")
    ips = {name: launch(ec2, sn, itype, name)["PrivateIpAddress"] for name, sn, itype in (
        ("web-1", subnet, NITRO), ("app-1", subnet, NITRO), ("old-1", subnet, CLEAR),
        ("plain-1", plain_subnet, NITRO), ("plain-2", plain_subnet, NITRO))}
    ec2.create_vpc_encryption_control(VpcId=vpc)
    fmt = "${srcaddr} ${dstaddr} ${flow-direction} ${encryption-status}"
    ids = [ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[v], TrafficType="ALL",
                                LogDestinationType="s3", LogFormat=fmt,
                                LogDestination=f"arn:aws:s3:::ec-logs/{v}")["FlowLogIds"][0]
           for v in (vpc, plain_vpc)]

    summary = post_traffic(fresh, SPEC)
    items = {s["flow_log_id"]: s["items"] for s in summary["subscriptions"]}

    def status(fl: str, src: str, dst: str) -> set[str]:
        return {str(r["encryption-status"]) for r in items[fl] if r.get("log-status") != "NODATA"
                and {r["srcaddr"], r["dstaddr"]} == {ips[src], ips[dst]}}

    assert status(ids[0], "web-1", "app-1") == {"1"}  # both ends encrypt, both ways
    assert status(ids[0], "old-1", "app-1") == {"0"}  # t2.micro does not
    assert status(ids[1], "plain-1", "plain-2") == {"None"}  # no control in that VPC
    # As delivered: the text records say 1 / 0 under a control and '-' without one.
    for vpc_id, want in ((vpc, {"0", "1"}), (plain_vpc, {"-"})):
        objects = s3.list_objects_v2(Bucket="ec-logs", Prefix=f"{vpc_id}/")["Contents"]
        lines = [line for o in objects for line in gzip.decompress(s3.get_object(
            Bucket="ec-logs", Key=o["Key"])["Body"].read()).decode().splitlines()[1:]]
        assert lines and {line.split()[3] for line in lines} == want


def controls(ec2: Any, vpc: str) -> list[dict[str, Any]]:
    return ec2.describe_vpc_encryption_controls(  # type: ignore[no-any-return]
        VpcIds=[vpc])["VpcEncryptionControls"]


def test_create_vpc_with_its_control(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    made = ec2.create_vpc(CidrBlock="10.0.0.0/16", VpcEncryptionControl={
        "Mode": "enforce", "InternetGatewayExclusion": "enable",
        "NatGatewayExclusion": "disable"})["Vpc"]
    vpc = made["VpcId"]
    assert (made["EncryptionControl"]["VpcId"], made["EncryptionControl"]["Mode"]) == (
        vpc, "enforce")
    [control] = controls(ec2, vpc)
    assert control["VpcEncryptionControlId"] == made["EncryptionControl"][
        "VpcEncryptionControlId"]
    assert (control["Mode"], control["State"]) == ("enforce", "available")
    states = {k: v["State"] for k, v in control["ResourceExclusions"].items()}
    assert states["InternetGateway"] == "enabled"
    assert {k for k, v in states.items() if v == "enabled"} == {"InternetGateway"}
    # It is in force from the start: the excluded kind attaches, a clear instance does not.
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    with pytest.raises(ClientError) as clear:
        launch(ec2, subnet, CLEAR)
    assert code(clear) == "VpcEncryptionControlViolation"
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)

    monitored = ec2.create_vpc(CidrBlock="10.1.0.0/16", VpcEncryptionControl={
        "Mode": "monitor"})["Vpc"]["VpcId"]
    assert [(c["Mode"], "ResourceExclusions" in c) for c in controls(ec2, monitored)] == [
        ("monitor", False)]
    plain = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]
    assert "EncryptionControl" not in plain and controls(ec2, plain["VpcId"]) == []

    # Bad values: AWS's error, and neither the VPC nor a control is created.
    vpcs_before = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    controls_before = ec2.describe_vpc_encryption_controls()["VpcEncryptionControls"]
    for bad in ({"Mode": "strict"}, {"Mode": "enforce", "VpcPeeringExclusion": "yes"}):
        with pytest.raises(ClientError) as refused:
            ec2.create_vpc(CidrBlock="10.3.0.0/16", VpcEncryptionControl=bad)
        assert code(refused) == "InvalidParameterValue"
        assert next(v for v in bad.values() if v not in ("enforce",)) in str(refused.value)
    assert {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]} == vpcs_before
    assert ec2.describe_vpc_encryption_controls()[
        "VpcEncryptionControls"] == controls_before


def test_enforce_mode_refuses_gateways_and_peering(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", VpcEncryptionControl={
        "Mode": "enforce"})["Vpc"]["VpcId"]
    plain = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    with pytest.raises(ClientError) as igw_refused:
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert code(igw_refused) == "VpcEncryptionControlViolation"
    assert "InternetGateway" in str(igw_refused.value)
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])[
        "InternetGateways"][0]["Attachments"] == []

    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    with pytest.raises(ClientError) as vgw_refused:
        ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc)
    assert code(vgw_refused) == "VpcEncryptionControlViolation"
    assert ec2.describe_vpn_gateways(VpnGatewayIds=[vgw])["VpnGateways"][0][
        "VpcAttachments"] == []
    assert ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=plain)["VpcAttachment"][
        "VpcId"] == plain  # a VPC without a control takes it

    for requester, accepter in ((vpc, plain), (plain, vpc)):  # either side enforcing
        with pytest.raises(ClientError) as pcx_refused:
            ec2.create_vpc_peering_connection(VpcId=requester, PeerVpcId=accepter)
        assert code(pcx_refused) == "VpcEncryptionControlViolation"
        assert vpc in str(pcx_refused.value)
    assert ec2.describe_vpc_peering_connections()["VpcPeeringConnections"] == []

    # Accepting: a request made before the switch to enforce mode (a pending request
    # carries nothing, so it does not keep the VPC from enforcing) is refused after it.
    other = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    cid = ec2.create_vpc_encryption_control(VpcId=other)["VpcEncryptionControl"][
        "VpcEncryptionControlId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=plain, PeerVpcId=other)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid, Mode="enforce")
    with pytest.raises(ClientError) as accept_refused:
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(accept_refused) == "VpcEncryptionControlViolation"
    assert ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])[
        "VpcPeeringConnections"][0]["Status"]["Code"] == "pending-acceptance"

    # With the matching exclusion each goes through.
    ec2.modify_vpc_encryption_control(VpcEncryptionControlId=cid, VpcPeeringExclusion="enable")
    assert ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)[
        "VpcPeeringConnection"]["Status"]["Code"] == "active"
    [enforced] = controls(ec2, vpc)
    ec2.modify_vpc_encryption_control(
        VpcEncryptionControlId=enforced["VpcEncryptionControlId"],
        InternetGatewayExclusion="enable")
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"][0][
        "Attachments"] == [{"State": "available", "VpcId": vpc}]


def test_delete_vpc_deletes_its_control(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", VpcEncryptionControl={
        "Mode": "monitor"})["Vpc"]["VpcId"]
    kept = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    kept_cid = ec2.create_vpc_encryption_control(VpcId=kept)["VpcEncryptionControl"][
        "VpcEncryptionControlId"]
    [control] = controls(ec2, vpc)
    ec2.delete_vpc(VpcId=vpc)
    assert [c["VpcEncryptionControlId"] for c in ec2.describe_vpc_encryption_controls()[
        "VpcEncryptionControls"]] == [kept_cid]
    with pytest.raises(ClientError) as gone:
        ec2.describe_vpc_encryption_controls(
            VpcEncryptionControlIds=[control["VpcEncryptionControlId"]])
    assert code(gone) == "InvalidVpcEncryptionControlId.NotFound"
