"""A proxy worker rebuilds its listeners from the serve process's JSON rows
(``ProxyListener.to_json`` -> ``from_json``): nothing may be lost on the way."""

from __future__ import annotations

import json

from localvpc.lattice.server import ProxyListener


def test_lattice_and_alb_listeners_survive_the_round_trip() -> None:
    lattice = ProxyListener("lattice", "snva-1", "vpc-1", "111122223333", "us-west-2",
                            "HTTPS", 443, "127.0.0.1", 40001, names=["svc.example"],
                            service_network_id="sn-1", service_ids=["svc-1", "svc-2"])
    alb = ProxyListener("alb", "arn:aws:elasticloadbalancing:...:listener/app/a/1/2",
                        "vpc-2", "111122223333", "us-east-1", "HTTP", 80, "127.0.0.1", 40002,
                        names=["a.elb.amazonaws.com"], lb_arn="arn:lb", scheme="internal")
    for lst in (lattice, alb):
        row = json.loads(json.dumps(lst.to_json()))  # as it crosses the control socket
        again = ProxyListener.from_json(row)
        assert again == lst
        assert again.key == lst.key
