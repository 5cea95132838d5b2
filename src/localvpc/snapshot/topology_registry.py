"""Which names and ids a topology file defines, and how a reference finds its resource.

Every resource is *declared* before anything is built, so a reference may point forward in the
file (a route table above the instance it routes to). A reference is a resource's ``name`` or its
id; names are unique per kind, except where a *scope* applies (each VPC's default security group
is called ``default``, each transit gateway names its own attachments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from localvpc.snapshot.topology_ids import ARN_KINDS, ID_PREFIX, id_shape_ok, make_id
from localvpc.snapshot.topology_schema import Obj, Problems, YNode

# How messages name each kind.
KIND_WORDS: dict[str, str] = {
    "vpc": "VPC",
    "subnet": "subnet",
    "route-table": "route table",
    "internet-gateway": "internet gateway",
    "egress-only-internet-gateway": "egress-only internet gateway",
    "nat-gateway": "NAT gateway",
    "network-interface": "network interface",
    "instance": "instance",
    "security-group": "security group",
    "network-acl": "network ACL",
    "prefix-list": "prefix list",
    "peering-connection": "peering connection",
    "transit-gateway": "transit gateway",
    "transit-gateway-attachment": "transit gateway attachment",
    "transit-gateway-route-table": "transit gateway route table",
    "vpn-gateway": "VPN gateway",
    "customer-gateway": "customer gateway",
    "vpn-connection": "VPN connection",
    "carrier-gateway": "carrier gateway",
    "local-gateway": "local gateway",
    "local-gateway-route-table": "local gateway route table",
    "coip-pool": "customer-owned IP pool",
    "vpc-endpoint": "VPC endpoint",
    "load-balancer": "load balancer",
    "target-group": "target group",
}


def word(kind: str) -> str:
    return KIND_WORDS.get(kind, kind)


def article(text: str) -> str:
    return ("an " if text[:1].lower() in "aeiou" else "a ") + text


@dataclass(slots=True)
class Declared:
    """One resource the file defines (or the builder implies), before or after it is built."""

    kind: str
    id: str
    name: str | None
    obj: Obj | None  # None for implied resources (default SG, main route table, ...)
    scope: str | None = None

    @property
    def line(self) -> int:
        return self.obj.line if self.obj is not None else 0

    @property
    def label(self) -> str:
        """``instance 'wordpress'`` or ``route table rtb-...`` for messages."""
        if self.name is not None:
            return f"{word(self.kind)} '{self.name}'"
        return f"{word(self.kind)} {self.id}"


class Registry:
    """All declared names and ids; resolves references and reports what is wrong with them."""

    def __init__(self, problems: Problems, account: str, region: str) -> None:
        self.p = problems
        self.account = account
        self.region = region
        self._by_id: dict[str, Declared] = {}
        self._by_name: dict[tuple[str, str | None, str], Declared] = {}

    # ------------------------------------------------------------------ declaring
    def declare(
        self,
        kind: str,
        obj: Obj,
        *,
        scope: str | None = None,
        name_required: bool = False,
        make: str | None = None,
    ) -> Declared:
        """Record the resource ``obj`` describes: its ``name`` and its ``id`` (given or made).

        ``make`` overrides how a missing id is generated (load balancers use ARNs).
        """
        name = obj.req_str("name") if name_required else obj.opt_str("name")
        given = obj.opt_str("id")
        if given is not None and kind in ARN_KINDS and not id_shape_ok(kind, given):
            obj.err("id", f"'{given}' is not {article(word(kind))} ARN (arn:aws:...)")
            given = None
        elif given is not None and kind in ID_PREFIX and not id_shape_ok(kind, given):
            prefix = ID_PREFIX[kind]
            obj.err("id", f"'{given}' is not {article(word(kind))} id (expected {prefix}- "
                          "followed by lowercase letters and digits)")
            given = None
        key = name if name is not None else obj.path
        if given is not None:
            rid = given
        elif make is not None:
            rid = make
        else:
            rid = make_id(kind, self.account, self.region, scope or "", key)
        decl = Declared(kind, rid, name, obj, scope)
        first = self._by_id.get(rid)
        if first is not None:
            where = f" (line {first.line})" if first.line else ""
            obj.err("id" if given is not None else "name",
                    f"id '{rid}' is already used by {first.label}{where}")
        else:
            self._by_id[rid] = decl
        if name is not None:
            name_key = (kind, scope, name)
            earlier = self._by_name.get(name_key)
            if earlier is not None:
                where = f" (first at line {earlier.line})" if earlier.line else ""
                obj.err("name", f"duplicate {word(kind)} name '{name}'{where}")
            else:
                self._by_name[name_key] = decl
        return decl

    def implied(self, kind: str, rid: str, name: str | None = None,
                scope: str | None = None) -> Declared:
        """A resource the builder creates on its own (default SG, an instance's ENI, ...)."""
        decl = Declared(kind, rid, name, None, scope)
        self._by_id.setdefault(rid, decl)
        if name is not None:
            self._by_name.setdefault((kind, scope, name), decl)
        return decl

    def get(self, rid: str) -> Declared | None:
        return self._by_id.get(rid)

    def named(self, kind: str, name: str, scope: str | None = None) -> Declared | None:
        return self._by_name.get((kind, scope, name))

    # ------------------------------------------------------------------ resolving
    def find(self, kinds: Sequence[str], ref: str,
             scope: str | None = None) -> list[Declared]:
        """Every candidate for ``ref`` among ``kinds``: the id if it is one, else the names."""
        by_id = self._by_id.get(ref)
        if by_id is not None and by_id.kind in kinds:
            return [by_id]
        found: list[Declared] = []
        for kind in kinds:
            decl = None
            if scope is not None:
                decl = self._by_name.get((kind, scope, ref))
            if decl is None:
                decl = self._by_name.get((kind, None, ref))
            if decl is not None:
                found.append(decl)
        return found

    def resolve(self, kinds: Sequence[str], ref: str, node: YNode, what: str,
                scope: str | None = None) -> Declared | None:
        """The one resource ``ref`` names, else a problem at ``node`` and None."""
        found = self.find(kinds, ref, scope)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = " and ".join(
                f"{article(d.label)}" + (f" (line {d.line})" if d.line else "") for d in found)
            self.p.add(node.line, node.path,
                       f"'{ref}' is ambiguous: it names {names}; use the id instead")
            return None
        other = self._by_id.get(ref)
        if other is not None:
            self.p.add(node.line, node.path,
                       f"'{ref}' is {article(other.label)}, not {article(what)}")
            return None
        self.p.add(node.line, node.path,
                   f"'{ref}' is not the name or id of any {what} defined in this file")
        return None
