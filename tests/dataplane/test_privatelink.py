"""PrivateLink in the engine: an interface endpoint of an endpoint service hands packets to
the service's NLB node in its zone, across VPCs whose CIDRs overlap; the NLB source-NATs
them and answers through the endpoint; an endpoint not (or no longer) accepted drops them."""

from __future__ import annotations

from typing import Any

from lab import Lab

from localvpc.dataplane.flow import Disposition
from localvpc.model.endpoints import VpcEndpoint, VpcEndpointService

SVC_ID = "vpce-svc-0123456789abcdef0"
SVC_NAME = f"com.amazonaws.vpce.us-east-1.{SVC_ID}"
NODE = "us-east-1a-web-0123456789abcdef.elb.us-east-1.amazonaws.com"


def build(lab: Lab, state: str = "available", lb_sg_cidr: str | None = None
          ) -> dict[str, Any]:
    """Provider and consumer both 10.0.0.0/16. The consumer's endpoint ENI has the NLB
    node's address and its client the target's: only per-VPC lookups keep them apart."""
    prov = lab.vpc("10.0.0.0/16", account="111111111111")
    p_sub = lab.subnet(prov, "10.0.1.0/24")
    target = lab.instance(p_sub, "10.0.1.10", sgs=[lab.sg(prov, ingress=[
        ("tcp", 443, 443, "10.0.0.0/16")])])
    lb = lab.nlb(prov, [(p_sub, "10.0.1.200")], 443, [(target, 443, "healthy")])
    if lb_sg_cidr is not None:
        sg = lab.sg(prov, ingress=[("tcp", 443, 443, lb_sg_cidr)])
        lab.net.network_interfaces[next(
            e.id for e in lab.net.network_interfaces.values()
            if e.interface_type == "network_load_balancer")].security_group_ids = [sg.id]
    lab.net.add(VpcEndpointService(SVC_ID, "111111111111", service_name=SVC_NAME,
                                   network_load_balancer_arns=[lb.id]))
    cons = lab.vpc("10.0.0.0/16", account="222222222222")
    c_sub = lab.subnet(cons, "10.0.1.0/24")
    client = lab.instance(c_sub, "10.0.1.10")
    vpce_sg = lab.sg(cons, ingress=[("tcp", 443, 443, "10.0.0.0/16")])
    eni = lab.eni(c_sub, "10.0.1.200", sgs=[vpce_sg], interface_type="vpc_endpoint")
    ep = lab.net.add(VpcEndpoint("vpce-0123456789abcdef0", "222222222222", vpc_id=cons.id,
                                 service_name=SVC_NAME, endpoint_type="Interface",
                                 state=state, subnet_ids=[c_sub.id],
                                 network_interface_ids=[eni.id],
                                 security_group_ids=[vpce_sg.id]))
    return {"client": client, "target": target, "ep": ep, "c_sub": c_sub, "p_sub": p_sub}


def test_endpoint_hands_the_packet_to_the_nlb_which_source_nats_it(lab: Lab) -> None:
    n = build(lab)
    client, target, ep = n["client"], n["target"], n["ep"]
    t = lab.trace(client, "10.0.1.200", port=443, both=True, src_port=50000)
    assert t.disposition == Disposition.ACCEPTED, t.to_json()
    nodes = lab.nodes(t)
    assert nodes[:3] == [client.id, ep.id, NODE]
    assert nodes[-1] == target.id
    assert t.final_flow is not None
    assert (str(t.final_flow.src_ip), str(t.final_flow.dst_ip)) == ("10.0.1.200", "10.0.1.10")
    assert t.final_flow.dst_port == 443
    assert "PrivateLink" in t.hops[1].detail
    r = t.return_trace
    assert r is not None
    assert r.disposition == Disposition.ACCEPTED, r.to_json()
    assert lab.nodes(r)[-1] == client.id
    assert ep.id in lab.nodes(r)
    # the client gets the answer from the endpoint's address and port
    assert r.final_flow is not None
    assert (str(r.final_flow.src_ip), r.final_flow.src_port) == ("10.0.1.200", 443)
    assert (str(r.final_flow.dst_ip), r.final_flow.dst_port) == ("10.0.1.10", 50000)


def test_not_accepted_or_rejected_connections_drop_at_the_endpoint(lab: Lab) -> None:
    for state, words in (("pendingAcceptance", "not accepted"), ("rejected", "rejected")):
        fresh = Lab()
        n = build(fresh, state=state)
        t = fresh.trace(n["client"], "10.0.1.200", port=443)
        assert t.disposition == Disposition.DENIED_IN
        assert t.hops[-1].node == n["ep"].id
        assert t.hops[-1].code == "BAD_STATE"
        assert words in t.hops[-1].detail


def test_endpoint_group_and_nlb_group_with_the_clients_address(lab: Lab) -> None:
    n = build(lab)
    t = lab.trace(n["client"], "10.0.1.200", port=80)
    assert t.disposition == Disposition.DENIED_IN
    assert t.hops[-1].code == "ENI_SG_RULES_MISMATCH"
    assert t.hops[-1].node == n["ep"].id
    # the NLB's group sees the client's address (the default enforcement of inbound rules)
    denied = Lab()
    m = build(denied, lb_sg_cidr="192.168.0.0/16")
    t = denied.trace(m["client"], "10.0.1.200", port=443)
    assert t.disposition == Disposition.DENIED_IN and t.hops[-1].node == NODE
    allowed = Lab()
    k = build(allowed, lb_sg_cidr="10.0.1.10/32")
    assert allowed.trace(k["client"], "10.0.1.200", port=443).disposition == \
        Disposition.ACCEPTED


def test_service_without_a_node_in_the_endpoints_zone(lab: Lab) -> None:
    n = build(lab)
    c_sub = n["c_sub"]
    c_sub.availability_zone = "us-east-1b"
    t = lab.trace(n["client"], "10.0.1.200", port=443)
    assert t.disposition == Disposition.NULL_ROUTED
    assert t.hops[-1].code == "ELB_INSTALLED_AZ_RESTRICTION"
