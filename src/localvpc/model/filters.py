"""Security groups, network ACLs and managed prefix lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPNetwork, Resource

ALL_PROTOCOLS = "-1"


@dataclass(slots=True)
class SgRule:
    """One SG rule with exactly one peer (SG-5). Ports are type/code for ICMP; None = all."""

    protocol: str
    from_port: int | None = None
    to_port: int | None = None
    cidr: IPNetwork | None = None
    prefix_list_id: str | None = None
    group_id: str | None = None
    peering_connection_id: str | None = None
    description: str = ""
    rule_id: str | None = None


@dataclass(slots=True)
class SecurityGroup(Resource):
    """A security group: allow-only, stateful rules in each direction."""

    vpc_id: str = ""
    group_name: str = ""
    description: str = ""
    ingress: list[SgRule] = field(default_factory=list)
    egress: list[SgRule] = field(default_factory=list)
    # Other VPCs of the Region this group may also be used in (AssociateSecurityGroupVpc).
    associated_vpc_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NaclEntry:
    """A NACL entry (NA-4). ``port_range`` is for TCP/UDP; ``icmp_type``/``icmp_code`` for ICMP."""

    rule_number: int
    protocol: str
    action: str
    egress: bool
    cidr: IPNetwork
    from_port: int | None = None
    to_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


@dataclass(slots=True)
class NetworkAcl(Resource):
    """A network ACL and the subnets associated with it."""

    vpc_id: str = ""
    is_default: bool = False
    entries: list[NaclEntry] = field(default_factory=list)
    subnet_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PrefixList(Resource):
    """A managed prefix list (AWS-managed like S3/DynamoDB, or customer-managed)."""

    prefix_list_name: str = ""
    cidrs: list[IPNetwork] = field(default_factory=list)
    max_entries: int | None = None
    owner_id: str = "AWS"
    address_family: str = "IPv4"
