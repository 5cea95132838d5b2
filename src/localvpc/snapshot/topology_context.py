"""Shared state of one topology build: the network so far, the problems, names and addresses.

Both :mod:`localvpc.snapshot.topology` (VPC core) and :mod:`localvpc.snapshot.topology_services`
(load balancers, endpoints, transit gateways, VPN, local gateways) build through a :class:`Ctx`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from localvpc.model.base import IPAddress
from localvpc.model.filters import SecurityGroup
from localvpc.model.interfaces import NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet, Vpc
from localvpc.snapshot.topology_addresses import AddressBook
from localvpc.snapshot.topology_ids import make_id
from localvpc.snapshot.topology_registry import Declared, Registry, word
from localvpc.snapshot.topology_schema import Obj, Problems, YNode

UNSET_IP = ipaddress.IPv4Address(0)  # replaced by the allocator (or the build fails anyway)


class Ctx:
    """Everything builders share while turning one file into a :class:`Network`."""

    def __init__(self, problems: Problems, account: str, region: str) -> None:
        self.p = problems
        self.account = account
        self.region = region
        self.net = Network()
        self.reg = Registry(problems, account, region)
        self.book = AddressBook(problems)
        self._envs: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------------ owners
    def set_env(self, vpc_id: str, account: str, region: str) -> None:
        self._envs[vpc_id] = (account, region)

    def env(self, vpc_id: str | None) -> tuple[str, str]:
        """The account and region of a VPC's resources (the file's defaults otherwise)."""
        return self._envs.get(vpc_id or "", (self.account, self.region))

    def label(self, rid: str) -> str:
        decl = self.reg.get(rid)
        return decl.label if decl is not None else rid

    # ------------------------------------------------------------------ references
    def ref(self, obj: Obj, key: str, kinds: Sequence[str], what: str, *,
            required: bool = False, scope: str | None = None) -> Declared | None:
        """The resource named by the string field ``key`` (a problem if it names nothing)."""
        text = obj.req_str(key) if required else obj.opt_str(key)
        node = obj.child(key)
        if text is None or node is None:
            return None
        return self.reg.resolve(kinds, text, node, what, scope)

    def refs(self, obj: Obj, key: str, kinds: Sequence[str], what: str, *,
             scope: str | None = None) -> list[tuple[Declared, YNode]]:
        """The resources a string-or-list field names, each once."""
        out: list[tuple[Declared, YNode]] = []
        for text, node in obj.str_items(key):
            decl = self.reg.resolve(kinds, text, node, what, scope)
            if decl is None:
                continue
            if any(d.id == decl.id for d, _ in out):
                self.p.add(node.line, node.path, f"{decl.label} is listed twice")
                continue
            out.append((decl, node))
        return out

    def vpc(self, obj: Obj, key: str = "vpc", *, required: bool = True) -> Vpc | None:
        decl = self.ref(obj, key, ("vpc",), "VPC", required=required)
        return self.net.vpcs.get(decl.id) if decl is not None else None

    def subnet(self, obj: Obj, key: str = "subnet", *, required: bool = True) -> Subnet | None:
        decl = self.ref(obj, key, ("subnet",), "subnet", required=required)
        return self.net.subnets.get(decl.id) if decl is not None else None

    def subnets(self, obj: Obj, key: str, vpc_id: str | None) -> list[tuple[Subnet, YNode]]:
        """Subnets a list field names; each must be in ``vpc_id`` when that is given."""
        out: list[tuple[Subnet, YNode]] = []
        for decl, node in self.refs(obj, key, ("subnet",), "subnet"):
            subnet = self.net.subnets.get(decl.id)
            if subnet is None:
                continue
            if vpc_id is not None and subnet.vpc_id != vpc_id:
                self.p.add(node.line, node.path,
                           f"{decl.label} is in {self.label(subnet.vpc_id)}, "
                           f"not in {self.label(vpc_id)}")
                continue
            out.append((subnet, node))
        return out

    def in_vpc(self, node: YNode, decl: Declared, their_vpc: str | None, vpc_id: str) -> bool:
        """Whether a referenced resource is in ``vpc_id``; a problem if not."""
        if their_vpc == vpc_id:
            return True
        where = f"in {self.label(their_vpc)}" if their_vpc else "not attached to any VPC"
        self.p.add(node.line, node.path, f"{decl.label} is {where}, not in {self.label(vpc_id)}")
        return False

    # ------------------------------------------------------------------ security groups
    @staticmethod
    def default_sg_id(vpc_id: str) -> str:
        return make_id("security-group", vpc_id, "default")

    def security_groups(self, obj: Obj, key: str, vpc_id: str, *,
                        default: bool = True) -> list[str]:
        """Security group ids a field names (all in ``vpc_id``); the VPC's default SG if none
        are given and ``default`` (SG-2: an interface launched without a group gets it)."""
        out: list[str] = []
        for decl, node in self.refs(obj, key, ("security-group",), "security group",
                                    scope=vpc_id):
            sg: SecurityGroup | None = self.net.security_groups.get(decl.id)
            if sg is not None and self.in_vpc(node, decl, sg.vpc_id, vpc_id):
                out.append(sg.id)
        if not out and default and not obj.has(key):
            out.append(self.default_sg_id(vpc_id))
        return out

    # ------------------------------------------------------------------ interfaces
    def new_eni(self, rid: str, subnet: Subnet, *, interface_type: str = "interface",
                description: str = "", security_group_ids: Sequence[str] = (),
                source_dest_check: bool = True, instance_id: str | None = None,
                device_index: int | None = None, requester_id: str | None = None,
                tags: dict[str, str] | None = None) -> NetworkInterface:
        """A network interface in ``subnet`` (not yet holding addresses), added to the network.
        It is attached (``in-use``) when it belongs to an instance or to an AWS service."""
        account, region = self.env(subnet.vpc_id)
        attached = instance_id is not None or interface_type != "interface" or bool(
            requester_id)
        eni = NetworkInterface(
            id=rid, account=account, region=region, tags=dict(tags or {}),
            subnet_id=subnet.id, vpc_id=subnet.vpc_id,
            availability_zone=subnet.availability_zone,
            security_group_ids=list(security_group_ids), source_dest_check=source_dest_check,
            interface_type=interface_type, instance_id=instance_id, device_index=device_index,
            attached=attached, status="in-use" if attached else "available",
            requester_id=requester_id, description=description,
        )
        self.net.add(eni)
        self.reg.implied("network-interface", rid)
        return eni

    def primary_address(self, eni: NetworkInterface, subnet: Subnet, node: YNode | None,
                        owner: str, given: IPAddress | None, anchor: YNode) -> PrivateIp:
        """Give ``eni`` its primary private IPv4: ``given`` (checked at ``node``) or the first
        free host of ``subnet`` once every written address is claimed."""
        primary = PrivateIp(address=UNSET_IP, primary=True)
        eni.private_ips.insert(0, primary)
        if given is not None and node is not None:
            if given.version != 4:
                self.p.add(node.line, node.path,
                           f"{given} is not IPv4 (list IPv6 addresses under ipv6_addresses)")
            elif self.book.claim(subnet, given, node, owner):
                primary.address = given
        else:
            def assign(ip: IPAddress) -> None:
                primary.address = ip

            self.book.later(subnet, anchor, owner, assign)
        return primary

    def public_address(self, private: PrivateIp, given: IPAddress | None, node: YNode | None,
                       owner: str, *, allocate: bool) -> None:
        """Associate a public IPv4 with ``private``: ``given``, or one allocated if asked."""
        if given is not None and node is not None:
            if self.book.claim_public(given, node, owner):
                private.public_ip = given
        elif allocate:
            def assign(ip: IPAddress) -> None:
                private.public_ip = ip

            self.book.later_public(owner, assign)

    def interface_addresses(self, obj: Obj, eni: NetworkInterface, subnet: Subnet, owner: str,
                            *, auto_public: bool) -> None:
        """``private_ip``, ``secondary_ips``, ``ipv6_addresses`` and ``public_ip`` of an
        instance or a standalone interface."""
        primary = self.primary_address(eni, subnet, obj.child("private_ip"), owner,
                                       obj.opt_ip("private_ip"), obj.node)
        for ip, node in obj.ip_items("secondary_ips"):
            if ip.version != 4:
                self.p.add(node.line, node.path,
                           f"{ip} is not IPv4 (list IPv6 addresses under ipv6_addresses)")
            elif self.book.claim(subnet, ip, node, owner):
                eni.private_ips.append(PrivateIp(address=ip))
        for ip, node in obj.ip_items("ipv6_addresses"):
            if ip.version != 6:
                self.p.add(node.line, node.path, f"{ip} is not an IPv6 address")
            elif self.book.claim(subnet, ip, node, owner):
                eni.ipv6_addresses.append(ip)
        self.public_address(primary, obj.opt_ip("public_ip"), obj.child("public_ip"), owner,
                            allocate=auto_public)

    def check_interface_fields(self, obj: Obj) -> None:
        """Check the address and group fields of an interface whose subnet is unknown (its
        subnet reference is already reported), so those mistakes are reported too."""
        obj.opt_ip("private_ip")
        obj.opt_ip("public_ip")
        obj.ip_items("secondary_ips")
        obj.ip_items("ipv6_addresses")
        self.refs(obj, "security_groups", ("security-group",), "security group")


def describe(kind: str, decl: Declared | None, rid: str) -> str:
    """A label for an owner of addresses: ``instance 'web'`` or ``NAT gateway nat-...``."""
    return decl.label if decl is not None else f"{word(kind)} {rid}"
