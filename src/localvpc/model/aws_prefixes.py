"""AWS's published IP ranges (a bundled snapshot of ``ip-ranges.json``) and lookups on them.

The data lives in ``localvpc/data/aws-ip-ranges.csv``. See ``localvpc/data/README.md``
for its source and date. Everything here is computed once, on first use, and cached.

Terms:

* *AWS prefixes*: every prefix in the file, whatever service it is listed under.
* *AWS service prefixes*: prefixes listed under ``AMAZON``, minus those that are
  exclusively EC2 (listed under ``EC2`` and under no service other than ``AMAZON`` and
  ``EC2``). The AWS docs describe the egress ranges of "AWS services" this way, and
  Batfish computes its ``__aws-services-gateway__`` the same way.
"""

from __future__ import annotations

import csv
import gzip
import io
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The umbrella service name: AWS lists every range it owns under it.
AMAZON = "AMAZON"
#: The EC2 service name (instance and Elastic IP address space).
EC2 = "EC2"

_DATA_NAME = "aws-ip-ranges.csv"
_COLUMNS = ["ip_prefix", "region", "service", "network_border_group"]


@dataclass(frozen=True, slots=True)
class AwsPrefix:
    """One row of ``ip-ranges.json``: a prefix as listed for one service."""

    prefix: IPNetwork
    region: str
    service: str
    network_border_group: str


def _read_data_text() -> str:
    base = resources.files("localvpc") / "data"
    plain = base / _DATA_NAME
    if plain.is_file():
        return plain.read_text(encoding="utf-8")
    packed = base / (_DATA_NAME + ".gz")
    return gzip.decompress(packed.read_bytes()).decode("utf-8")


@lru_cache(maxsize=1)
def _load() -> tuple[str, tuple[AwsPrefix, ...]]:
    text = _read_data_text()
    header, _, body = text.partition("\n")
    if not header.startswith("# source:"):
        raise ValueError(f"{_DATA_NAME}: first line must be a '# source:' comment")
    reader = csv.reader(io.StringIO(body))
    columns = next(reader, None)
    if columns != _COLUMNS:
        raise ValueError(f"{_DATA_NAME}: expected columns {_COLUMNS}, got {columns}")
    records: list[AwsPrefix] = []
    for line_no, row in enumerate(reader, start=3):
        if len(row) != len(_COLUMNS):
            raise ValueError(f"{_DATA_NAME}:{line_no}: expected 4 fields, got {row!r}")
        prefix, region, service, border_group = row
        records.append(
            AwsPrefix(
                prefix=ipaddress.ip_network(prefix),  # strict: host bits must be zero
                region=region,
                service=service,
                network_border_group=border_group,
            )
        )
    return header[len("# ") :], tuple(records)


def data_source() -> str:
    """The source line of the bundled data (which file it came from and its date)."""
    return _load()[0]


def aws_prefix_records() -> tuple[AwsPrefix, ...]:
    """Every row of the bundled data, in file order (sorted by family and address)."""
    return _load()[1]


@lru_cache(maxsize=1)
def _services_by_prefix() -> dict[IPNetwork, frozenset[str]]:
    services: dict[IPNetwork, set[str]] = {}
    for record in aws_prefix_records():
        services.setdefault(record.prefix, set()).add(record.service)
    return {prefix: frozenset(names) for prefix, names in services.items()}


def _sort_key(net: IPNetwork) -> tuple[int, int, int]:
    return (net.version, int(net.network_address), net.prefixlen)


def _sorted(nets: Iterable[IPNetwork], version: int | None) -> list[IPNetwork]:
    return sorted((net for net in nets if version is None or net.version == version), key=_sort_key)


@lru_cache(maxsize=1)
def _all_prefixes() -> tuple[IPNetwork, ...]:
    return tuple(_sorted(_services_by_prefix(), None))


@lru_cache(maxsize=1)
def _service_prefixes() -> tuple[IPNetwork, ...]:
    def is_service(names: frozenset[str]) -> bool:
        exclusively_ec2 = EC2 in names and names <= {AMAZON, EC2}
        return AMAZON in names and not exclusively_ec2

    return tuple(_sorted((p for p, n in _services_by_prefix().items() if is_service(n)), None))


@lru_cache(maxsize=1)
def _service_prefix_set() -> frozenset[IPNetwork]:
    return frozenset(_service_prefixes())


def aws_prefixes(version: int | None = None) -> list[IPNetwork]:
    """All distinct AWS prefixes (any service), sorted, IPv4 first.

    ``version`` (4 or 6) keeps only one address family.
    """
    return _sorted(_all_prefixes(), version)


