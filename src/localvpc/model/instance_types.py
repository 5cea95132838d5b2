"""EC2 instance types: the ``InstanceTypeInfo`` fields behind ``DescribeInstanceTypes``.

The data lives in ``localvpc/data/instance-types.json`` (or a gzipped
``instance-types.json.gz`` in its place). Its ``localvpc_source`` header names the public
source and date; ``localvpc/data/README.md`` lists the fields shipped.

Every field except the type name is optional here: a field the data does not give is
``None`` (or an empty tuple) and :meth:`InstanceType.to_api` leaves it out of the answer,
as AWS leaves out what does not apply. The loader checks the type of every value that is
present, so a hand edit with a typo fails at load time rather than in a response.

The file is read once, on first use, and cached.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

DATA_FILE: Final = "instance-types.json"

#: ``NetworkInfo.EnaSupport`` values (EC2 API Reference, ``EnaSupport``).
ENA_SUPPORT_VALUES: Final = ("unsupported", "supported", "required")


@dataclass(frozen=True, slots=True)
class DataSource:
    """The ``localvpc_source`` header of the data file."""

    source: str
    as_of: str
    note: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkCard:
    """One ``NetworkCardInfo`` entry."""

    index: int
    network_performance: str | None = None
    maximum_network_interfaces: int | None = None
    baseline_bandwidth_in_gbps: float | None = None
    peak_bandwidth_in_gbps: float | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"NetworkCardIndex": self.index}
        _put(out, "NetworkPerformance", self.network_performance)
        _put(out, "MaximumNetworkInterfaces", self.maximum_network_interfaces)
        _put(out, "BaselineBandwidthInGbps", self.baseline_bandwidth_in_gbps)
        _put(out, "PeakBandwidthInGbps", self.peak_bandwidth_in_gbps)
        return out


@dataclass(frozen=True, slots=True)
class InstanceType:
    """One instance type with the fields localvpc ships (see the module docstring)."""

    name: str
    current_generation: bool | None = None
    hypervisor: str | None = None
    supported_architectures: tuple[str, ...] = ()
    default_vcpus: int | None = None
    memory_size_in_mib: int | None = None
    network_performance: str | None = None
    maximum_network_interfaces: int | None = None
    maximum_network_cards: int | None = None
    default_network_card_index: int | None = None
    network_cards: tuple[NetworkCard, ...] = ()
    ipv4_addresses_per_interface: int | None = None
    ipv6_addresses_per_interface: int | None = None
    ipv6_supported: bool | None = None
    ena_support: str | None = None
    efa_supported: bool | None = None
    encryption_in_transit_supported: bool | None = None

    def to_api(self) -> dict[str, Any]:
        """The ``InstanceTypeInfo`` structure, in the shape botocore parses."""
        out: dict[str, Any] = {"InstanceType": self.name}
        _put(out, "CurrentGeneration", self.current_generation)
        _put(out, "Hypervisor", self.hypervisor)
        if self.supported_architectures:
            out["ProcessorInfo"] = {"SupportedArchitectures": list(self.supported_architectures)}
        if self.default_vcpus is not None:
            out["VCpuInfo"] = {"DefaultVCpus": self.default_vcpus}
        if self.memory_size_in_mib is not None:
            out["MemoryInfo"] = {"SizeInMiB": self.memory_size_in_mib}
        net: dict[str, Any] = {}
        _put(net, "NetworkPerformance", self.network_performance)
        _put(net, "MaximumNetworkInterfaces", self.maximum_network_interfaces)
        _put(net, "MaximumNetworkCards", self.maximum_network_cards)
        _put(net, "DefaultNetworkCardIndex", self.default_network_card_index)
        if self.network_cards:
            net["NetworkCards"] = [card.to_api() for card in self.network_cards]
        _put(net, "Ipv4AddressesPerInterface", self.ipv4_addresses_per_interface)
        _put(net, "Ipv6AddressesPerInterface", self.ipv6_addresses_per_interface)
        _put(net, "Ipv6Supported", self.ipv6_supported)
        _put(net, "EnaSupport", self.ena_support)
        _put(net, "EfaSupported", self.efa_supported)
        _put(net, "EncryptionInTransitSupported", self.encryption_in_transit_supported)
        if net:
            out["NetworkInfo"] = net
        return out


def _put(out: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        out[key] = value


# --------------------------------------------------------------------------- parsing


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object")
    return value


def _opt_str(rec: Mapping[str, Any], key: str, where: str) -> str | None:
    value = rec.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
    return value


def _opt_int(rec: Mapping[str, Any], key: str, where: str) -> int | None:
    value = rec.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValueError(f"{where}: '{key}' must be an integer, got {value!r}")
    return value


def _opt_float(rec: Mapping[str, Any], key: str, where: str) -> float | None:
    value = rec.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{where}: '{key}' must be a number, got {value!r}")
    return float(value)


def _opt_bool(rec: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = rec.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{where}: '{key}' must be true or false, got {value!r}")
    return value


def _parse_card(raw: object, where: str) -> NetworkCard:
    rec = _obj(raw, where)
    index = _opt_int(rec, "NetworkCardIndex", where)
    if index is None:
        raise ValueError(f"{where}: 'NetworkCardIndex' is required")
    return NetworkCard(
        index=index,
        network_performance=_opt_str(rec, "NetworkPerformance", where),
        maximum_network_interfaces=_opt_int(rec, "MaximumNetworkInterfaces", where),
        baseline_bandwidth_in_gbps=_opt_float(rec, "BaselineBandwidthInGbps", where),
        peak_bandwidth_in_gbps=_opt_float(rec, "PeakBandwidthInGbps", where),
    )


def _parse_type(raw: object, where: str) -> InstanceType:
    rec = _obj(raw, where)
    name = _opt_str(rec, "InstanceType", where)
    if name is None:
        raise ValueError(f"{where}: 'InstanceType' is required")
    where = f"{where} ({name})"
    processor = _obj(rec.get("ProcessorInfo", {}), f"{where}: ProcessorInfo")
    archs = processor.get("SupportedArchitectures", [])
    if not isinstance(archs, list) or not all(isinstance(a, str) and a for a in archs):
        raise ValueError(f"{where}: SupportedArchitectures must be a list of strings")
    vcpu = _obj(rec.get("VCpuInfo", {}), f"{where}: VCpuInfo")
    memory = _obj(rec.get("MemoryInfo", {}), f"{where}: MemoryInfo")
    net = _obj(rec.get("NetworkInfo", {}), f"{where}: NetworkInfo")
    cards = net.get("NetworkCards", [])
    if not isinstance(cards, list):
        raise ValueError(f"{where}: NetworkCards must be a list")
    ena = _opt_str(net, "EnaSupport", where)
    if ena is not None and ena not in ENA_SUPPORT_VALUES:
        raise ValueError(f"{where}: unknown EnaSupport {ena!r}")
    return InstanceType(
        name=name,
        current_generation=_opt_bool(rec, "CurrentGeneration", where),
        hypervisor=_opt_str(rec, "Hypervisor", where),
        supported_architectures=tuple(archs),
        default_vcpus=_opt_int(vcpu, "DefaultVCpus", where),
        memory_size_in_mib=_opt_int(memory, "SizeInMiB", where),
        network_performance=_opt_str(net, "NetworkPerformance", where),
        maximum_network_interfaces=_opt_int(net, "MaximumNetworkInterfaces", where),
        maximum_network_cards=_opt_int(net, "MaximumNetworkCards", where),
        default_network_card_index=_opt_int(net, "DefaultNetworkCardIndex", where),
        network_cards=tuple(
            _parse_card(c, f"{where}: NetworkCards[{i}]") for i, c in enumerate(cards)
        ),
        ipv4_addresses_per_interface=_opt_int(net, "Ipv4AddressesPerInterface", where),
        ipv6_addresses_per_interface=_opt_int(net, "Ipv6AddressesPerInterface", where),
        ipv6_supported=_opt_bool(net, "Ipv6Supported", where),
        ena_support=ena,
        efa_supported=_opt_bool(net, "EfaSupported", where),
        encryption_in_transit_supported=_opt_bool(net, "EncryptionInTransitSupported", where),
    )


def parse_document(doc: object) -> tuple[DataSource, dict[str, InstanceType]]:
    """Check and parse a whole data document (the shipped file's layout)."""
    top = _obj(doc, DATA_FILE)
    head = _obj(top.get("localvpc_source"), f"{DATA_FILE}: localvpc_source")
    fields = {}
    for key in ("source", "as_of", "note"):
        value = head.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{DATA_FILE}: localvpc_source.{key} must be a non-empty string")
        fields[key] = value
    url = head.get("url")
    if url is not None and not isinstance(url, str):
        raise ValueError(f"{DATA_FILE}: localvpc_source.url must be a string")
    source = DataSource(source=fields["source"], as_of=fields["as_of"], note=fields["note"],
                        url=url)
    rows = top.get("instance_types")
    if not isinstance(rows, list):
        raise ValueError(f"{DATA_FILE}: 'instance_types' must be a list")
    types: dict[str, InstanceType] = {}
    for i, raw in enumerate(rows):
        parsed = _parse_type(raw, f"{DATA_FILE}: instance_types[{i}]")
        if parsed.name in types:
            raise ValueError(f"{DATA_FILE}: {parsed.name} is listed twice")
        types[parsed.name] = parsed
    return source, dict(sorted(types.items()))


def _read_text() -> str:
    base = resources.files("localvpc") / "data"
    plain = base / DATA_FILE
    if plain.is_file():
        return plain.read_text(encoding="utf-8")
    return gzip.decompress((base / (DATA_FILE + ".gz")).read_bytes()).decode("utf-8")


@lru_cache(maxsize=1)
def _load() -> tuple[DataSource, dict[str, InstanceType]]:
    return parse_document(json.loads(_read_text()))


# --------------------------------------------------------------------------- module API


def data_source() -> DataSource:
    """Where the shipped data comes from, and its date."""
    return _load()[0]


def instance_types() -> Mapping[str, InstanceType]:
    """Every shipped instance type by name, sorted by name (do not modify)."""
    return _load()[1]


def get(name: str) -> InstanceType | None:
    """The instance type called ``name``, or None when the data does not list it."""
    return _load()[1].get(name)
