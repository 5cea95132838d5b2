"""What each ENI's flow log sees of a traced packet: verdicts, addresses, paths, locations."""

from __future__ import annotations

from pathlib import Path

from flowlog_lab import Lab, TargetType, bidir, nat_lab, seen, two_tier

from localvpc.dataplane import compile_network
from localvpc.dataplane.request import trace_request
from localvpc.flowlogs.observe import Observer
from localvpc.snapshot.topology import load_topology

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_rejected_at_the_destination_is_accept_at_the_source() -> None:
    lab = Lab()
    n = two_tier(lab)
    src, dst = lab.eni_of(n["web"]).id, lab.eni_of(n["db"]).id
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=22)
    assert seen(obs, trace) == [(src, "egress", "ACCEPT"), (dst, "ingress", "REJECT")]
    assert trace.return_trace is None


def test_accepted_flow_is_seen_both_ways_at_both_enis() -> None:
    lab = Lab()
    n = two_tier(lab)
    src, dst = lab.eni_of(n["web"]).id, lab.eni_of(n["db"]).id
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=5432)
    assert seen(obs, trace) == [(src, "egress", "ACCEPT"), (dst, "ingress", "ACCEPT")]
    assert seen(obs, trace.return_trace) == [(dst, "egress", "ACCEPT"),
                                             (src, "ingress", "ACCEPT")]


def test_rejected_by_the_source_security_group_is_never_seen_at_the_destination() -> None:
    lab = Lab()
    n = two_tier(lab)
    n["web_sg"].egress = []  # nothing may leave the web server
    src = lab.eni_of(n["web"]).id
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=5432)
    assert seen(obs, trace) == [(src, "egress", "REJECT")]


def test_network_acl_verdicts_belong_to_the_eni_of_that_subnet() -> None:
    lab = Lab()
    n = two_tier(lab)
    src, dst = lab.eni_of(n["web"]).id, lab.eni_of(n["db"]).id
    deny_in = lab.nacl(n["vpc"], [n["db_sn"]], [(100, "6", "deny", False, "10.0.1.0/24", 0,
                                                 65535)])
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=5432)
    assert seen(obs, trace) == [(src, "egress", "ACCEPT"), (dst, "ingress", "REJECT")]
    # Leaving the source subnet denied instead: only the source logs it, as REJECT.
    lab.net.network_acls.pop(deny_in.id)
    lab.nacl(n["vpc"], [n["web_sn"]], [(100, "-1", "deny", True, "0.0.0.0/0", None, None)])
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=5432)
    assert seen(obs, trace) == [(src, "egress", "REJECT")]


def test_stateless_acl_rejects_the_reply_but_not_the_request() -> None:
    # PATH-4: the request is ACCEPT at the server; its reply leaves through a NACL that only
    # allows 32768-61000 back out, so a client port of 62000 is REJECT on egress.
    lab = Lab()
    n = two_tier(lab)
    src, dst = lab.eni_of(n["web"]).id, lab.eni_of(n["db"]).id
    lab.nacl(n["vpc"], [n["db_sn"]], [(100, "6", "allow", False, "0.0.0.0/0", 5432, 5432),
                                      (100, "6", "allow", True, "0.0.0.0/0", 32768, 61000)])
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=5432, src_port=62000)
    assert seen(obs, trace) == [(src, "egress", "ACCEPT"), (dst, "ingress", "ACCEPT")]
    assert seen(obs, trace.return_trace) == [(dst, "egress", "REJECT")]
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=5432, src_port=50000)
    assert seen(obs, trace.return_trace)[-1] == (src, "ingress", "ACCEPT")


def test_nat_gateway_records_match_the_aws_example() -> None:
    """FORMAT.md §4 / aws-docs nat-gateway.log: the NAT ENI writes its own address in the
    srcaddr/dstaddr of its side and the real hosts in pkt-srcaddr/pkt-dstaddr."""
    lab = Lab()
    n = nat_lab(lab)
    inst_eni = lab.eni_of(n["inst"]).id
    trace, obs = bidir(lab, n["inst"], "203.0.113.5", port=443)
    rows = [(o.fields["interface-id"], o.fields["srcaddr"], o.fields["dstaddr"],
             o.fields["pkt-srcaddr"], o.fields["pkt-dstaddr"], o.fields["instance-id"])
            for o in obs.observe(trace) + obs.observe(trace.return_trace)]
    nat_eni = rows[1][0]
    assert nat_eni != inst_eni
    assert rows == [
        (inst_eni, "10.0.1.5", "203.0.113.5", "10.0.1.5", "203.0.113.5", n["inst"].id),
        (nat_eni, "10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5", None),
        (nat_eni, "10.0.0.220", "203.0.113.5", "10.0.0.220", "203.0.113.5", None),
        (nat_eni, "203.0.113.5", "10.0.0.220", "203.0.113.5", "10.0.0.220", None),
        (nat_eni, "10.0.0.220", "10.0.1.5", "203.0.113.5", "10.0.1.5", None),
        (inst_eni, "203.0.113.5", "10.0.1.5", "203.0.113.5", "10.0.1.5", n["inst"].id),
    ]


