"""VPC Block Public Access as the data plane applies it: what a subnet may send or receive
through an internet gateway (IGW) or egress-only internet gateway (EIGW).

AWS's rules (VPC user guide, "Block public access to VPCs and subnets"):

* ``block-bidirectional``: no traffic through IGWs or EIGWs, either way.
* ``block-ingress``: nothing from the internet into the VPCs; only NAT gateways (through an
  IGW) and EIGWs may still start connections outward, and their replies come back.
* An exclusion of a VPC or a subnet: ``allow-bidirectional`` lifts the block; ``allow-egress``
  lets connections start outward (replies return) and applies only under
  ``block-bidirectional``.

ASSUMED (not documented): when both the subnet and its VPC are excluded, the more permissive
exclusion applies.
"""

from __future__ import annotations

from enum import StrEnum

from localvpc.model.network import Network
from localvpc.model.public_access import BlockMode, ExclusionMode, options_id


class Access(StrEnum):
    """What BPA leaves a subnet (or a VPC as a whole)."""

    OPEN = "open"  # BPA off, or excluded allow-bidirectional
    EGRESS = "egress"  # excluded allow-egress under block-bidirectional
    INGRESS_BLOCKED = "ingress-blocked"  # block-ingress: only NAT gateways and EIGWs go out
    BLOCKED = "blocked"  # block-bidirectional


def account_mode(network: Network, account: str, region: str) -> BlockMode:
    options = network.block_public_access_options.get(options_id(account, region))
    return options.internet_gateway_block_mode if options is not None else BlockMode.OFF


def access(network: Network, vpc_id: str, subnet_id: str | None = None) -> Access:
    """BPA's verdict for ``subnet_id`` of ``vpc_id`` (or the VPC when no subnet is known)."""
    vpc = network.vpcs.get(vpc_id)
    if vpc is None:
        return Access.OPEN
    mode = account_mode(network, vpc.account, vpc.region)
    if mode == BlockMode.OFF:
        return Access.OPEN
    excluded = {e.mode for e in network.block_public_access_exclusions.values()
                if e.live and e.account == vpc.account and e.region == vpc.region
                and (e.vpc_id == vpc_id or (subnet_id is not None and e.subnet_id == subnet_id))}
    if ExclusionMode.BIDIRECTIONAL in excluded:
        return Access.OPEN
    if mode == BlockMode.INGRESS:
        return Access.INGRESS_BLOCKED
    return Access.EGRESS if ExclusionMode.EGRESS in excluded else Access.BLOCKED


def effective_mode(network: Network, vpc_id: str, subnet_id: str | None = None) -> str:
    """``BlockPublicAccessStates.InternetGatewayBlockMode`` of a VPC or subnet in
    DescribeVpcs/DescribeSubnets: the mode that applies to it after exclusions."""
    verdict = access(network, vpc_id, subnet_id)
    if verdict == Access.OPEN:
        return BlockMode.OFF.value
    if verdict == Access.BLOCKED:
        return BlockMode.BIDIRECTIONAL.value
    return BlockMode.INGRESS.value


def egress_allowed(verdict: Access, via_nat_gateway: bool = False,
                   egress_only_gateway: bool = False) -> bool:
    """May a connection start outward (and its replies return)? Through an IGW from a NAT
    gateway, or through an EIGW, ``block-ingress`` still allows it."""
    if verdict in (Access.OPEN, Access.EGRESS):
        return True
    return verdict == Access.INGRESS_BLOCKED and (via_nat_gateway or egress_only_gateway)


def ingress_allowed(verdict: Access) -> bool:
    """May a connection start from the internet (and its replies leave)?"""
    return verdict == Access.OPEN


def reason(verdict: Access, outward: bool) -> str:
    """The explanation a dropped packet's hop gives."""
    if verdict == Access.EGRESS:
        what = "allows only connections started from the VPC (exclusion allow-egress)"
    elif verdict == Access.INGRESS_BLOCKED:
        what = ("is block-ingress: only NAT gateways and egress-only internet gateways may "
                "start connections to the internet")
    else:
        what = "is block-bidirectional"
    direction = "outbound" if outward else "inbound"
    return f"VPC Block Public Access drops this {direction} packet: the account's mode {what}"
