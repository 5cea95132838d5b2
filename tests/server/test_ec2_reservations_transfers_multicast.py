"""Subnet CIDR reservations (and how automatic addressing honours them), Elastic IP
transfers between accounts, retired EC2-Classic operations, transit gateway multicast and
GetInstanceTypesFromInstanceRequirements, through boto3 and the AWS CLI."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server

A, B = "111111111111", "222222222222"


def fails(expected: str, fn: Any, **kw: Any) -> ClientError:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == expected, e.value.response["Error"]
    return e.value


def vpc_with_subnet(ec2: Any, v6: bool = False) -> tuple[str, str, ipaddress.IPv6Network | None]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=v6)["Vpc"]
    block = None
    kw: dict[str, Any] = {}
    if v6:
        whole = ipaddress.ip_network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
        block = next(whole.subnets(new_prefix=64))
        kw["Ipv6CidrBlock"] = str(block)
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                               AvailabilityZone="us-east-1a", **kw)["Subnet"]["SubnetId"]
    assert block is None or isinstance(block, ipaddress.IPv6Network)
    return vpc["VpcId"], subnet, block


def new_eni(ec2: Any, subnet: str) -> dict[str, Any]:
    return dict(ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"])


# ---------------------------------------------------------------------- reservations
def test_subnet_cidr_reservations_validate_list_and_delete(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc, subnet, v6 = vpc_with_subnet(ec2, v6=True)
    assert v6 is not None
    v4 = ec2.create_subnet_cidr_reservation(
        SubnetId=subnet, Cidr="10.0.1.16/28", ReservationType="explicit", Description="fw",
        TagSpecifications=[{"ResourceType": "subnet-cidr-reservation",
                            "Tags": [{"Key": "team", "Value": "net"}]}],
    )["SubnetCidrReservation"]
    assert v4["SubnetCidrReservationId"].startswith("scr-")
    assert (v4["Cidr"], v4["ReservationType"], v4["OwnerId"], v4["Description"]) == (
        "10.0.1.16/28", "explicit", "000000000000", "fw")
    six = str(list(v6.subnets(new_prefix=80))[3])
    ec2.create_subnet_cidr_reservation(SubnetId=subnet, Cidr=six, ReservationType="prefix")
    # outside the subnet, overlapping another reservation, malformed, unknown subnet
    fails("InvalidParameterValue", ec2.create_subnet_cidr_reservation, SubnetId=subnet,
          Cidr="10.0.2.0/28", ReservationType="prefix")
    fails("InvalidParameterValue", ec2.create_subnet_cidr_reservation, SubnetId=subnet,
          Cidr="10.0.1.0/27", ReservationType="prefix")
    fails("InvalidParameterValue", ec2.create_subnet_cidr_reservation, SubnetId=subnet,
          Cidr="10.0.1.17/28", ReservationType="prefix")
    fails("InvalidSubnetID.NotFound", ec2.create_subnet_cidr_reservation,
          SubnetId="subnet-0123456789abcdef0", Cidr="10.0.1.0/28", ReservationType="prefix")
    got = ec2.get_subnet_cidr_reservations(SubnetId=subnet)
    assert [r["Cidr"] for r in got["SubnetIpv4CidrReservations"]] == ["10.0.1.16/28"]
    assert [r["Cidr"] for r in got["SubnetIpv6CidrReservations"]] == [six]
    assert got["SubnetIpv4CidrReservations"][0]["Tags"] == [{"Key": "team", "Value": "net"}]
    only_prefix = ec2.get_subnet_cidr_reservations(
        SubnetId=subnet, Filters=[{"Name": "reservationType", "Values": ["prefix"]}])
    assert only_prefix["SubnetIpv4CidrReservations"] == []
    assert len(only_prefix["SubnetIpv6CidrReservations"]) == 1
    # the AWS CLI sees the same
    cli = fresh.aws("ec2", "get-subnet-cidr-reservations", "--subnet-id", subnet)
    assert [r["Cidr"] for r in cli["SubnetIpv4CidrReservations"]] == ["10.0.1.16/28"]
    gone = ec2.delete_subnet_cidr_reservation(
        SubnetCidrReservationId=v4["SubnetCidrReservationId"])["DeletedSubnetCidrReservation"]
    assert gone["Cidr"] == "10.0.1.16/28"
    fails("InvalidSubnetCidrReservationID.NotFound", ec2.delete_subnet_cidr_reservation,
          SubnetCidrReservationId=v4["SubnetCidrReservationId"])
    assert ec2.get_subnet_cidr_reservations(SubnetId=subnet)["SubnetIpv4CidrReservations"] == []
    # another account sees neither the subnet nor its reservations
    other = fresh.client("ec2", account=B)
    fails("InvalidSubnetID.NotFound", other.get_subnet_cidr_reservations, SubnetId=subnet)
    assert vpc


def test_explicit_reservations_are_skipped_by_automatic_assignment(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    _, subnet, _ = vpc_with_subnet(ec2)
    scr = ec2.create_subnet_cidr_reservation(SubnetId=subnet, Cidr="10.0.1.0/28",
                                             ReservationType="explicit")[
        "SubnetCidrReservation"]["SubnetCidrReservationId"]
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet)[
        "Instances"][0]
    assert inst["PrivateIpAddress"] == "10.0.1.16"  # .4-.15 are reserved
    eni = new_eni(ec2, subnet)
    assert eni["PrivateIpAddress"] == "10.0.1.17"
    added = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                            SecondaryPrivateIpAddressCount=2)
    assert [a["PrivateIpAddress"] for a in added["AssignedPrivateIpAddresses"]] == [
        "10.0.1.18", "10.0.1.19"]
    # naming a reserved address is allowed: that is what explicit reservations are for
    named = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.0.1.5")
    assert named["NetworkInterface"]["PrivateIpAddress"] == "10.0.1.5"
    ec2.delete_subnet_cidr_reservation(SubnetCidrReservationId=scr)
    assert new_eni(ec2, subnet)["PrivateIpAddress"] == "10.0.1.4"


def test_prefix_reservations_supply_delegated_prefixes(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    _, subnet, v6 = vpc_with_subnet(ec2, v6=True)
    assert v6 is not None
    ec2.create_subnet_cidr_reservation(SubnetId=subnet, Cidr="10.0.1.128/26",
                                       ReservationType="prefix")
    v6_range = list(v6.subnets(new_prefix=80))[7]
    ec2.create_subnet_cidr_reservation(SubnetId=subnet, Cidr=str(v6_range),
                                       ReservationType="prefix")
    eni = new_eni(ec2, subnet)
    assert eni["PrivateIpAddress"] == "10.0.1.4"
    eni_id = eni["NetworkInterfaceId"]
    out = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, Ipv4PrefixCount=2)
    assert [p["Ipv4Prefix"] for p in out["AssignedIpv4Prefixes"]] == [
        "10.0.1.128/28", "10.0.1.144/28"]
    v6out = ec2.assign_ipv6_addresses(NetworkInterfaceId=eni_id, Ipv6PrefixCount=1)
    assert v6out["AssignedIpv6Prefixes"] == [str(v6_range)]
    # single addresses never come from a prefix reservation, even when asked for many
    more = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id,
                                           SecondaryPrivateIpAddressCount=3)
    ips = [ipaddress.ip_address(a["PrivateIpAddress"])
           for a in more["AssignedPrivateIpAddresses"]]
    assert all(ip not in ipaddress.ip_network("10.0.1.128/26") for ip in ips)
    # when the reserved range is full, prefixes come from the rest of the subnet
    rest = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, Ipv4PrefixCount=3)
    got = [ipaddress.ip_network(p["Ipv4Prefix"]) for p in rest["AssignedIpv4Prefixes"]]
    inside = [p for p in got if p.subnet_of(ipaddress.ip_network("10.0.1.128/26"))]
    assert [str(p) for p in inside] == ["10.0.1.160/28", "10.0.1.176/28"]
    assert len(got) == 3
    described = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])[
        "NetworkInterfaces"][0]
    assert len(described["Ipv4Prefixes"]) == 5


# ---------------------------------------------------------------------- EIP transfers
def test_elastic_ip_transfer_between_accounts(fresh: Server) -> None:
    a, b = fresh.client("ec2", account=A), fresh.client("ec2", account=B)
    _, subnet, _ = vpc_with_subnet(a)
    vpc_id = a.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    igw = a.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    a.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    eip = a.allocate_address(Domain="vpc")
    alloc, ip = eip["AllocationId"], eip["PublicIp"]
    a.create_tags(Resources=[alloc], Tags=[{"Key": "owner", "Value": "a"}])
    eni = new_eni(a, subnet)["NetworkInterfaceId"]
    assoc = a.associate_address(AllocationId=alloc, NetworkInterfaceId=eni)["AssociationId"]
    fails("InvalidIPAddress.InUse", a.enable_address_transfer, AllocationId=alloc,
          TransferAccountId=B)
    a.disassociate_address(AssociationId=assoc)
    fails("InvalidParameterValue", a.enable_address_transfer, AllocationId=alloc,
          TransferAccountId=A)
    fails("InvalidParameterValue", a.enable_address_transfer, AllocationId=alloc,
          TransferAccountId="12345")
    fails("InvalidAllocationID.NotFound", b.enable_address_transfer, AllocationId=alloc,
          TransferAccountId=A)
    offer = a.enable_address_transfer(AllocationId=alloc, TransferAccountId=B)[
        "AddressTransfer"]
    assert (offer["AllocationId"], offer["PublicIp"], offer["TransferAccountId"],
            offer["AddressTransferStatus"]) == (alloc, ip, B, "pending")
    lapse = offer["TransferOfferExpirationTimestamp"]
    listed = a.describe_address_transfers(AllocationIds=[alloc])["AddressTransfers"]
    assert [t["AddressTransferStatus"] for t in listed] == ["pending"]
    assert listed[0]["TransferOfferExpirationTimestamp"] == lapse
    left = lapse - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)  # seven days to accept
    # withdrawing the offer makes it unacceptable; a new offer revives it
    assert a.disable_address_transfer(AllocationId=alloc)["AddressTransfer"][
        "AddressTransferStatus"] == "disabled"
    fails("InvalidAddress.NotFound", b.accept_address_transfer, Address=ip)
    fails("InvalidParameterValue", a.disable_address_transfer, AllocationId=alloc)
    a.enable_address_transfer(AllocationId=alloc, TransferAccountId=B)
    fails("InvalidAddress.NotFound", fresh.client("ec2", account="333333333333")
          .accept_address_transfer, Address=ip)
    done = b.accept_address_transfer(Address=ip, TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "owner", "Value": "b"}]}])[
        "AddressTransfer"]
    assert done["AddressTransferStatus"] == "accepted"
    assert done["TransferOfferAcceptedTimestamp"] is not None
    mine = b.describe_addresses()["Addresses"]
    assert [(x["AllocationId"], x["PublicIp"]) for x in mine] == [(alloc, ip)]
    assert mine[0]["Tags"] == [{"Key": "owner", "Value": "b"}]
    assert a.describe_addresses()["Addresses"] == []
    fails("InvalidAllocationID.NotFound", a.release_address, AllocationId=alloc)
    assert [t["AddressTransferStatus"] for t in a.describe_address_transfers()[
        "AddressTransfers"]] == ["accepted"]
    fails("InvalidAddress.NotFound", b.accept_address_transfer, Address=ip)
    # the new owner can use and release it
    b.release_address(AllocationId=alloc)
    assert b.describe_addresses()["Addresses"] == []


# ---------------------------------------------------------------------- EC2-Classic
def test_ec2_classic_operations_answer_as_retired(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc, _, _ = vpc_with_subnet(ec2)
    ip = ec2.allocate_address(Domain="vpc")["PublicIp"]
    for fn, kw in ((ec2.move_address_to_vpc, {"PublicIp": ip}),
                   (ec2.restore_address_to_classic, {"PublicIp": ip}),
                   (ec2.enable_vpc_classic_link, {"VpcId": vpc}),
                   (ec2.disable_vpc_classic_link, {"VpcId": vpc}),
                   (ec2.enable_vpc_classic_link_dns_support, {"VpcId": vpc}),
                   (ec2.disable_vpc_classic_link_dns_support, {"VpcId": vpc}),
                   (ec2.describe_vpc_classic_link, {"VpcIds": [vpc]}),
                   (ec2.describe_vpc_classic_link_dns_support, {"VpcIds": [vpc]}),
                   (ec2.attach_classic_link_vpc, {"InstanceId": "i-0123456789abcdef0",
                                                  "VpcId": vpc, "Groups": ["sg-1"]}),
                   (ec2.detach_classic_link_vpc, {"InstanceId": "i-0123456789abcdef0",
                                                  "VpcId": vpc})):
        err = fails("UnsupportedOperation", fn, **kw)
        assert "EC2-Classic" in err.response["Error"]["Message"]
    assert ec2.describe_moving_addresses(PublicIps=[ip])["MovingAddressStatuses"] == []
    assert ec2.describe_classic_link_instances()["Instances"] == []
    fails("InvalidParameterValue", ec2.describe_moving_addresses,
          Filters=[{"Name": "nonsense", "Values": ["x"]}])


# ---------------------------------------------------------------------- multicast
def multicast_tgw(ec2: Any, **options: str) -> str:
    return str(ec2.create_transit_gateway(Options={"MulticastSupport": "enable", **options})[
        "TransitGateway"]["TransitGatewayId"])


def test_multicast_domain_lifecycle_and_groups(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc, subnet, _ = vpc_with_subnet(ec2)
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                              AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    plain = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    fails("InvalidParameterValue", ec2.create_transit_gateway_multicast_domain,
          TransitGatewayId=plain)
    tgw = multicast_tgw(ec2)
    assert ec2.describe_transit_gateways(TransitGatewayIds=[tgw])["TransitGateways"][0][
        "Options"]["MulticastSupport"] == "enable"
    att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])[
        "TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    domain = ec2.create_transit_gateway_multicast_domain(
        TransitGatewayId=tgw, Options={"StaticSourcesSupport": "enable"})[
        "TransitGatewayMulticastDomain"]
    dom = domain["TransitGatewayMulticastDomainId"]
    assert domain["Options"] == {"Igmpv2Support": "disable", "StaticSourcesSupport": "enable",
                                 "AutoAcceptSharedAssociations": "disable"}
    listed = ec2.describe_transit_gateway_multicast_domains(
        Filters=[{"Name": "transit-gateway-id", "Values": [tgw]}])[
        "TransitGatewayMulticastDomains"]
    assert [(d["TransitGatewayMulticastDomainId"], d["State"]) for d in listed] == [
        (dom, "available")]
    fails("InvalidTransitGatewayMulticastDomainId.NotFound",
          ec2.describe_transit_gateway_multicast_domains,
          TransitGatewayMulticastDomainIds=["tgw-mcast-domain-0123456789abcdef0"])
    # only the attachment's subnets can join
    fails("InvalidParameterValue", ec2.associate_transit_gateway_multicast_domain,
          TransitGatewayMulticastDomainId=dom, TransitGatewayAttachmentId=att,
          SubnetIds=[other])
    out = ec2.associate_transit_gateway_multicast_domain(
        TransitGatewayMulticastDomainId=dom, TransitGatewayAttachmentId=att,
        SubnetIds=[subnet])["Associations"]
    assert (out["ResourceId"], out["ResourceType"], out["Subnets"]) == (
        vpc, "vpc", [{"SubnetId": subnet, "State": "associating"}])
    rows = ec2.get_transit_gateway_multicast_domain_associations(
        TransitGatewayMulticastDomainId=dom)["MulticastDomainAssociations"]
    assert [(r["TransitGatewayAttachmentId"], r["Subnet"]) for r in rows] == [
        (att, {"SubnetId": subnet, "State": "associated"})]
    # a subnet is in at most one domain
    second = ec2.create_transit_gateway_multicast_domain(TransitGatewayId=tgw)[
        "TransitGatewayMulticastDomain"]["TransitGatewayMulticastDomainId"]
    fails("InvalidParameterValue", ec2.associate_transit_gateway_multicast_domain,
          TransitGatewayMulticastDomainId=second, TransitGatewayAttachmentId=att,
          SubnetIds=[subnet])
    # members and sources
    receiver, sender = new_eni(ec2, subnet), new_eni(ec2, subnet)
    outsider = new_eni(ec2, other)
    group = "239.1.2.3"
    reg = ec2.register_transit_gateway_multicast_group_members(
        TransitGatewayMulticastDomainId=dom, GroupIpAddress=group,
        NetworkInterfaceIds=[receiver["NetworkInterfaceId"]])["RegisteredMulticastGroupMembers"]
    assert reg["RegisteredNetworkInterfaceIds"] == [receiver["NetworkInterfaceId"]]
    ec2.register_transit_gateway_multicast_group_sources(
        TransitGatewayMulticastDomainId=dom, GroupIpAddress=group,
        NetworkInterfaceIds=[sender["NetworkInterfaceId"]])
    fails("InvalidParameterValue", ec2.register_transit_gateway_multicast_group_members,
          TransitGatewayMulticastDomainId=dom, GroupIpAddress="10.0.0.1",
          NetworkInterfaceIds=[receiver["NetworkInterfaceId"]])
    fails("InvalidParameterValue", ec2.register_transit_gateway_multicast_group_members,
          TransitGatewayMulticastDomainId=dom, GroupIpAddress=group,
          NetworkInterfaceIds=[outsider["NetworkInterfaceId"]])
    fails("InvalidParameterValue", ec2.register_transit_gateway_multicast_group_sources,
          TransitGatewayMulticastDomainId=second, GroupIpAddress=group,
          NetworkInterfaceIds=[sender["NetworkInterfaceId"]])  # no static sources there
    found = ec2.search_transit_gateway_multicast_groups(TransitGatewayMulticastDomainId=dom)[
        "MulticastGroups"]
    assert {(g["NetworkInterfaceId"], g["GroupMember"], g["GroupSource"]) for g in found} == {
        (receiver["NetworkInterfaceId"], True, False), (sender["NetworkInterfaceId"], False, True)}
    assert all(g["GroupIpAddress"] == group and g["TransitGatewayAttachmentId"] == att
               and g["SubnetId"] == subnet for g in found)
    sources = ec2.search_transit_gateway_multicast_groups(
        TransitGatewayMulticastDomainId=dom,
        Filters=[{"Name": "is-group-source", "Values": ["true"]}])["MulticastGroups"]
    assert [g["NetworkInterfaceId"] for g in sources] == [sender["NetworkInterfaceId"]]
    assert sources[0]["SourceType"] == "static"
    gone = ec2.deregister_transit_gateway_multicast_group_members(
        TransitGatewayMulticastDomainId=dom, GroupIpAddress=group,
        NetworkInterfaceIds=[receiver["NetworkInterfaceId"]])["DeregisteredMulticastGroupMembers"]
    assert gone["DeregisteredNetworkInterfaceIds"] == [receiver["NetworkInterfaceId"]]
    assert len(ec2.search_transit_gateway_multicast_groups(
        TransitGatewayMulticastDomainId=dom)["MulticastGroups"]) == 1
    # a domain with associations cannot go; disassociating takes the registrations along
    fails("DependencyViolation", ec2.delete_transit_gateway_multicast_domain,
          TransitGatewayMulticastDomainId=dom)
    out = ec2.disassociate_transit_gateway_multicast_domain(
        TransitGatewayMulticastDomainId=dom, TransitGatewayAttachmentId=att,
        SubnetIds=[subnet])["Associations"]
    assert out["Subnets"] == [{"SubnetId": subnet, "State": "disassociating"}]
    assert ec2.search_transit_gateway_multicast_groups(
        TransitGatewayMulticastDomainId=dom)["MulticastGroups"] == []
    assert ec2.delete_transit_gateway_multicast_domain(TransitGatewayMulticastDomainId=dom)[
        "TransitGatewayMulticastDomain"]["State"] == "deleting"
    assert [d["TransitGatewayMulticastDomainId"] for d in
            ec2.describe_transit_gateway_multicast_domains()[
                "TransitGatewayMulticastDomains"]] == [second]


def test_shared_associations_wait_for_the_domain_owner(fresh: Server) -> None:
    ec2a, ec2b = fresh.client("ec2", account=A), fresh.client("ec2", account=B)
    tgw = multicast_tgw(ec2a, AutoAcceptSharedAttachments="enable")
    ram_a, ram_b = fresh.client("ram", account=A), fresh.client("ram", account=B)
    share = ram_a.create_resource_share(
        name="mcast", principals=[B],
        resourceArns=[f"arn:aws:ec2:us-east-1:{A}:transit-gateway/{tgw}"])[
        "resourceShare"]["resourceShareArn"]
    inv = ram_b.get_resource_share_invitations(resourceShareArns=[share])[
        "resourceShareInvitations"][0]["resourceShareInvitationArn"]
    ram_b.accept_resource_share_invitation(resourceShareInvitationArn=inv)
    dom = ec2a.create_transit_gateway_multicast_domain(TransitGatewayId=tgw)[
        "TransitGatewayMulticastDomain"]["TransitGatewayMulticastDomainId"]
    vpc, subnet, _ = vpc_with_subnet(ec2b)
    att = ec2b.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])[
        "TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    out = ec2b.associate_transit_gateway_multicast_domain(
        TransitGatewayMulticastDomainId=dom, TransitGatewayAttachmentId=att,
        SubnetIds=[subnet])["Associations"]
    assert out["ResourceOwnerId"] == B
    assert out["Subnets"] == [{"SubnetId": subnet, "State": "pendingAcceptance"}]
    fails("OperationNotPermitted", ec2b.accept_transit_gateway_multicast_domain_associations,
          TransitGatewayMulticastDomainId=dom, TransitGatewayAttachmentId=att,
          SubnetIds=[subnet])
    eni = new_eni(ec2b, subnet)["NetworkInterfaceId"]
    fails("InvalidParameterValue", ec2b.register_transit_gateway_multicast_group_members,
          TransitGatewayMulticastDomainId=dom, GroupIpAddress="239.0.0.9",
          NetworkInterfaceIds=[eni])  # not associated yet
    accepted = ec2a.accept_transit_gateway_multicast_domain_associations(
        TransitGatewayMulticastDomainId=dom, TransitGatewayAttachmentId=att,
        SubnetIds=[subnet])["Associations"]
    assert accepted["Subnets"] == [{"SubnetId": subnet, "State": "associating"}]
    fails("IncorrectState", ec2a.reject_transit_gateway_multicast_domain_associations,
          TransitGatewayMulticastDomainId=dom, TransitGatewayAttachmentId=att,
          SubnetIds=[subnet])
    ec2b.register_transit_gateway_multicast_group_members(
        TransitGatewayMulticastDomainId=dom, GroupIpAddress="239.0.0.9",
        NetworkInterfaceIds=[eni])
    rows = ec2a.search_transit_gateway_multicast_groups(TransitGatewayMulticastDomainId=dom)[
        "MulticastGroups"]
    assert [(r["NetworkInterfaceId"], r["ResourceOwnerId"]) for r in rows] == [(eni, B)]
    # an account the gateway is not shared with sees nothing
    fails("InvalidTransitGatewayMulticastDomainId.NotFound",
          fresh.client("ec2", account="333333333333")
          .get_transit_gateway_multicast_domain_associations,
          TransitGatewayMulticastDomainId=dom)


# ---------------------------------------------------------------------- instance requirements
def test_instance_types_from_requirements(fresh: Server) -> None:
    ec2 = fresh.client("ec2")

    def names(**req: Any) -> list[str]:
        out: list[str] = []
        kw: dict[str, Any] = {}
        while True:
            page = ec2.get_instance_types_from_instance_requirements(
                ArchitectureTypes=req.pop("archs", ["x86_64"]), VirtualizationTypes=["hvm"],
                InstanceRequirements=req, **kw)
            out += [t["InstanceType"] for t in page["InstanceTypes"]]
            if not page.get("NextToken"):
                return out
            kw = {"NextToken": page["NextToken"]}

    base = {"VCpuCount": {"Min": 2, "Max": 2}, "MemoryMiB": {"Min": 4096, "Max": 4096}}
    plain = names(**base)
    burst = names(**base, BurstablePerformance="required")
    assert plain and not any(n.startswith("t") for n in plain)  # excluded by default
    assert "t3.medium" in burst and all(n[0] == "t" for n in burst)
    assert set(names(**base, BurstablePerformance="included")) == set(plain) | set(burst)
    specs = {t["InstanceType"]: t for t in ec2.describe_instance_types(
        InstanceTypes=plain[:20])["InstanceTypes"]}
    for t in specs.values():
        assert t["VCpuInfo"]["DefaultVCpus"] == 2 and t["MemoryInfo"]["SizeInMiB"] == 4096
        assert "x86_64" in t["ProcessorInfo"]["SupportedArchitectures"]
    arm = names(**base, archs=["arm64"])
    assert arm and not set(arm) & set(plain)
    current = names(**base, InstanceGenerations=["current"])
    assert set(current) < set(plain)
    assert names(**base, AllowedInstanceTypes=["m5*.*"]) == [n for n in plain
                                                             if n.startswith("m5")]
    assert "c5.large" not in names(**base, ExcludedInstanceTypes=["c5.*"])
    metal = names(VCpuCount={"Min": 1}, MemoryMiB={"Min": 0}, BareMetal="required")
    assert metal and all("metal" in n for n in metal)
    fails("InvalidParameterCombination", ec2.get_instance_types_from_instance_requirements,
          ArchitectureTypes=["x86_64"], VirtualizationTypes=["hvm"],
          InstanceRequirements={**base, "AllowedInstanceTypes": ["m5.*"],
                                "ExcludedInstanceTypes": ["c5.*"]})
    fails("InvalidParameterValue", ec2.get_instance_types_from_instance_requirements,
          ArchitectureTypes=["x86_64"], VirtualizationTypes=["hvm"],
          InstanceRequirements={"VCpuCount": {"Min": 4, "Max": 2},
                                "MemoryMiB": {"Min": 0}})


def test_deleting_a_subnet_drops_its_reservations_and_a_tgw_keeps_its_domains(
        fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    ec2.create_subnet_cidr_reservation(SubnetId=sub, Cidr="10.9.1.16/28",
                                       ReservationType="explicit")
    assert _stored(fresh, "subnet_cidr_reservations") == 1
    ec2.delete_subnet(SubnetId=sub)
    assert _stored(fresh, "subnet_cidr_reservations") == 0  # gone from the store too
    again = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    got = ec2.get_subnet_cidr_reservations(SubnetId=again)
    assert got["SubnetIpv4CidrReservations"] == []
    # the old subnet's range is free again in the new subnet
    ec2.create_subnet_cidr_reservation(SubnetId=again, Cidr="10.9.1.16/28",
                                       ReservationType="explicit")

    tgw = ec2.create_transit_gateway(Options={"MulticastSupport": "enable"})
    tgw_id = tgw["TransitGateway"]["TransitGatewayId"]
    dom = ec2.create_transit_gateway_multicast_domain(TransitGatewayId=tgw_id)
    dom_id = dom["TransitGatewayMulticastDomain"]["TransitGatewayMulticastDomainId"]
    with pytest.raises(ClientError) as e:
        ec2.delete_transit_gateway(TransitGatewayId=tgw_id)
    assert e.value.response["Error"]["Code"] == "DependencyViolation"
    assert dom_id in e.value.response["Error"]["Message"]
    ec2.delete_transit_gateway_multicast_domain(TransitGatewayMulticastDomainId=dom_id)
    ec2.delete_transit_gateway(TransitGatewayId=tgw_id)


def _stored(server: Server, kind: str) -> int:
    import sqlite3
    with sqlite3.connect(server.state) as db:
        return int(db.execute("SELECT count(*) FROM resources WHERE kind = ?",
                              (kind,)).fetchone()[0])
