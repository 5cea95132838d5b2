"""``encryption-status`` in flow-log observations: '-' without an encryption control, else
0/1/2/3 from the instance types at both ends of a hop and TLS to endpoints."""

from __future__ import annotations

from typing import Any

from flowlog_lab import Lab, bidir, nat_lab

from localvpc.dataplane.flow import Crossing, Flow
from localvpc.flowlogs.encryption import neighbour, status_code
from localvpc.flowlogs.observe import Observer
from localvpc.model.base import parse_ip
from localvpc.model.encryption_controls import EncryptionMode, VpcEncryptionControl
from localvpc.model.vpc import Vpc

NITRO_TYPE, CLEAR_TYPE = "m6i.large", "t3.micro"  # EncryptionInTransitSupported: yes / no


def control(lab: Lab, vpc: Vpc, mode: EncryptionMode = EncryptionMode.MONITOR) -> None:
    lab.net.add(VpcEncryptionControl("vpcec-1", vpc_id=vpc.id, mode=mode))


def pair(lab: Lab, src_type: str, dst_type: str) -> dict[str, Any]:
    vpc = lab.vpc("10.0.0.0/16")
    sn = lab.subnet(vpc, "10.0.1.0/24")
    a = lab.instance(sn, "10.0.1.10")
    b = lab.instance(sn, "10.0.1.20")
    a.instance_type, b.instance_type = src_type, dst_type
    return {"vpc": vpc, "sn": sn, "a": a, "b": b}


def statuses(observer: Observer, trace: Any) -> list[tuple[str, str, Any]]:
    return [(o.fields["interface-id"], o.fields["flow-direction"],
             o.fields["encryption-status"])
            for o in observer.observe(trace) if o.kind == "eni"]


def test_status_codes_combine_nitro_and_application() -> None:
    assert [status_code(n, a) for n, a in ((False, False), (True, False), (False, True),
                                           (True, True))] == [0, 1, 2, 3]


def test_no_control_leaves_the_field_blank() -> None:
    lab = Lab()
    n = pair(lab, NITRO_TYPE, NITRO_TYPE)
    trace, obs = bidir(lab, n["a"], "10.0.1.20", port=5432)
    assert [s for _, _, s in statuses(obs, trace)] == [None, None]


def test_two_nitro_instances_are_nitro_encrypted_both_ways() -> None:
    lab = Lab()
    n = pair(lab, NITRO_TYPE, NITRO_TYPE)
    control(lab, n["vpc"])
    trace, obs = bidir(lab, n["a"], "10.0.1.20", port=5432)
    a_eni, b_eni = lab.eni_of(n["a"]).id, lab.eni_of(n["b"]).id
    assert statuses(obs, trace) == [(a_eni, "egress", 1), (b_eni, "ingress", 1)]
    assert statuses(obs, trace.return_trace) == [(b_eni, "egress", 1), (a_eni, "ingress", 1)]


def test_one_end_without_encryption_in_transit_is_clear() -> None:
    lab = Lab()
    n = pair(lab, NITRO_TYPE, CLEAR_TYPE)
    control(lab, n["vpc"], EncryptionMode.ENFORCE)
    trace, obs = bidir(lab, n["a"], "10.0.1.20", port=5432)
    assert [s for _, _, s in statuses(obs, trace)] == [0, 0]


def test_tls_to_an_interface_endpoint_is_application_encrypted() -> None:
    lab = Lab()
    n = pair(lab, NITRO_TYPE, CLEAR_TYPE)
    sg = lab.sg(n["vpc"], ingress=[("tcp", 443, 443, "10.0.0.0/16"),
                                   ("tcp", 80, 80, "10.0.0.0/16")])
    lab.interface_endpoint(n["sn"], "10.0.1.50", [sg])
    control(lab, n["vpc"])
    trace, obs = bidir(lab, n["a"], "10.0.1.50", port=443)  # Nitro instance: both
    assert [s for _, _, s in statuses(obs, trace)] == [3, 3]
    assert [s for _, _, s in statuses(obs, trace.return_trace)] == [3, 3]
    trace, obs = bidir(lab, n["b"], "10.0.1.50", port=443)  # clear instance: TLS only
    assert [s for _, _, s in statuses(obs, trace)] == [2, 2]
    trace, obs = bidir(lab, n["a"], "10.0.1.50", port=80)  # no TLS: Nitro only
    assert [s for _, _, s in statuses(obs, trace)] == [1, 1]


def test_a_hop_to_a_nat_gateway_is_not_nitro_encrypted() -> None:
    lab = Lab()
    n = nat_lab(lab)
    n["inst"].instance_type = NITRO_TYPE
    control(lab, n["vpc"])
    trace, obs = bidir(lab, n["inst"], "198.51.100.7", port=80)
    assert {s for _, _, s in statuses(obs, trace)} == {0}


def test_neighbour_is_the_other_end_of_the_hop() -> None:
    f = Flow(parse_ip("10.0.1.10"), parse_ip("10.0.1.20"), 6, 40000, 80)
    out = Crossing("eni-a", "egress", f)
    into = Crossing("eni-b", "ingress", f)
    tgw = Crossing("tgw-attach-1", "ingress", f, tgw_id="tgw-1")
    assert neighbour([out, into], 0) is into
    assert neighbour([out, into], 1) is out
    assert neighbour([out], 0) is None  # left towards a gateway: no ENI at the far end
    assert neighbour([out, tgw], 0) is None
