"""Cloud WAN Connect peers (GRE and tunnel-less) and core networks shared through RAM, on a
real server with boto3: addressing from the edge's inside CIDR blocks, AWS's two stages of
errors (ValidationException up front, FAILED with LastModificationErrors after), and an
account attaching its VPC only once the owner's share is accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server

A, B = "111111111111", "222222222222"
EDGE = "us-east-1"


def document(require_acceptance: bool = False) -> str:
    return json.dumps({
        "version": "2021.12",
        "core-network-configuration": {
            "asn-ranges": ["64512-65534"], "inside-cidr-blocks": ["10.100.0.0/16"],
            "edge-locations": [{"location": EDGE, "inside-cidr-blocks": ["10.100.0.0/24"]},
                               {"location": "eu-west-1"}]},
        "segments": [{"name": "prod", "require-attachment-acceptance": require_acceptance}],
        "attachment-policies": [{"rule-number": 100, "conditions": [{"type": "any"}],
                                 "action": {"association-method": "constant",
                                            "segment": "prod"}}]})


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def core_network(server: Server, account: str, require_acceptance: bool = False
                 ) -> tuple[Any, dict[str, Any]]:
    nm = server.client("networkmanager", region="us-west-2", account=account)
    gn = nm.create_global_network()["GlobalNetwork"]["GlobalNetworkId"]
    core = nm.create_core_network(GlobalNetworkId=gn, PolicyDocument=document(
        require_acceptance))["CoreNetwork"]
    return nm, core


def vpc(server: Server, account: str) -> tuple[str, str, str]:
    """A VPC 10.1.0.0/16 with subnet 10.1.1.0/24 in EDGE: (vpc ARN, subnet ARN, subnet id)."""
    ec2 = server.client("ec2", region=EDGE, account=account)
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    return (f"arn:aws:ec2:{EDGE}:{account}:vpc/{vpc_id}",
            f"arn:aws:ec2:{EDGE}:{account}:subnet/{subnet}", subnet)


def test_gre_and_tunnel_less_connect_peers(fresh: Server) -> None:
    nm, core = core_network(fresh, A)
    core_id = core["CoreNetworkId"]
    edge_asn = core["Edges"][0]["Asn"]
    vpc_arn, subnet_arn, _ = vpc(fresh, A)
    transport = nm.create_vpc_attachment(CoreNetworkId=core_id, VpcArn=vpc_arn,
                                         SubnetArns=[subnet_arn])["VpcAttachment"][
        "Attachment"]["AttachmentId"]
    gre = nm.create_connect_attachment(CoreNetworkId=core_id, EdgeLocation=EDGE,
                                       TransportAttachmentId=transport,
                                       Options={"Protocol": "GRE"})["ConnectAttachment"][
        "Attachment"]["AttachmentId"]
    bare = nm.create_connect_attachment(CoreNetworkId=core_id, EdgeLocation=EDGE,
                                        TransportAttachmentId=transport,
                                        Options={"Protocol": "NO_ENCAP"})["ConnectAttachment"][
        "Attachment"]["AttachmentId"]

    def create(attachment: str, peer: str, **kw: Any) -> dict[str, Any]:
        made: dict[str, Any] = nm.create_connect_peer(
            ConnectAttachmentId=attachment, PeerAddress=peer,
            BgpOptions={"PeerAsn": 65010}, **kw)["ConnectPeer"]
        assert made["State"] == "CREATING"
        got: dict[str, Any] = nm.get_connect_peer(ConnectPeerId=made["ConnectPeerId"])[
            "ConnectPeer"]
        return got

    # GRE with a given /29: the first edge address, two BGP sessions on .2 and .3.
    first = create(gre, "192.0.2.10", InsideCidrBlocks=["169.254.10.0/29"],
                   Tags=[{"Key": "Name", "Value": "sdwan-1"}])
    assert first["State"] == "AVAILABLE" and first["EdgeLocation"] == EDGE
    config = first["Configuration"]
    assert config["Protocol"] == "GRE" and config["CoreNetworkAddress"] == "10.100.0.1"
    assert config["InsideCidrBlocks"] == ["169.254.10.0/29"]
    assert [(b["CoreNetworkAddress"], b["PeerAddress"], b["CoreNetworkAsn"], b["PeerAsn"])
            for b in config["BgpConfigurations"]] == [
        ("169.254.10.2", "169.254.10.1", edge_asn, 65010),
        ("169.254.10.3", "169.254.10.1", edge_asn, 65010)]
    # No /29 given: the first free one that AWS does not reserve (169.254.0.0/29 is
    # reserved); the next edge address.
    second = create(gre, "192.0.2.11")
    assert second["Configuration"]["InsideCidrBlocks"] == ["169.254.0.8/29"]
    assert second["Configuration"]["CoreNetworkAddress"] == "10.100.0.2"

    # Failures found against the network: FAILED, with AWS's error codes.
    wrong_size = create(gre, "192.0.2.12", InsideCidrBlocks=["169.254.20.0/28"])
    assert wrong_size["State"] == "FAILED"
    assert wrong_size["LastModificationErrors"][0]["Code"] == "INVALID_INSIDE_CIDR_BLOCK"
    reserved = create(gre, "192.0.2.13", InsideCidrBlocks=["169.254.1.0/29"])
    assert reserved["LastModificationErrors"][0]["Code"] == "INVALID_INSIDE_CIDR_BLOCK"
    overlap = create(gre, "192.0.2.14", InsideCidrBlocks=["169.254.10.0/29"])
    assert overlap["LastModificationErrors"][0]["Code"] == "INVALID_INSIDE_CIDR_BLOCK"
    v6 = create(gre, "2001:db8::1")  # the edge has no IPv6 inside CIDR block
    assert v6["LastModificationErrors"][0]["Code"] == "NO_ASSOCIATED_CIDR_BLOCK"
    outside = create(gre, "192.0.2.15", CoreNetworkAddress="10.200.0.1")
    assert outside["LastModificationErrors"][0]["Code"] == "NO_ASSOCIATED_CIDR_BLOCK"
    duplicate = create(gre, "192.0.2.10")
    assert duplicate["LastModificationErrors"][0]["Code"] == "EDGE_LOCATION_PEER_DUPLICATE"

    # Wrong on its face: ValidationException, nothing created.
    before = len(nm.list_connect_peers()["ConnectPeers"])
    bad: list[dict[str, Any]] = [
        {"PeerAddress": "not-an-ip", "BgpOptions": {"PeerAsn": 65010}},
        {"PeerAddress": "192.0.2.20"},  # no peer ASN
        {"PeerAddress": "192.0.2.20", "BgpOptions": {"PeerAsn": 65010},
         "SubnetArn": subnet_arn},  # a NO_ENCAP option on a GRE attachment
        {"PeerAddress": "192.0.2.20", "BgpOptions": {"PeerAsn": 65010},
         "CoreNetworkAddress": "fd00::1"}]  # mixed address families
    for kwargs in bad:
        with pytest.raises(ClientError) as exc:
            nm.create_connect_peer(ConnectAttachmentId=gre, **kwargs)
        assert code(exc) == "ValidationException", kwargs
    with pytest.raises(ClientError) as exc:
        nm.create_connect_peer(ConnectAttachmentId=bare, PeerAddress="10.1.1.50",
                               BgpOptions={"PeerAsn": 65010})  # NO_ENCAP needs the subnet
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        nm.create_connect_peer(ConnectAttachmentId=transport, PeerAddress="10.1.1.50",
                               BgpOptions={"PeerAsn": 65010})  # not a Connect attachment
    assert code(exc) == "ResourceNotFoundException"
    assert len(nm.list_connect_peers()["ConnectPeers"]) == before

    # Tunnel-less: BGP to the appliance's own address, core addresses from its subnet.
    tunnel_less = create(bare, "10.1.1.50", SubnetArn=subnet_arn)
    assert tunnel_less["State"] == "AVAILABLE", tunnel_less
    assert tunnel_less["SubnetArn"] == subnet_arn
    assert tunnel_less["Configuration"]["Protocol"] == "NO_ENCAP"
    assert [(b["CoreNetworkAddress"], b["PeerAddress"])
            for b in tunnel_less["Configuration"]["BgpConfigurations"]] == [
        ("10.1.1.4", "10.1.1.50"), ("10.1.1.5", "10.1.1.50")]
    off_subnet = create(bare, "10.1.9.9", SubnetArn=subnet_arn)
    assert off_subnet["LastModificationErrors"][0]["Code"] == "IP_OUTSIDE_SUBNET_CIDR_RANGE"

    # Listing, tags, associations, deletion order.
    listed = nm.list_connect_peers(ConnectAttachmentId=bare)["ConnectPeers"]
    assert {p["ConnectPeerId"] for p in listed} == {tunnel_less["ConnectPeerId"],
                                                     off_subnet["ConnectPeerId"]}
    arn = f"arn:aws:networkmanager::{A}:connect-peer/{first['ConnectPeerId']}"
    assert nm.list_tags_for_resource(ResourceArn=arn)["TagList"] == [
        {"Key": "Name", "Value": "sdwan-1"}]
    assert nm.get_connect_peer_associations(
        GlobalNetworkId=core["GlobalNetworkId"],
        ConnectPeerIds=[first["ConnectPeerId"]])["ConnectPeerAssociations"] == []
    with pytest.raises(ClientError) as exc:
        nm.delete_attachment(AttachmentId=gre)
    assert code(exc) == "ConflictException"
    assert nm.delete_connect_peer(ConnectPeerId=first["ConnectPeerId"])["ConnectPeer"][
        "State"] == "DELETING"
    with pytest.raises(ClientError) as exc:
        nm.get_connect_peer(ConnectPeerId=first["ConnectPeerId"])
    assert code(exc) == "ResourceNotFoundException"
    # Freed addresses are handed out again.
    again = create(gre, "192.0.2.30")
    assert again["Configuration"]["CoreNetworkAddress"] == "10.100.0.1"


def test_core_network_shared_through_ram(fresh: Server) -> None:
    nm_a, core = core_network(fresh, A, require_acceptance=True)
    core_id, core_arn = core["CoreNetworkId"], core["CoreNetworkArn"]
    nm_b = fresh.client("networkmanager", region="us-west-2", account=B)
    vpc_arn, subnet_arn, _ = vpc(fresh, B)

    def attach() -> dict[str, Any]:
        out: dict[str, Any] = nm_b.create_vpc_attachment(
            CoreNetworkId=core_id, VpcArn=vpc_arn, SubnetArns=[subnet_arn])[
            "VpcAttachment"]["Attachment"]
        return out

    with pytest.raises(ClientError) as exc:  # not shared: B cannot see the core network
        attach()
    assert code(exc) == "ResourceNotFoundException"

    # A global resource is shared from us-east-1 only.
    with pytest.raises(ClientError) as exc:
        fresh.client("ram", region="eu-west-1", account=A).create_resource_share(
            name="wan", resourceArns=[core_arn], principals=[B])
    assert code(exc) == "InvalidParameterException"
    ram_a = fresh.client("ram", region="us-east-1", account=A)
    share = ram_a.create_resource_share(name="wan", resourceArns=[core_arn],
                                        principals=[B])["resourceShare"]["resourceShareArn"]
    with pytest.raises(ClientError) as exc:  # shared but not yet accepted
        attach()
    assert code(exc) == "ResourceNotFoundException"

    ram_b = fresh.client("ram", region="us-east-1", account=B)
    invitation = ram_b.get_resource_share_invitations(resourceShareArns=[share])[
        "resourceShareInvitations"][0]["resourceShareInvitationArn"]
    ram_b.accept_resource_share_invitation(resourceShareInvitationArn=invitation)
    resources = ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert [(r["arn"], r["type"], r["resourceRegionScope"]) for r in resources] == [
        (core_arn, "networkmanager:CoreNetwork", "GLOBAL")]

    made = attach()
    assert made["OwnerAccountId"] == B and made["CoreNetworkId"] == core_id
    att_id = made["AttachmentId"]
    assert nm_b.get_vpc_attachment(AttachmentId=att_id)["VpcAttachment"]["Attachment"][
        "State"] == "PENDING_ATTACHMENT_ACCEPTANCE"
    with pytest.raises(ClientError) as exc:  # only the core network's owner accepts
        nm_b.accept_attachment(AttachmentId=att_id)
    assert code(exc) == "ResourceNotFoundException"
    assert att_id in {a["AttachmentId"] for a in nm_a.list_attachments()["Attachments"]}
    accepted = nm_a.accept_attachment(AttachmentId=att_id)["Attachment"]
    assert accepted["State"] == "AVAILABLE" and accepted["SegmentName"] == "prod"

    # Disassociating the share stops new attachments (the existing one stays).
    ram_a.disassociate_resource_share(resourceShareArn=share, resourceArns=[core_arn])
    ec2_b = fresh.client("ec2", region=EDGE, account=B)
    other = ec2_b.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    sub = ec2_b.create_subnet(VpcId=other, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    with pytest.raises(ClientError) as exc:
        nm_b.create_vpc_attachment(CoreNetworkId=core_id,
                                   VpcArn=f"arn:aws:ec2:{EDGE}:{B}:vpc/{other}",
                                   SubnetArns=[f"arn:aws:ec2:{EDGE}:{B}:subnet/{sub}"])
    assert code(exc) == "ResourceNotFoundException"
    assert nm_a.get_vpc_attachment(AttachmentId=att_id)["VpcAttachment"]["Attachment"][
        "State"] == "AVAILABLE"
