"""VPC Encryption Controls: a VPC's encryption-in-transit policy (``monitor`` or
``enforce``) with the resource kinds excluded from enforcement.

Kept in the model (not in the API) because two layers read it: flow logs fill
``encryption-status`` only for VPCs with a control, and the API refuses, in enforce mode,
resources that would carry clear traffic. What "encrypts in transit" means for an instance
comes from the instance-type data (``NetworkInfo.EncryptionInTransitSupported``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from localvpc.model import instance_types
from localvpc.model.base import Resource

if TYPE_CHECKING:
    from localvpc.model.network import Network


class EncryptionMode(StrEnum):
    """``VpcEncryptionControlMode``."""

    MONITOR = "monitor"
    ENFORCE = "enforce"


# The exclusions AWS offers: the ``VpcEncryptionControlExclusions`` member, in botocore's
# order. ``ModifyVpcEncryptionControl`` takes each as ``<member>Exclusion``.
EXCLUSION_KINDS: tuple[str, ...] = (
    "InternetGateway", "EgressOnlyInternetGateway", "NatGateway", "VirtualPrivateGateway",
    "VpcPeering", "Lambda", "VpcLattice", "ElasticFileSystem",
)

# States in which a control exists and applies (``deleting``/``deleted`` no longer do).
LIVE_STATES = ("creating", "available", "monitor-in-progress", "enforce-in-progress",
               "monitor-failed", "enforce-failed", "delete-failed")


@dataclass(slots=True)
class VpcEncryptionControl(Resource):
    """One VPC's control (``vpcec-...``). ``exclusions`` maps an ``EXCLUSION_KINDS`` member
    to ``enabled``/``disabled``; a kind not in it is ``disabled``, as AWS creates them."""

    vpc_id: str = ""
    mode: EncryptionMode = EncryptionMode.MONITOR
    state: str = "available"
    state_message: str = "succeeded"
    exclusions: dict[str, str] = field(default_factory=dict)
    created: float | None = None

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def enforcing(self) -> bool:
        return self.live and self.mode == EncryptionMode.ENFORCE

    def excluded(self, kind: str) -> bool:
        """Whether resources of ``kind`` (an ``EXCLUSION_KINDS`` member) are exempt."""
        return self.exclusions.get(kind) == "enabled"


def control_of(network: Network, vpc_id: str | None) -> VpcEncryptionControl | None:
    """The live control of a VPC, if it has one (AWS allows one per VPC)."""
    if not vpc_id:
        return None
    for control in network.vpc_encryption_controls.values():
        if control.vpc_id == vpc_id and control.live:
            return control
    return None


def encrypts_in_transit(instance_type: str) -> bool:
    """Whether the Nitro card of ``instance_type`` encrypts traffic between instances. An
    unknown or missing type counts as not encrypting: nothing vouches for it."""
    info = instance_types.get(instance_type) if instance_type else None
    return bool(info is not None and info.encryption_in_transit_supported)


@dataclass(frozen=True, slots=True)
class Blocker:
    """A resource that keeps a VPC from enforce mode (``VpcEncryptionNonCompliantResource``).
    ``kind`` is the exclusion that would exempt it, None when no exclusion can."""

    id: str
    type: str
    description: str
    kind: str | None

    @property
    def excludable(self) -> bool:
        return self.kind is not None


def blockers(network: Network, vpc_id: str,
             control: VpcEncryptionControl | None = None) -> list[Blocker]:
    """What in ``vpc_id`` would carry clear traffic under enforce mode: ENIs of running or
    stopped instances whose type does not encrypt in transit, and gateways, peering
    connections and Lattice associations whose kind ``control`` does not exclude. Lambda
    functions and EFS mount targets are not modelled, so they never block. A peering request
    still pending acceptance carries nothing yet (ASSUMED: AWS does not say), so it does not
    block; accepting it is refused instead while either VPC enforces.

    The ``Type`` strings are EC2 resource-type names (ASSUMED: AWS does not list them)."""

    def open_(kind: str) -> bool:
        return control is None or not control.excluded(kind)

    found: list[Blocker] = []
    for inst in network.instances.values():
        if inst.vpc_id != vpc_id or inst.state in ("terminated", "shutting-down"):
            continue
        if encrypts_in_transit(inst.instance_type):
            continue
        for eni_id in inst.network_interface_ids:
            found.append(Blocker(eni_id, "interface", f"Instance {inst.id} "
                                 f"({inst.instance_type or 'unknown type'}) does not support "
                                 "encryption in transit", None))
    gateways: list[tuple[str, str, str, str]] = []  # (kind, id, type, description)
    gateways += [("InternetGateway", g.id, "internet-gateway", "Internet gateway")
                 for g in network.internet_gateways.values() if g.vpc_id == vpc_id]
    gateways += [("EgressOnlyInternetGateway", g.id, "egress-only-internet-gateway",
                  "Egress-only internet gateway")
                 for g in network.egress_only_internet_gateways.values()
                 if g.vpc_id == vpc_id]
    gateways += [("NatGateway", g.id, "natgateway", "NAT gateway")
                 for g in network.nat_gateways.values()
                 if g.vpc_id == vpc_id and g.state not in ("deleted", "deleting", "failed")]
    gateways += [("VirtualPrivateGateway", g.id, "vpn-gateway", "Virtual private gateway")
                 for g in network.vpn_gateways.values() if vpc_id in g.vpc_ids]
    gateways += [("VpcPeering", p.id, "vpc-peering-connection", "VPC peering connection")
                 for p in network.peering_connections.values()
                 if vpc_id in (p.requester_vpc_id, p.accepter_vpc_id)
                 and p.status in ("active", "provisioning")]
    gateways += [("VpcLattice", a.id, "vpc-lattice", "VPC Lattice service network association")
                 for a in network.lattice_vpc_associations.values() if a.vpc_id == vpc_id]
    found += [Blocker(rid, rtype, text, kind) for kind, rid, rtype, text in gateways
              if open_(kind)]
    return found
