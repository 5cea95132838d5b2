"""Shape helpers shared by the parsers, serialisers and validation: wire names, member plans
(cached per shape object), protocol selection and timestamp conversion."""

from __future__ import annotations

import base64
import binascii
import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from botocore.utils import parse_timestamp as _botocore_parse_timestamp

#: The protocol families this package speaks, in the order we prefer them when a model lists
#: several (``metadata.protocols``).
SUPPORTED_PROTOCOLS: tuple[str, ...] = ("ec2", "query", "json", "rest-json", "rest-xml")


def protocol_of(service_model: Any) -> str:
    """The protocol family we use for ``service_model`` (first supported entry of
    ``metadata.protocols``, else ``metadata.protocol``)."""
    metadata = service_model.metadata
    listed = metadata.get("protocols") or ()
    for name in listed:
        if name in SUPPORTED_PROTOCOLS:
            return str(name)
    return str(metadata["protocol"])


@dataclass(frozen=True, slots=True)
class Member:
    """One member of a structure shape, with everything a walk needs precomputed."""

    name: str
    shape: Any
    type_name: str
    #: ``locationName`` or the member name (JSON keys, XML element names, REST bindings).
    wire: str
    #: ``uri``, ``querystring``, ``header``, ``headers``, ``statusCode`` or ``None`` (body).
    location: str | None
    #: The ``ec2`` protocol's input name: ``queryName``, else capitalised ``locationName``.
    ec2_query: str
    #: The ``query`` protocol's input name (a flattened list with a named member uses it).
    query: str
    #: Element name in XML output; for a flattened list it is the list member's name.
    xml: str
    flattened: bool
    xml_attribute: bool


@functools.cache
def members(shape: Any) -> tuple[Member, ...]:
    """The members of structure ``shape`` as :class:`Member` plans (cached per shape object;
    botocore caches member shapes on their parent, so walks from an operation reuse them)."""
    out: list[Member] = []
    for name, member in shape.members.items():
        ser = member.serialization
        loc_name = ser.get("name")
        wire = loc_name or name
        if "queryName" in ser:
            ec2_query = ser["queryName"]
        elif loc_name:
            ec2_query = loc_name[0].upper() + loc_name[1:]
        else:
            ec2_query = name
        flattened = bool(ser.get("flattened"))
        query = wire
        xml = wire
        if member.type_name == "list" and flattened:
            inner = member.member.serialization.get("name")
            if inner:
                query = inner
                xml = inner
        out.append(
            Member(
                name=name,
                shape=member,
                type_name=member.type_name,
                wire=wire,
                location=ser.get("location"),
                ec2_query=ec2_query,
                query=query,
                xml=xml,
                flattened=flattened,
                xml_attribute=bool(ser.get("xmlAttribute")),
            )
        )
    return tuple(out)


@functools.cache
def body_members(shape: Any) -> tuple[tuple[Member, ...], tuple[Member, ...]]:
    """``(elements, xml_attributes)``: the members a body carries, split by how XML writes
    them (members bound to a URI, header or status code are not in the body)."""
    plain = tuple(m for m in members(shape) if m.location is None and not m.xml_attribute)
    attrs = tuple(m for m in members(shape) if m.location is None and m.xml_attribute)
    return plain, attrs


@functools.cache
def members_by_wire(shape: Any) -> dict[str, Member]:
    """Body members of ``shape`` keyed by wire (JSON / XML) name."""
    return {m.wire: m for m in members(shape) if m.location is None}


def is_flattened(shape: Any) -> bool:
    return bool(shape.serialization.get("flattened"))


def enum_values(shape: Any) -> tuple[str, ...]:
    return tuple(shape.metadata.get("enum") or ())


# --- timestamps -------------------------------------------------------------------------


def to_datetime(value: Any) -> datetime:
    """A timezone-aware UTC datetime from a datetime (naive means UTC), epoch number or
    timestamp string (ISO 8601, RFC 822 or epoch seconds)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if not text:
        raise ValueError("empty timestamp")
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError):
        pass
    try:
        return to_datetime(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return to_datetime(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return to_datetime(_botocore_parse_timestamp(text))
    except Exception as exc:  # botocore raises a plain ValueError or its own types
        raise ValueError(f"not a timestamp: {value!r}") from exc


def format_iso8601(value: datetime) -> str:
    """``2024-01-02T03:04:05.678Z`` (millisecond precision, as AWS's XML services answer)."""
    value = to_datetime(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_epoch(value: datetime) -> int | float:
    """Epoch seconds, an int when whole, else float with millisecond precision."""
    value = to_datetime(value)
    seconds = calendar.timegm(value.utctimetuple())
    millis = value.microsecond // 1000
    if millis == 0:
        return seconds
    return seconds + millis / 1000


def format_rfc822(value: datetime) -> str:
    return format_datetime(to_datetime(value).replace(microsecond=0), usegmt=True)


def format_timestamp(value: Any, fmt: str) -> str | int | float:
    """Render ``value`` in ``fmt`` (``iso8601``, ``unixTimestamp`` or ``rfc822``)."""
    dt = to_datetime(value)
    lowered = fmt.lower()
    if lowered == "iso8601":
        return format_iso8601(dt)
    if lowered == "unixtimestamp":
        return format_epoch(dt)
    if lowered == "rfc822":
        return format_rfc822(dt)
    raise ValueError(f"unknown timestamp format {fmt!r}")


# --- blobs ----------------------------------------------------------------------------


def b64encode(value: bytes | bytearray | str) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return base64.b64encode(raw).decode("ascii")


def b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("invalid base64") from exc
