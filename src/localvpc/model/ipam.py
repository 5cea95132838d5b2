"""Amazon VPC IP Address Manager: an IPAM, its scopes and its pools. A pool's provisioned
CIDRs and its allocations live inside the pool, since neither exists apart from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPNetwork, Resource


@dataclass(slots=True)
class Ipam(Resource):
    """An IPAM in its home Region (``region``); it manages addresses in its operating
    Regions. AWS makes a private and a public default scope with it."""

    description: str = ""
    operating_regions: list[str] = field(default_factory=list)
    private_default_scope_id: str = ""
    public_default_scope_id: str = ""
    tier: str = "advanced"  # free | advanced
    enable_private_gua: bool = False
    metered_account: str = "ipam-owner"  # ipam-owner | resource-owner
    state: str = "create-complete"


@dataclass(slots=True)
class IpamScope(Resource):
    """A scope: the top-level container of pools; one IP space (private or public)."""

    ipam_id: str = ""
    scope_type: str = "private"  # private | public
    is_default: bool = False
    description: str = ""
    state: str = "create-complete"


@dataclass(slots=True)
class IpamPoolCidr:
    """A CIDR provisioned to a pool: what it may allocate from."""

    cidr_id: str
    cidr: IPNetwork
    state: str = "provisioned"


@dataclass(slots=True)
class IpamPoolAllocation:
    """A CIDR handed out by a pool: to a child pool (``ipam-pool``), a VPC (``vpc``) or
    reserved by hand (``custom``, AllocateIpamPoolCidr)."""

    allocation_id: str
    cidr: IPNetwork
    resource_type: str = "custom"  # ipam-pool | vpc | custom
    resource_id: str | None = None
    resource_region: str | None = None
    resource_owner: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class IpamPool(Resource):
    """A pool in one scope. ``source_pool_id`` set: its CIDRs are allocations from that
    pool. ``locale``: the Region whose resources (VPCs) may allocate from it; None = any
    child pool, no resource. The allocation rules bound the netmask lengths it hands out."""

    ipam_id: str = ""
    scope_id: str = ""
    address_family: str = "ipv4"  # ipv4 | ipv6
    locale: str | None = None
    source_pool_id: str | None = None
    pool_depth: int = 1
    description: str = ""
    auto_import: bool = False  # recorded only: localvpc discovers no existing resources
    publicly_advertisable: bool | None = None
    allocation_min_netmask_length: int | None = None
    allocation_max_netmask_length: int | None = None
    allocation_default_netmask_length: int | None = None
    allocation_resource_tags: dict[str, str] = field(default_factory=dict)
    aws_service: str | None = None  # ec2 | global-services (public scope pools)
    public_ip_source: str | None = None  # amazon | byoip
    state: str = "create-complete"
    cidrs: list[IpamPoolCidr] = field(default_factory=list)
    allocations: list[IpamPoolAllocation] = field(default_factory=list)