def aws_service_prefixes(version: int | None = None) -> list[IPNetwork]:
    """Prefixes of AWS *services*: ``AMAZON`` prefixes minus the exclusively-EC2 ones.

    A prefix is exclusively EC2 when it is listed under ``EC2`` and under no service
    other than ``AMAZON`` and ``EC2``. Sorted, IPv4 first. ``version`` (4 or 6) keeps
    only one address family.
    """
    return _sorted(_service_prefixes(), version)


@dataclass(frozen=True, slots=True)
class _Index:
    """Prefixes bucketed by family and length, keyed by their network address as an int, so a
    longest-prefix match costs one mask and one dict lookup per distinct prefix length."""

    # family -> ((prefix length, netmask as int, {network int: records}), ...), longest first
    levels: dict[int, tuple[tuple[int, int, dict[int, tuple[AwsPrefix, ...]]], ...]]

    @classmethod
    def build(cls, records: Iterable[AwsPrefix]) -> _Index:
        buckets: dict[tuple[int, int], dict[int, list[AwsPrefix]]] = {}
        for record in records:
            net = record.prefix
            bucket = buckets.setdefault((net.version, net.prefixlen), {})
            bucket.setdefault(int(net.network_address), []).append(record)
        levels: dict[int, list[tuple[int, int, dict[int, tuple[AwsPrefix, ...]]]]] = {}
        for (version, length), bucket in buckets.items():
            bits = 32 if version == 4 else 128
            mask = ((1 << length) - 1) << (bits - length)
            frozen = {key: tuple(recs) for key, recs in bucket.items()}
            levels.setdefault(version, []).append((length, mask, frozen))
        return cls(levels={v: tuple(sorted(ls, key=lambda lv: -lv[0])) for v, ls in levels.items()})

    def matches(self, address: IPAddress) -> list[tuple[AwsPrefix, ...]]:
        """The records of every indexed prefix containing ``address``, most specific first."""
        value = int(address)
        found: list[tuple[AwsPrefix, ...]] = []
        for _length, mask, bucket in self.levels.get(address.version, ()):
            records = bucket.get(value & mask)
            if records is not None:
                found.append(records)
        return found

    def longest(self, address: IPAddress) -> tuple[AwsPrefix, ...] | None:
        """The records of the most specific indexed prefix containing ``address``."""
        value = int(address)
        for _length, mask, bucket in self.levels.get(address.version, ()):
            records = bucket.get(value & mask)
            if records is not None:
                return records
        return None


@lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index.build(aws_prefix_records())


def _address(ip: str | IPAddress) -> IPAddress:
    return ipaddress.ip_address(ip.strip()) if isinstance(ip, str) else ip


def is_aws_address(ip: str | IPAddress) -> bool:
    """Whether ``ip`` falls in any AWS prefix."""
    return _index().longest(_address(ip)) is not None


def is_aws_service_address(ip: str | IPAddress) -> bool:
    """Whether ``ip`` falls in an AWS *service* prefix (see :func:`aws_service_prefixes`)."""
    service = _service_prefix_set()
    return any(records[0].prefix in service for records in _index().matches(_address(ip)))


def services_of(ip: str | IPAddress) -> list[str]:
    """Every service whose prefix contains ``ip``: most specific prefix first, then by name.

    Each service appears once, at its most specific prefix. Empty if ``ip`` isn't AWS.
    """
    seen: dict[str, None] = {}
    for records in _index().matches(_address(ip)):
        for name in sorted(record.service for record in records):
            seen.setdefault(name, None)
    return list(seen)


def service_of(ip: str | IPAddress) -> str | None:
    """The service ``ip`` belongs to.

    Returns the most specific non-``AMAZON`` service whose prefix contains ``ip`` (``S3``,
    ``DYNAMODB``, ``EC2``, ``CLOUDFRONT``, ...). If several services list that same prefix,
    the first by name wins. Returns ``"AMAZON"`` if only ``AMAZON`` prefixes contain
    ``ip``, and ``None`` if ``ip`` isn't AWS at all. Raises ``ValueError`` for a string
    that isn't an IP address.
    """
    names = services_of(ip)
    specific = [name for name in names if name != AMAZON]
    if specific:
        return specific[0]
    return AMAZON if names else None


def region_of(ip: str | IPAddress) -> str | None:
    """The region (``us-east-1``, ..., or ``GLOBAL``) of the most specific AWS prefix that
    contains ``ip``, or ``None`` if ``ip`` isn't AWS."""
    records = _index().longest(_address(ip))
    return records[0].region if records is not None else None


__all__ = [
    "AMAZON",
    "EC2",
    "AwsPrefix",
    "aws_prefix_records",
    "aws_prefixes",
    "aws_service_prefixes",
    "data_source",
    "is_aws_address",
    "is_aws_service_address",
    "region_of",
    "service_of",
    "services_of",
]
