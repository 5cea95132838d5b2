"""AWS Client VPN over the API: endpoints, target networks, routes, authorization rules,
the exported OpenVPN configuration, one AWS CLI run, and a trace from a VPN client."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import site, trace

from conftest import Server
from localvpc.dataplane.flow import Disposition

ACCOUNT = "111111111111"
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0a1b2c3d-1111-2222-3333-444455556666"
CLIENT_AUTH = [{"Type": "certificate-authentication",
                "MutualAuthentication": {"ClientRootCertificateChainArn": CERT}}]


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def endpoint(ec2: Any, cidr: str = "172.16.0.0/22", **kwargs: Any) -> str:
    out = ec2.create_client_vpn_endpoint(
        ClientCidrBlock=cidr, ServerCertificateArn=CERT, AuthenticationOptions=CLIENT_AUTH,
        ConnectionLogOptions={"Enabled": False}, **kwargs)
    return str(out["ClientVpnEndpointId"])


def network(ec2: Any, cidr: str = "10.0.0.0/16") -> tuple[str, str, str, str]:
    """A VPC with two subnets in us-east-1a and one in us-east-1b."""
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.{n}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for n, az in ((1, "a"), (2, "a"), (3, "b"))]
    return vpc, subnets[0], subnets[1], subnets[2]


def describe(ec2: Any, endpoint_id: str) -> dict[str, Any]:
    found = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])
    return dict(found["ClientVpnEndpoints"][0])


def test_endpoint_validation_describe_modify_delete(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    for bad in ("172.16.0.0/24", "10.0.0.0/11", "fd00::/48", "nope"):
        with pytest.raises(ClientError) as exc:
            endpoint(ec2, bad)
        assert code(exc) == "InvalidParameterValue", bad
    with pytest.raises(ClientError) as exc:
        ec2.create_client_vpn_endpoint(
            ClientCidrBlock="172.16.0.0/22", ServerCertificateArn="arn:aws:iam::1:cert/x",
            AuthenticationOptions=CLIENT_AUTH, ConnectionLogOptions={"Enabled": False})
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        endpoint(ec2, VpnPort=8443)
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:  # logging on needs a log group
        ec2.create_client_vpn_endpoint(
            ClientCidrBlock="172.16.0.0/22", ServerCertificateArn=CERT,
            AuthenticationOptions=CLIENT_AUTH, ConnectionLogOptions={"Enabled": True})
    assert code(exc) == "MissingParameter"
    vpc, *_ = network(ec2)
    sg = ec2.create_security_group(GroupName="vpn", Description="vpn", VpcId=vpc)["GroupId"]
    with pytest.raises(ClientError) as exc:  # groups need their VPC
        endpoint(ec2, SecurityGroupIds=[sg])
    assert code(exc) == "InvalidParameterCombination"

    out = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="172.16.0.0/22", ServerCertificateArn=CERT,
        AuthenticationOptions=CLIENT_AUTH, TransportProtocol="tcp", VpnPort=1194,
        SplitTunnel=True, DnsServers=["10.0.0.2"], Description="staff",
        ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": "vpn-logs"},
        SecurityGroupIds=[sg], VpcId=vpc,
        TagSpecifications=[{"ResourceType": "client-vpn-endpoint",
                            "Tags": [{"Key": "team", "Value": "net"}]}])
    eid = out["ClientVpnEndpointId"]
    assert eid.startswith("cvpn-endpoint-")
    assert out["DnsName"] == f"*.{eid}.prod.clientvpn.us-east-1.amazonaws.com"
    assert out["Status"]["Code"] == "pending-associate"
    got = describe(ec2, eid)
    assert (got["ClientCidrBlock"], got["TransportProtocol"], got["VpnPort"],
            got["SplitTunnel"], got["DnsServers"], got["VpcId"], got["SecurityGroupIds"],
            got["VpnProtocol"]) == ("172.16.0.0/22", "tcp", 1194, True, ["10.0.0.2"], vpc,
                                    [sg], "openvpn")
    assert got["ConnectionLogOptions"]["CloudwatchLogGroup"] == "vpn-logs"
    assert got["AuthenticationOptions"] == [{"Type": "certificate-authentication",
                                             "MutualAuthentication": {
                                                 "ClientRootCertificateChain": CERT}}]
    plain = endpoint(ec2)
    by_proto = ec2.describe_client_vpn_endpoints(Filters=[
        {"Name": "transport-protocol", "Values": ["udp"]}])["ClientVpnEndpoints"]
    assert [e["ClientVpnEndpointId"] for e in by_proto] == [plain]
    by_tag = ec2.describe_client_vpn_endpoints(Filters=[
        {"Name": "tag:team", "Values": ["net"]}])["ClientVpnEndpoints"]
    assert [e["ClientVpnEndpointId"] for e in by_tag] == [eid]
    for _ in range(5):
        endpoint(ec2)
    first = ec2.describe_client_vpn_endpoints(MaxResults=5)
    rest = ec2.describe_client_vpn_endpoints(MaxResults=5, NextToken=first["NextToken"])
    ids = [e["ClientVpnEndpointId"] for e in first["ClientVpnEndpoints"]
           + rest["ClientVpnEndpoints"]]
    assert len(ids) == len(set(ids)) == 7 and "NextToken" not in rest

    assert ec2.modify_client_vpn_endpoint(
        ClientVpnEndpointId=eid, VpnPort=443, SplitTunnel=False, Description="all staff",
        DnsServers={"Enabled": True, "CustomDnsServers": ["10.0.0.2", "8.8.8.8"]},
        SessionTimeoutHours=12)["Return"] is True
    got = describe(ec2, eid)
    assert (got["VpnPort"], got["SplitTunnel"], got["Description"], got["DnsServers"],
            got["SessionTimeoutHours"]) == (443, False, "all staff", ["10.0.0.2", "8.8.8.8"],
                                            12)
    with pytest.raises(ClientError) as exc:
        ec2.modify_client_vpn_endpoint(ClientVpnEndpointId=eid, SessionTimeoutHours=5)
    assert code(exc) == "InvalidParameterValue"
    assert ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=eid)["Status"]["Code"] == (
        "deleting")
    with pytest.raises(ClientError) as exc:
        ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[eid])
    assert code(exc) == "InvalidClientVpnEndpointId.NotFound"


def test_target_networks(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    vpc, a1, a2, b1 = network(ec2)
    other_vpc, other_subnet, _, _ = network(ec2, "10.9.0.0/16")
    eid = endpoint(ec2)
    default_sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    out = ec2.associate_client_vpn_target_network(ClientVpnEndpointId=eid, SubnetId=a1)
    assoc = out["AssociationId"]
    assert assoc.startswith("cvpn-assoc-") and out["Status"]["Code"] == "associating"
    got = describe(ec2, eid)  # the first association picks the VPC and its default group
    assert (got["Status"]["Code"], got["VpcId"], got["SecurityGroupIds"]) == (
        "available", vpc, [default_sg])
    routes = ec2.describe_client_vpn_routes(ClientVpnEndpointId=eid)["Routes"]
    assert [(r["DestinationCidr"], r["TargetSubnet"], r["Origin"], r["Type"])
            for r in routes] == [("10.0.0.0/16", a1, "associate", "Nat")]
    enis = ec2.describe_network_interfaces(Filters=[
        {"Name": "subnet-id", "Values": [a1]}])["NetworkInterfaces"]
    assert [e["Description"] for e in enis] == ["ClientVPN Endpoint resource"]
    for subnet, expected in ((a1, "InvalidClientVpnDuplicateAssociationException"),
                             (a2, "InvalidClientVpnSubnetId.DuplicateAz"),
                             (other_subnet, "InvalidClientVpnSubnetId.NotFound")):
        with pytest.raises(ClientError) as exc:
            ec2.associate_client_vpn_target_network(ClientVpnEndpointId=eid, SubnetId=subnet)
        assert code(exc) == expected
    assoc_b = ec2.associate_client_vpn_target_network(
        ClientVpnEndpointId=eid, SubnetId=b1)["AssociationId"]
    targets = ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=eid, Filters=[
        {"Name": "target-network-id", "Values": [b1]}])["ClientVpnTargetNetworks"]
    assert [(t["AssociationId"], t["VpcId"], t["Status"]["Code"], t["AvailabilityZones"])
            for t in targets] == [(assoc_b, vpc, "associated", ["us-east-1b"])]
    with pytest.raises(ClientError) as exc:
        ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=eid)
    assert code(exc) == "IncorrectState"
    with pytest.raises(ClientError) as exc:
        ec2.modify_client_vpn_endpoint(ClientVpnEndpointId=eid, VpcId=other_vpc)
    assert code(exc) == "ClientVpnEndpointAssociationExists"

    with pytest.raises(ClientError) as exc:  # client CIDR inside the VPC's CIDR
        ec2.associate_client_vpn_target_network(
            ClientVpnEndpointId=endpoint(ec2, "10.0.0.0/16"), SubnetId=a1)
    assert code(exc) == "InvalidClientVpnSubnetId.OverlappingCidr"

    for aid in (assoc, assoc_b):
        assert ec2.disassociate_client_vpn_target_network(
            ClientVpnEndpointId=eid, AssociationId=aid)["Status"]["Code"] == "disassociating"
    with pytest.raises(ClientError) as exc:
        ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=eid,
                                                   AssociationId=assoc)
    assert code(exc) == "InvalidClientVpnAssociationIdNotFound"
    assert describe(ec2, eid)["Status"]["Code"] == "pending-associate"
    assert ec2.describe_client_vpn_routes(ClientVpnEndpointId=eid)["Routes"] == []
    assert ec2.describe_network_interfaces(Filters=[
        {"Name": "subnet-id", "Values": [a1, b1]}])["NetworkInterfaces"] == []
    ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=eid)


def test_routes_and_authorization_rules(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    _, a1, _, b1 = network(ec2)
    eid = endpoint(ec2)
    with pytest.raises(ClientError) as exc:  # the target subnet must be associated
        ec2.create_client_vpn_route(ClientVpnEndpointId=eid, DestinationCidrBlock="0.0.0.0/0",
                                    TargetVpcSubnetId=a1)
    assert code(exc) == "InvalidClientVpnActiveAssociationNotFound"
    ec2.associate_client_vpn_target_network(ClientVpnEndpointId=eid, SubnetId=a1)
    assert ec2.create_client_vpn_route(
        ClientVpnEndpointId=eid, DestinationCidrBlock="0.0.0.0/0", TargetVpcSubnetId=a1,
        Description="internet")["Status"]["Code"] == "creating"
    with pytest.raises(ClientError) as exc:
        ec2.create_client_vpn_route(ClientVpnEndpointId=eid, DestinationCidrBlock="0.0.0.0/0",
                                    TargetVpcSubnetId=a1)
    assert code(exc) == "InvalidClientVpnDuplicateRoute"
    with pytest.raises(ClientError) as exc:
        ec2.create_client_vpn_route(ClientVpnEndpointId=eid, DestinationCidrBlock="0.0.0.0/0",
                                    TargetVpcSubnetId=b1)
    assert code(exc) == "InvalidClientVpnActiveAssociationNotFound"
    added = ec2.describe_client_vpn_routes(ClientVpnEndpointId=eid, Filters=[
        {"Name": "origin", "Values": ["add-route"]}])["Routes"]
    assert [(r["DestinationCidr"], r["Description"]) for r in added] == [
        ("0.0.0.0/0", "internet")]
    with pytest.raises(ClientError) as exc:  # the association's route goes with it only
        ec2.delete_client_vpn_route(ClientVpnEndpointId=eid, DestinationCidrBlock="10.0.0.0/16")
    assert code(exc) == "InvalidParameterValue"
    ec2.delete_client_vpn_route(ClientVpnEndpointId=eid, DestinationCidrBlock="0.0.0.0/0",
                                TargetVpcSubnetId=a1)
    with pytest.raises(ClientError) as exc:
        ec2.delete_client_vpn_route(ClientVpnEndpointId=eid, DestinationCidrBlock="0.0.0.0/0")
    assert code(exc) == "InvalidClientVpnRouteNotFound"
    assert [r["Origin"] for r in ec2.describe_client_vpn_routes(
        ClientVpnEndpointId=eid)["Routes"]] == ["associate"]

    assert ec2.authorize_client_vpn_ingress(
        ClientVpnEndpointId=eid, TargetNetworkCidr="10.0.0.0/16", AuthorizeAllGroups=True,
        Description="everyone")["Status"]["Code"] == "authorizing"
    ec2.authorize_client_vpn_ingress(ClientVpnEndpointId=eid, TargetNetworkCidr="10.0.0.0/16",
                                     AccessGroupId="S-1-5-21-admins")
    with pytest.raises(ClientError) as exc:
        ec2.authorize_client_vpn_ingress(ClientVpnEndpointId=eid,
                                         TargetNetworkCidr="10.0.0.0/16",
                                         AuthorizeAllGroups=True)
    assert code(exc) == "InvalidClientVpnDuplicateAuthorizationRule"
    with pytest.raises(ClientError) as exc:
        ec2.authorize_client_vpn_ingress(ClientVpnEndpointId=eid,
                                         TargetNetworkCidr="10.1.0.0/16")
    assert code(exc) == "MissingParameter"
    by_group = ec2.describe_client_vpn_authorization_rules(ClientVpnEndpointId=eid, Filters=[
        {"Name": "group-id", "Values": ["S-1-5-21-*"]}])["AuthorizationRules"]
    assert [(r["DestinationCidr"], r["AccessAll"]) for r in by_group] == [
        ("10.0.0.0/16", False)]
    ec2.revoke_client_vpn_ingress(ClientVpnEndpointId=eid, TargetNetworkCidr="10.0.0.0/16",
                                  RevokeAllGroups=True)
    left = ec2.describe_client_vpn_authorization_rules(
        ClientVpnEndpointId=eid)["AuthorizationRules"]
    assert [(r["GroupId"], r["AccessAll"]) for r in left] == [("S-1-5-21-admins", False)]
    with pytest.raises(ClientError) as exc:
        ec2.revoke_client_vpn_ingress(ClientVpnEndpointId=eid,
                                      TargetNetworkCidr="10.0.0.0/16", RevokeAllGroups=True)
    assert code(exc) == "InvalidClientVpnEndpointAuthorizationRuleNotFound"
    assert ec2.describe_client_vpn_connections(ClientVpnEndpointId=eid)["Connections"] == []
    with pytest.raises(ClientError) as exc:
        ec2.describe_client_vpn_connections(ClientVpnEndpointId="cvpn-endpoint-0000")
    assert code(exc) == "InvalidClientVpnEndpointId.NotFound"


def test_export_configuration_with_the_aws_cli(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    eid = endpoint(ec2, TransportProtocol="tcp", VpnPort=1194)
    listed = fresh.aws("ec2", "describe-client-vpn-endpoints",
                       "--client-vpn-endpoint-ids", eid)["ClientVpnEndpoints"]
    assert [(e["ClientVpnEndpointId"], e["Status"]["Code"]) for e in listed] == [
        (eid, "pending-associate")]
    text = fresh.aws("ec2", "export-client-vpn-client-configuration",
                     "--client-vpn-endpoint-id", eid)["ClientConfiguration"]
    lines = text.splitlines()
    assert "proto tcp" in lines and "client" in lines
    assert f"remote {eid}.prod.clientvpn.us-east-1.amazonaws.com 1194" in lines
    assert "auth-user-pass" not in lines  # certificate authentication only


def test_trace_from_a_client_into_the_vpc(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    s = site(ec2, "10.20.0.0/16", "10.20.1.0/24", zone="us-east-1a")
    eid = endpoint(ec2)
    client = "172.16.1.7"
    out = trace(fresh, eid, s.ip, src_ip=client, dst_port=22)
    assert out.disposition == Disposition.NO_ROUTE  # pending-associate
    ec2.associate_client_vpn_target_network(ClientVpnEndpointId=eid, SubnetId=s.subnet_id)
    eni = ec2.describe_network_interfaces(Filters=[
        {"Name": "subnet-id", "Values": [s.subnet_id]},
        {"Name": "description", "Values": ["ClientVPN Endpoint resource"]}]
    )["NetworkInterfaces"][0]
    out = trace(fresh, eid, s.ip, src_ip=client, dst_port=22)
    assert out.disposition == Disposition.DENIED_OUT  # no authorization rule yet
    assert "authorization rule" in out.hops[-1].detail
    ec2.authorize_client_vpn_ingress(ClientVpnEndpointId=eid, TargetNetworkCidr="10.20.1.0/24",
                                     AuthorizeAllGroups=True)
    out = trace(fresh, eid, s.ip, src_ip=client, dst_port=22)
    assert out.disposition == Disposition.ACCEPTED
    # Source-NATed to the association's ENI, which sits in the VPC's default security
    # group: the instance's default group admits it as a member.
    assert out.final_flow is not None
    assert out.final_flow.src_ip == ipaddress.ip_address(eni["PrivateIpAddress"])
    assert any(h.node == eid and f"{client} -> {eni['PrivateIpAddress']}" in h.detail
               for h in out.hops)
    assert out.hops[-1].node == s.instance_id
    # The authorization rule covers 10.20.1.0/24 only; the route covers the whole VPC.
    assert trace(fresh, eid, "10.20.2.9", src_ip=client).disposition == Disposition.DENIED_OUT
    assert trace(fresh, eid, s.ip, src_ip="192.168.0.1").disposition == (
        Disposition.DENIED_OUT)  # not a client address
    assert trace(fresh, eid, "8.8.8.8", src_ip=client).disposition == Disposition.NO_ROUTE
