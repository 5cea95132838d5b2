"""The type-hint-driven codec: round trips for every model kind, and its edge behaviour."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import ANY_TEXT, RESOURCE_CLASSES, instances_of, sample_network

from localvpc.model.elb import LoadBalancer
from localvpc.model.errors import LocalVpcError, StoreError
from localvpc.model.filters import SgRule
from localvpc.model.interfaces import NetworkInterface, PrivateIp
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, TargetType, Vpc
from localvpc.model.zones import Zone, ZoneType
from localvpc.store import codec
from localvpc.store.codec import CodecError, decode, encode


@pytest.mark.parametrize("cls", RESOURCE_CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_of_every_kind(cls: type, data: st.DataObject) -> None:
    obj = data.draw(instances_of(cls, ANY_TEXT))
    encoded = encode(obj)
    assert decode(cls, encoded) == obj
    # What the store does: through JSON text and back.
    text = json.dumps(encoded, allow_nan=False)
    assert decode(cls, json.loads(text)) == obj


def test_sample_network_round_trips_resource_by_resource() -> None:
    network = sample_network()
    assert len(network.summary()) == len(RESOURCE_CLASSES)  # the sample has every kind
    for table in network.tables().values():
        for obj in table.values():
            assert decode(type(obj), json.loads(json.dumps(encode(obj)))) == obj


def test_encoded_form_is_plain_json() -> None:
    rt = RouteTable(
        id="rtb-1",
        routes=[
            Route(ipaddress.ip_network("::/0"), TargetType.EGRESS_ONLY_INTERNET_GATEWAY, "eigw-1"),
            Route(None, TargetType.GATEWAY_ENDPOINT, "vpce-1", prefix_list_id="pl-1"),
        ],
    )
    body = encode(rt)
    assert body["routes"][0] == {
        "destination": "::/0",
        "target_type": "egress-only-internet-gateway",
        "target_id": "eigw-1",
        "prefix_list_id": None,
        "state": "active",
        "origin": "CreateRoute",
        "network_interface_id": None,
    }
    assert body["routes"][1]["destination"] is None
    eni = NetworkInterface(
        id="eni-1",
        private_ips=[PrivateIp(ipaddress.ip_address("10.0.0.5"), True)],
        ipv6_addresses=[ipaddress.ip_address("2001:db8::5")],
    )
    assert encode(eni)["private_ips"][0]["address"] == "10.0.0.5"
    assert encode(eni)["ipv6_addresses"] == ["2001:db8::5"]


def test_decoded_values_have_the_model_types() -> None:
    rt = decode(
        RouteTable,
        {"id": "rtb-1", "routes": [{"destination": "10.0.0.0/8", "target_type": "local",
                                    "target_id": "local", "origin": "CreateRouteTable"}]},
    )  # fmt: skip
    route = rt.routes[0]
    assert isinstance(route.destination, ipaddress.IPv4Network)
    assert route.target_type is TargetType.LOCAL
    assert route.origin is RouteOrigin.CREATE_ROUTE_TABLE
    zone = decode(Zone, {"name": "z", "zone_id": "z1", "region": "r", "zone_type": "local-zone"})
    assert zone.zone_type is ZoneType.LOCAL_ZONE
    v6 = decode(PrivateIp, {"address": "2001:db8::1"})
    assert isinstance(v6.address, ipaddress.IPv6Address)


def test_unknown_keys_are_ignored_and_missing_keys_take_defaults() -> None:
    vpc = decode(Vpc, {"id": "vpc-1", "cidrs": ["10.0.0.0/16"], "added_in_v9": {"x": 1}})
    assert vpc == Vpc(id="vpc-1", cidrs=[ipaddress.ip_network("10.0.0.0/16")])
    # Defaults from factories are fresh objects, not shared between decoded instances.
    a, b = decode(Vpc, {"id": "a"}), decode(Vpc, {"id": "b"})
    a.tags["k"] = "v"
    assert b.tags == {}
    rule = decode(SgRule, {"protocol": "tcp"})
    assert rule == SgRule("tcp")


@pytest.mark.parametrize(
    ("cls", "data", "path"),
    [
        (Vpc, {"cidrs": []}, "Vpc.id"),  # required field missing
        (Vpc, {"id": 5}, "Vpc.id"),
        (Vpc, {"id": "v", "is_default": 1}, "Vpc.is_default"),  # int is not bool
        (Vpc, {"id": "v", "cidrs": ["10.0.0.0/16", "nonsense"]}, "Vpc.cidrs[1]"),
        (Vpc, {"id": "v", "cidrs": "10.0.0.0/16"}, "Vpc.cidrs"),
        (Vpc, {"id": "v", "tags": {"Name": None}}, "Vpc.tags['Name']"),
        (PrivateIp, {"address": "10.0.0.0/24"}, "PrivateIp.address"),  # a network, not an address
        (PrivateIp, {"address": 167772165}, "PrivateIp.address"),  # ints are not addresses here
        (Route, {"destination": None, "target_type": "teleport", "target_id": "x"},
         "Route.target_type"),
        (LoadBalancer, {"id": "lb", "listeners": [{"port": True, "protocol": "TCP"}]},
         "LoadBalancer.listeners[0].port"),
        (LoadBalancer, {"id": "lb", "zones": [["a", "b"]]}, "LoadBalancer.zones[0]"),
        (Vpc, ["vpc-1"], "Vpc"),
    ],
)  # fmt: skip
def test_malformed_data_raises_codec_error_with_path(cls: type, data: Any, path: str) -> None:
    with pytest.raises(CodecError) as raised:
        decode(cls, data)
    assert isinstance(raised.value, StoreError)
    assert isinstance(raised.value, LocalVpcError)
    assert str(raised.value).startswith(f"{path}: ")


def test_encode_rejects_values_that_would_not_decode_back() -> None:
    with pytest.raises(CodecError, match=r"Vpc\.cidrs\[0\]"):
        encode(Vpc(id="v", cidrs=["10.0.0.0/16"]))  # type: ignore[list-item]
    with pytest.raises(CodecError, match=r"Route\.target_type"):
        encode(Route(None, "teleport", "x"))  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="not a dataclass instance"):
        encode({"id": "vpc-1"})
    # A plain string that is a valid enum value is accepted and stored as the value.
    assert encode(Route(None, "local", "local"))["target_type"] == "local"  # type: ignore[arg-type]


def test_type_hints_are_resolved_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[type] = []
    real = codec.get_type_hints

    def counting(cls: type) -> dict[str, Any]:
        calls.append(cls)
        return real(cls)

    monkeypatch.setattr(codec, "get_type_hints", counting)
    codec._plan.cache_clear()
    try:
        rt = RouteTable(id="r", routes=[Route(None, TargetType.LOCAL, "local")] * 3)
        for _ in range(5):
            assert decode(RouteTable, encode(rt)) == rt
        assert sorted(c.__name__ for c in calls) == ["Route", "RouteTable"]
    finally:
        codec._plan.cache_clear()


def test_unsupported_field_types_fail_loudly() -> None:
    from dataclasses import dataclass

    @dataclass
    class Odd:
        values: set[int]

    with pytest.raises(TypeError, match=r"Odd\.values"):
        encode(Odd({1}))
