"""Interface endpoint names in the resolver: an endpoint's own names answer from anywhere
with its ENIs' private addresses; a service's private DNS name answers only in the
consumer VPC, once verified, with private DNS on and the connection available."""

from __future__ import annotations

import pytest
from dnslab import Lab

from localvpc.dns.resolver import Resolver
from localvpc.model.base import parse_ip
from localvpc.model.dns import HostedZone, ResourceRecordSet, ZoneVpc
from localvpc.model.endpoints import VpcEndpoint, VpcEndpointService, endpoint_dns_names
from localvpc.model.interfaces import NetworkInterface, PrivateIp

SVC_ID = "vpce-svc-0123456789abcdef0"
SVC_NAME = f"com.amazonaws.vpce.us-east-1.{SVC_ID}"


@pytest.fixture
def lab() -> Lab:
    return Lab()


def setup(lab: Lab, state: str = "available", dns_state: str = "verified"
          ) -> tuple[str, str, VpcEndpoint, VpcEndpointService]:
    consumer, other = lab.vpc("10.0.0.0/16"), lab.vpc("10.0.0.0/16")
    sub = lab.subnet(consumer, "10.0.1.0/24")
    eni = lab.net.add(NetworkInterface(
        "eni-0000000000000000e", region="us-east-1", subnet_id=sub.id, vpc_id=consumer.id,
        interface_type="vpc_endpoint", private_ips=[PrivateIp(parse_ip("10.0.1.77"), True)]))
    svc = lab.net.add(VpcEndpointService(
        SVC_ID, "111111111111", service_name=SVC_NAME, private_dns_name="search.example.com",
        private_dns_state=dns_state))
    ep = lab.net.add(VpcEndpoint("vpce-0123456789abcdef0", "222222222222",
                                 vpc_id=consumer.id, service_name=SVC_NAME,
                                 endpoint_type="Interface", state=state,
                                 subnet_ids=[sub.id], network_interface_ids=[eni.id],
                                 private_dns_enabled=True))
    return consumer.id, other.id, ep, svc


def ask(lab: Lab, vpc_id: str, name: str) -> tuple[str, list[str]]:
    r = Resolver(lab.source)
    ans = r.resolve(r.origin_vpc(vpc_id), name, "A")
    return ans.rcode, ans.values("A")


def test_endpoint_names_resolve_everywhere_to_the_enis(lab: Lab) -> None:
    consumer, other, ep, _ = setup(lab)
    regional, zonal = endpoint_dns_names(ep, ["us-east-1a"])
    assert regional.endswith(f".{SVC_ID}.us-east-1.vpce.amazonaws.com")
    for vpc in (consumer, other):
        assert ask(lab, vpc, regional) == ("NOERROR", ["10.0.1.77"])
        assert ask(lab, vpc, zonal) == ("NOERROR", ["10.0.1.77"])
    assert ask(lab, other, f"vpce-0-x.{SVC_ID}.us-east-1.vpce.amazonaws.com")[0] == "NXDOMAIN"


def test_private_dns_name_only_in_the_consumer_vpc_when_usable(lab: Lab) -> None:
    consumer, other, ep, svc = setup(lab)
    assert ask(lab, consumer, "search.example.com") == ("NOERROR", ["10.0.1.77"])
    assert ask(lab, other, "search.example.com")[0] == "NXDOMAIN"
    # beats a private zone of the user's for the parent domain (more specific)
    lab.net.add(HostedZone("Z1", zone_name="example.com.", private=True,
                           vpcs=[ZoneVpc(consumer, "us-east-1")],
                           records=[ResourceRecordSet("search.example.com.", "A", 60,
                                                      ["192.0.2.1"])]))
    lab.touch()
    assert ask(lab, consumer, "search.example.com") == ("NOERROR", ["10.0.1.77"])
    for change in ("state", "verification", "private_dns"):
        if change == "state":
            ep.state = "pendingAcceptance"
        elif change == "verification":
            ep.state, svc.private_dns_state = "available", "failed"
        else:
            svc.private_dns_state, ep.private_dns_enabled = "verified", False
        lab.touch()
        assert ask(lab, consumer, "search.example.com") == ("NOERROR", ["192.0.2.1"]), change
