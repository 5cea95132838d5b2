"""Traffic of an AWS Client VPN client entering the VPC.

A client address (from the endpoint's client CIDR) is matched against the endpoint's route
table (longest prefix) and its authorization rules, then leaves the association's ENI in
the target subnet source-NATed to that ENI's address, as AWS does: from there on the ENI's
security groups, the subnet's NACL and route table decide, like any other sender's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from localvpc.dataplane.flow import Disposition
from localvpc.model.client_vpn import ClientVpnEndpoint, ClientVpnRoute

if TYPE_CHECKING:
    from localvpc.dataplane.engine import Walk


def _route(endpoint: ClientVpnEndpoint, walk: Walk) -> ClientVpnRoute | None:
    dst = walk.flow.dst_ip
    matches = [r for r in endpoint.routes if r.destination.version == dst.version
               and dst in r.destination]
    return max(matches, key=lambda r: r.destination.prefixlen, default=None)


def enter_from_client_vpn(walk: Walk, endpoint_id: str) -> None:
    """Walk a client's packet from ``endpoint_id`` into its VPC (raises ``Stop``)."""
    endpoint = walk.fp.network.client_vpn_endpoints[endpoint_id]
    flow = walk.flow
    walk.hop(endpoint.id, "client-vpn-endpoint", "originated",
             f"from a VPN client at {flow.src_ip}")
    if endpoint.client_cidr is None or flow.src_ip not in endpoint.client_cidr:
        raise walk.end(Disposition.DENIED_OUT, "dropped", f"{flow.src_ip} is not in the "
                       f"client CIDR {endpoint.client_cidr} of {endpoint.id}",
                       code="GATEWAY_REJECTS_SPOOFED_TRAFFIC")
    if not endpoint.associations:
        raise walk.end(Disposition.NO_ROUTE, "dropped", f"{endpoint.id} is pending-associate: "
                       "no target network is associated", code="BAD_STATE")
    route = _route(endpoint, walk)
    if route is None:
        raise walk.end(Disposition.NO_ROUTE, "dropped", f"no route for {flow.dst_ip} in the "
                       f"route table of {endpoint.id}", code="NO_ROUTE_TO_DESTINATION")
    rules = [r for r in endpoint.authorization_rules
             if r.destination.version == flow.dst_ip.version and flow.dst_ip in r.destination]
    if not rules:  # AWS has no explanation code for Client VPN
        raise walk.end(Disposition.DENIED_OUT, "denied", f"no authorization rule of "
                       f"{endpoint.id} covers {flow.dst_ip}", code="NO_POSSIBLE_DESTINATION")
    rule = max(rules, key=lambda r: r.destination.prefixlen)
    # Group rules name directory or SAML groups; the trace has no user, so a group rule
    # is taken to admit the client (the user is assumed to be a member).
    who = "all users" if rule.access_all else f"members of group {rule.group_id}"
    if route.target_subnet == "local":
        raise walk.end(Disposition.NO_ROUTE, "dropped", "client-to-client traffic (a local "
                       "route) is not traced", code="NO_PATH")
    assoc = next((a for a in endpoint.associations if a.subnet_id == route.target_subnet),
                 None)
    device = walk.fp.devices.get(assoc.eni_id) if assoc and assoc.eni_id else None
    if device is None or device.eni.primary_ip is None:
        raise walk.end(Disposition.NO_ROUTE, "dropped", f"{route.target_subnet} has no "
                       f"active association with {endpoint.id}", code="BAD_STATE")
    nat_ip = device.eni.primary_ip
    walk.flow = replace(flow, src_ip=nat_ip)
    walk.hop(endpoint.id, "client-vpn-endpoint", "forwarded",
             f"route {route.destination} via {route.target_subnet}; authorized for {who} "
             f"by the rule for {rule.destination}; source NAT {flow.src_ip} -> {nat_ip} "
             f"({device.eni.id})", phase="nat")
    walk.send_from(device)
