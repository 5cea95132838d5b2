"""Private and public addresses of a topology: checking the ones given, allocating the rest.

Private addresses follow AWS: in each subnet the first four addresses and the last one are
reserved, so the first host an interface can get is ``base + 4``. Addresses written in the file
are claimed first; only then are the missing ones handed out, lowest free first, in file order,
so an allocated address never collides with a written one.

Public addresses that the file does not give (an internet-facing load balancer, a public NAT
gateway, ``map_public_ip_on_launch``) come from the documentation ranges (RFC 5737), which
AWS never assigns, so a generated public IP can never be mistaken for a real one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.vpc import Subnet
from localvpc.snapshot.topology_schema import Problems, YNode

PUBLIC_POOLS: tuple[ipaddress.IPv4Network, ...] = (
    ipaddress.IPv4Network("203.0.113.0/24"),
    ipaddress.IPv4Network("198.51.100.0/24"),
    ipaddress.IPv4Network("192.0.2.0/24"),
)

_NOT_PUBLIC: tuple[ipaddress.IPv4Network, ...] = (
    ipaddress.IPv4Network("0.0.0.0/8"),
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("100.64.0.0/10"),
    ipaddress.IPv4Network("127.0.0.0/8"),
    ipaddress.IPv4Network("169.254.0.0/16"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
    ipaddress.IPv4Network("224.0.0.0/3"),
)

Assign = Callable[[IPAddress], None]


def reserved_in(cidr: IPNetwork, ip: IPAddress) -> bool:
    """Whether AWS reserves ``ip`` in a subnet block: the first four and the last address."""
    offset = int(ip) - int(cidr.network_address)
    return offset < 4 or ip == cidr.broadcast_address


def public_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` cannot be a public IPv4 address, or None if it can."""
    if ip.version != 4:
        return f"{ip} is not an IPv4 address (public IPs and Elastic IPs are IPv4)"
    if any(ip in n for n in _NOT_PUBLIC):
        return f"{ip} is not a public address"
    return None


@dataclass(slots=True)
class _Pending:
    subnet: Subnet
    node: YNode
    owner: str
    assign: Assign


class AddressBook:
    """Who holds each address; checks claims and allocates free ones at the end."""

    def __init__(self, problems: Problems) -> None:
        self.p = problems
        self._labels: dict[str, str] = {}
        self._used: dict[tuple[str, IPAddress], tuple[str, int]] = {}
        self._pending: list[_Pending] = []
        self._cursor: dict[str, int] = {}
        self._public: dict[IPAddress, tuple[str, int]] = {}
        self._public_pending: list[tuple[str, Assign]] = []

    def add_subnet(self, subnet: Subnet, label: str) -> None:
        self._labels[subnet.id] = label

    # ------------------------------------------------------------------ private
    def claim(self, subnet: Subnet, ip: IPAddress, node: YNode, owner: str) -> bool:
        """Take ``ip`` in ``subnet`` for ``owner``; a problem at ``node`` if it cannot."""
        blocks = [c for c in subnet.all_cidrs if c.version == ip.version]
        label = self._labels.get(subnet.id, subnet.id)
        inside = next((c for c in blocks if ip in c), None)
        if inside is None:
            shown = ", ".join(str(c) for c in blocks) or f"no IPv{ip.version} block"
            self.p.add(node.line, node.path, f"{ip} is outside {label} ({shown})")
            return False
        if reserved_in(inside, ip):
            self.p.add(node.line, node.path,
                       f"{ip} is reserved by AWS in {label} (the first four addresses and the "
                       "last one of a subnet cannot be used)")
            return False
        holder = self._used.get((subnet.vpc_id, ip))
        if holder is not None:
            self.p.add(node.line, node.path,
                       f"{ip} is already used by {holder[0]} (line {holder[1]})")
            return False
        self._used[(subnet.vpc_id, ip)] = (owner, node.line)
        return True

    def later(self, subnet: Subnet, node: YNode, owner: str, assign: Assign) -> None:
        """Give ``owner`` the first free IPv4 host of ``subnet`` once all claims are in."""
        self._pending.append(_Pending(subnet, node, owner, assign))

    # ------------------------------------------------------------------ public
    def claim_public(self, ip: IPAddress, node: YNode, owner: str) -> bool:
        problem = public_problem(ip)
        if problem is not None:
            self.p.add(node.line, node.path, problem)
            return False
        holder = self._public.get(ip)
        if holder is not None:
            self.p.add(node.line, node.path,
                       f"public IP {ip} is already used by {holder[0]} (line {holder[1]})")
            return False
        self._public[ip] = (owner, node.line)
        return True

    def reserve_public(self, ip: IPAddress, owner: str, line: int) -> None:
        """Keep ``ip`` out of allocation without checking it (a customer gateway's address)."""
        self._public.setdefault(ip, (owner, line))

    def later_public(self, owner: str, assign: Assign) -> None:
        self._public_pending.append((owner, assign))

    # ------------------------------------------------------------------ allocation
    def allocate_all(self) -> None:
        """Hand out every address asked for with :meth:`later` / :meth:`later_public`."""
        for want in self._pending:
            ip = self._next_free(want.subnet)
            if ip is None:
                label = self._labels.get(want.subnet.id, want.subnet.id)
                self.p.add(want.node.line, want.node.path,
                           f"{label} has no free address left for {want.owner}")
                continue
            self._used[(want.subnet.vpc_id, ip)] = (want.owner, want.node.line)
            want.assign(ip)
        self._pending.clear()
        hosts = (h for pool in PUBLIC_POOLS for h in pool.hosts())
        for owner, assign in self._public_pending:
            for host in hosts:
                if host not in self._public:
                    self._public[host] = (owner, 0)
                    assign(host)
                    break
            else:
                self.p.add(1, "", "ran out of documentation-range public IPs to allocate")
                break
        self._public_pending.clear()

    def _next_free(self, subnet: Subnet) -> IPAddress | None:
        cidr = subnet.cidr
        if cidr is None or cidr.version != 4:
            return None
        base = int(cidr.network_address)
        offset = self._cursor.get(subnet.id, 4)
        last = cidr.num_addresses - 2  # the broadcast address is reserved
        while offset <= last:
            ip = ipaddress.ip_address(base + offset)
            offset += 1
            if (subnet.vpc_id, ip) not in self._used:
                self._cursor[subnet.id] = offset
                return ip
        self._cursor[subnet.id] = offset
        return None
