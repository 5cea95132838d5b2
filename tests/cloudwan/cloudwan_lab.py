"""Builders shared by the Cloud WAN engine tests: policies (cloudwan.md E1), VPCs and
core network attachments with predictable ids."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from localvpc.model.cloudwan import AVAILABLE, VPC, CoreNetworkAttachment
from localvpc.model.network import Network
from localvpc.model.vpc import Vpc

E1: dict[str, Any] = {
    "version": "2021.12",
    "core-network-configuration": {
        "asn-ranges": ["64512-65534"],
        "edge-locations": [{"location": "us-east-1"}, {"location": "eu-west-1"}]},
    "segments": [{"name": "prod", "require-attachment-acceptance": False},
                 {"name": "dev"},
                 {"name": "shared", "require-attachment-acceptance": False}],
    "segment-actions": [{"action": "share", "mode": "attachment-route", "segment": "shared",
                         "share-with": ["prod", "dev"]}],
    "attachment-policies": [
        {"rule-number": 100, "conditions": [{"type": "tag-exists", "key": "segment"}],
         "action": {"association-method": "tag", "tag-value-of-key": "segment"}}],
}


def e1() -> dict[str, Any]:
    return copy.deepcopy(E1)


def att_id(n: int) -> str:
    return f"attachment-{n:017x}"


def attachment(n: int, *, region: str = "us-east-1", segment: str | None = None,
               tags: dict[str, str] | None = None, kind: str = VPC, account: str = "111122223333",
               resource_id: str | None = None, state: str = AVAILABLE) -> CoreNetworkAttachment:
    return CoreNetworkAttachment(
        id=att_id(n), account=account, region=region, tags=dict(tags or {}),
        core_network_id="core-network-0123456789abcdef0", attachment_type=kind,
        resource_id=resource_id or f"vpc-{n:017x}", state=state, segment_name=segment)


def vpc_network(cidrs: dict[int, str]) -> Network:
    """A network whose VPC ``vpc-<n>`` (as ``attachment(n)`` names it) has the given CIDR."""
    net = Network()
    for n, cidr in cidrs.items():
        net.add(Vpc(id=f"vpc-{n:017x}", cidrs=[ipaddress.ip_network(cidr)]))
    return net
