"""The shipped instance-type data and its loader (``localvpc.model.instance_types``)."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import pytest

from localvpc.model import catalog
from localvpc.model import instance_types as it


def _raw() -> dict[str, Any]:
    text = (resources.files("localvpc") / "data" / it.DATA_FILE).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


#: Dotted paths every shipped record must carry (Hypervisor is optional: AWS and the
#: source leave it out for bare-metal types).
REQUIRED = (
    "InstanceType", "CurrentGeneration", "VCpuInfo.DefaultVCpus", "MemoryInfo.SizeInMiB",
    "ProcessorInfo.SupportedArchitectures",
    "NetworkInfo.NetworkPerformance", "NetworkInfo.MaximumNetworkInterfaces",
    "NetworkInfo.MaximumNetworkCards", "NetworkInfo.DefaultNetworkCardIndex",
    "NetworkInfo.NetworkCards", "NetworkInfo.Ipv4AddressesPerInterface",
    "NetworkInfo.Ipv6AddressesPerInterface", "NetworkInfo.Ipv6Supported",
    "NetworkInfo.EnaSupport", "NetworkInfo.EfaSupported",
    "NetworkInfo.EncryptionInTransitSupported",
)

ALLOWED_TOP = {"InstanceType", "CurrentGeneration", "Hypervisor", "ProcessorInfo", "VCpuInfo",
               "MemoryInfo", "NetworkInfo"}


def _dig(rec: dict[str, Any], path: str) -> Any:
    value: Any = rec
    for part in path.split("."):
        value = value[part]
    return value


# ----------------------------------------------------------------- provenance


def test_source_header() -> None:
    head = _raw()["localvpc_source"]
    assert "moto 5.2.1" in head["source"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", head["as_of"])
    assert head["note"]
    src = it.data_source()
    assert (src.source, src.as_of, src.note) == (head["source"], head["as_of"], head["note"])
    assert src.url == "https://pypi.org/project/moto/5.2.1/"


def test_file_is_compact() -> None:
    path = resources.files("localvpc") / "data" / it.DATA_FILE
    assert len(path.read_bytes()) < 1_000_000


# ----------------------------------------------------------------- records


def test_every_record_has_the_required_fields() -> None:
    rows = _raw()["instance_types"]
    assert len(rows) == 1263
    for rec in rows:
        for path in REQUIRED:
            _dig(rec, path)  # KeyError names the missing field
        assert set(rec) <= ALLOWED_TOP, rec["InstanceType"]
        net = rec["NetworkInfo"]
        assert len(net["NetworkCards"]) == net["MaximumNetworkCards"], rec["InstanceType"]
        assert net["MaximumNetworkInterfaces"] >= 1
        assert net["EnaSupport"] in it.ENA_SUPPORT_VALUES
        for card in net["NetworkCards"]:
            assert {"NetworkCardIndex", "NetworkPerformance",
                    "MaximumNetworkInterfaces"} <= set(card)


def test_records_are_sorted_and_unique() -> None:
    names = [r["InstanceType"] for r in _raw()["instance_types"]]
    assert names == sorted(set(names))
    assert list(it.instance_types()) == names


def test_loader_gives_back_exactly_the_file() -> None:
    """Nothing is dropped or added between the file and the API structure."""
    for rec in _raw()["instance_types"]:
        parsed = it.get(rec["InstanceType"])
        assert parsed is not None
        assert parsed.to_api() == rec


def test_hypervisor_is_absent_only_for_bare_metal() -> None:
    missing = [t.name for t in it.instance_types().values() if t.hypervisor is None]
    assert len(missing) == 131
    assert all("metal" in name for name in missing)
    assert "Hypervisor" not in it.instance_types()["c5n.metal"].to_api()


def test_covers_every_offered_type() -> None:
    cat = catalog.default_catalog()
    offered: set[str] = set()
    for region in cat.regions():
        listed = cat.region_offerings(region)
        if listed:
            offered |= set(listed.instance_types)
        for zone in cat.zone_entries(region):
            zone_list = cat.zone_offerings(region, zone.zone_id)
            if zone_list:
                offered |= set(zone_list.instance_types)
    assert offered
    assert offered <= set(it.instance_types())


def test_t3_medium() -> None:
    t3 = it.get("t3.medium")
    assert t3 is not None
    assert (t3.current_generation, t3.hypervisor, t3.supported_architectures,
            t3.default_vcpus, t3.memory_size_in_mib) == (True, "nitro", ("x86_64",), 2, 4096)
    assert (t3.network_performance, t3.maximum_network_interfaces, t3.maximum_network_cards,
            t3.default_network_card_index, t3.ipv4_addresses_per_interface,
            t3.ipv6_addresses_per_interface, t3.ipv6_supported, t3.ena_support,
            t3.efa_supported, t3.encryption_in_transit_supported) == (
        "Up to 5 Gigabit", 3, 1, 0, 6, 6, True, "required", False, False)
    [card] = t3.network_cards
    assert (card.index, card.network_performance, card.maximum_network_interfaces,
            card.baseline_bandwidth_in_gbps, card.peak_bandwidth_in_gbps) == (
        0, "Up to 5 Gigabit", 3, 0.256, 5.0)


def test_lookup_and_cache() -> None:
    assert it.get("zz9.nonexistent") is None
    assert it.instance_types() is it.instance_types()


# ----------------------------------------------------------------- validation


def _doc(**changes: Any) -> dict[str, Any]:
    doc = {
        "localvpc_source": {"source": "test", "as_of": "2026-01-01", "note": "n"},
        "instance_types": [copy.deepcopy(_raw()["instance_types"][0])],
    }
    doc.update(changes)
    return doc


def test_parse_minimal_record_leaves_unknown_fields_out() -> None:
    src, types = it.parse_document(_doc(instance_types=[{"InstanceType": "x1.test"}]))
    assert src.url is None
    assert types["x1.test"].to_api() == {"InstanceType": "x1.test"}


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("localvpc_source"),
    lambda d: d["localvpc_source"].pop("as_of"),
    lambda d: d.update(instance_types={}),
    lambda d: d["instance_types"].append(copy.deepcopy(d["instance_types"][0])),
    lambda d: d["instance_types"][0].pop("InstanceType"),
    lambda d: d["instance_types"][0].update(CurrentGeneration="yes"),
    lambda d: d["instance_types"][0]["NetworkInfo"].update(MaximumNetworkInterfaces=True),
    lambda d: d["instance_types"][0]["NetworkInfo"].update(EnaSupport="maybe"),
    lambda d: d["instance_types"][0]["NetworkInfo"].update(NetworkCards={}),
    lambda d: d["instance_types"][0]["NetworkInfo"]["NetworkCards"][0].pop(
        "NetworkCardIndex"),
    lambda d: d["instance_types"][0]["ProcessorInfo"].update(SupportedArchitectures="x86"),
])
def test_parse_rejects_bad_documents(mutate: Any) -> None:
    doc = _doc()
    mutate(doc)
    with pytest.raises(ValueError):
        it.parse_document(doc)