def test_traffic_path_and_aws_service_names() -> None:
    lab = Lab()
    n = nat_lab(lab)
    public = lab.instance(n["pub"], "10.0.0.50", public_ip="198.51.100.50")
    trace, obs = bidir(lab, public, "52.216.0.1", port=443)  # an S3 address
    out = obs.observe(trace)[0].fields
    assert (out["flow-direction"], out["traffic-path"], out["pkt-dst-aws-service"],
            out["pkt-src-aws-service"]) == ("egress", 8, "S3", None)
    back = obs.observe(trace.return_trace)[-1].fields
    assert (back["flow-direction"], back["traffic-path"], back["pkt-src-aws-service"]) == (
        "ingress", None, "S3")
    # Through the NAT gateway the instance's own record says "same VPC" (1); the NAT
    # gateway's egress to the internet says internet gateway.
    trace, obs = bidir(lab, n["inst"], "8.8.8.8", port=443)
    paths = [o.fields["traffic-path"] for o in obs.observe(trace)]
    assert paths == [1, None, 8]


def test_peering_paths_are_intra_or_inter_region() -> None:
    lab = Lab()
    a = lab.vpc("10.0.0.0/16")
    b = lab.vpc("10.1.0.0/16", region="eu-west-1")
    sa = lab.subnet(a, "10.0.1.0/24")
    sb = lab.subnet(b, "10.1.1.0/24", az="eu-west-1a")
    pcx = lab.peering(a, b)
    lab.route(lab.main_table(a), "10.1.0.0/16", TargetType.VPC_PEERING, pcx.id)
    lab.route(lab.main_table(b), "10.0.0.0/16", TargetType.VPC_PEERING, pcx.id)
    x = lab.instance(sa, "10.0.1.5", sgs=[lab.sg(a, ingress=[("-1", None, None, "0.0.0.0/0")])])
    lab.instance(sb, "10.1.1.5", sgs=[lab.sg(b, ingress=[("-1", None, None, "0.0.0.0/0")])])
    trace, obs = bidir(lab, x, "10.1.1.5")
    first = obs.observe(trace)[0].fields
    assert first["traffic-path"] == 5
    assert obs.observe(trace)[1].fields["region"] == "eu-west-1"
    b.region = "us-east-1"
    trace, obs = bidir(lab, x, "10.1.1.5")
    assert obs.observe(trace)[0].fields["traffic-path"] == 4


def test_transit_gateway_attachments_are_observed_in_pairs() -> None:
    lab = Lab()
    a, b = lab.vpc("10.0.0.0/16"), lab.vpc("10.1.0.0/16")
    sa, sb = lab.subnet(a, "10.0.1.0/24"), lab.subnet(b, "10.1.1.0/24")
    tgw = lab.tgw()
    table = lab.tgw_table(tgw)
    att_a = lab.attach(tgw, a, [sa], table, propagate_to=[table])
    att_b = lab.attach(tgw, b, [sb], table, propagate_to=[table])
    lab.route(lab.main_table(a), "10.1.0.0/16", TargetType.TRANSIT_GATEWAY, tgw.id)
    lab.route(lab.main_table(b), "10.0.0.0/16", TargetType.TRANSIT_GATEWAY, tgw.id)
    x = lab.instance(sa, "10.0.1.5", sgs=[lab.sg(a, ingress=[("-1", None, None, "0.0.0.0/0")])])
    lab.instance(sb, "10.1.1.5", sgs=[lab.sg(b, ingress=[("-1", None, None, "0.0.0.0/0")])])
    trace, obs = bidir(lab, x, "10.1.1.5")
    tgw_obs = [o.fields for o in obs.observe(trace) if o.kind == "tgw"]
    assert [(f["tgw-attachment-id"], f["flow-direction"], f["tgw-pair-attachment-id"])
            for f in tgw_obs] == [(att_a.id, "ingress", att_b.id), (att_b.id, "egress", att_a.id)]
    assert all((f["tgw-src-vpc-id"], f["tgw-dst-vpc-id"], f["tgw-src-subnet-id"],
                f["tgw-dst-subnet-id"]) == (a.id, b.id, sa.id, sb.id) for f in tgw_obs)
    assert obs.observe(trace)[0].fields["traffic-path"] == 1  # the TGW ENI is in the VPC
    # A blackhole: the ingress attachment counts the loss.
    table.propagating_attachment_ids.remove(att_b.id)
    trace, obs = bidir(lab, x, "10.1.1.5")
    lost = [o for o in obs.observe(trace) if o.kind == "tgw"]
    assert [(o.point, o.lost) for o in lost] == [(att_a.id, "no-route")]


def test_local_zone_enis_report_a_sublocation_and_no_az_id() -> None:
    net = load_topology(EXAMPLES / "local-zone-wordpress.yaml")
    fp = compile_network(net)
    _, traces = trace_request(fp, "i-0a1b2c3d4e5f60002", "172.31.100.90", None, "tcp", 40000,
                              3306, bidirectional=True)
    fields = Observer(fp).observe(traces[0])[0].fields
    assert (fields["az-id"], fields["sublocation-type"], fields["sublocation-id"]) == (
        None, "localzone", "use1-atl1-az1")
    assert fields["account-id"] == "111122223333"


def test_outpost_and_regular_zones() -> None:
    lab = Lab()
    n = two_tier(lab)
    n["db_sn"].outpost_arn = "arn:aws:outposts:us-east-1:111111111111:outpost/op-0123456789abcdef0"
    trace, obs = bidir(lab, n["web"], "10.0.2.20", port=5432)
    web_f, db_f = (o.fields for o in obs.observe(trace))
    assert (web_f["az-id"], web_f["sublocation-type"]) == ("use1-az6", None)
    assert (db_f["az-id"], db_f["sublocation-type"], db_f["sublocation-id"]) == (
        None, "outpost", "op-0123456789abcdef0")
