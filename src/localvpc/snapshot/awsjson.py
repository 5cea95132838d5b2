"""Typed, defensive accessors for fields of AWS ``describe-*`` JSON records.

Every accessor either returns a value of the promised type or raises ``RecordError``; callers
catch that per record, so one malformed record becomes a warning instead of a failed load.
A missing field (or an explicit ``null``) is never an error for the ``opt_*`` accessors.
"""

from __future__ import annotations

from functools import lru_cache

from localvpc.model.base import IPAddress, IPNetwork, parse_cidr, parse_ip

JsonDict = dict[str, object]


class RecordError(Exception):
    """A record lacks a required field or holds a field of the wrong type."""


def _type_name(value: object) -> str:
    return type(value).__name__


def as_dict(value: object, what: str) -> JsonDict:
    """``value`` as a JSON object, else RecordError naming ``what``."""
    if not isinstance(value, dict):
        raise RecordError(f"{what} is {_type_name(value)}, expected an object")
    return value


def opt_str(rec: JsonDict, key: str) -> str | None:
    """A string field; None when missing or null."""
    value = rec.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"field {key} is {_type_name(value)}, expected a string")
    return value


def req_str(rec: JsonDict, key: str) -> str:
    """A non-empty string field that must be present (ids)."""
    value = opt_str(rec, key)
    if not value:
        raise RecordError(f"missing {key}")
    return value


def str_or(rec: JsonDict, key: str, default: str) -> str:
    value = opt_str(rec, key)
    return default if value is None else value


def opt_bool(rec: JsonDict, key: str, default: bool) -> bool:
    """A boolean field; accepts JSON booleans and the strings ``true``/``false``."""
    value = rec.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise RecordError(f"field {key} is {_type_name(value)}, expected a boolean")


def to_int(value: object, what: str) -> int:
    """An integer from a JSON number without fraction or a decimal string (``"65001"``)."""
    if isinstance(value, bool):
        raise RecordError(f"{what} is a boolean, expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 20:
            return int(text)
    raise RecordError(f"{what} is {value!r}, expected an integer")


def opt_int(rec: JsonDict, key: str) -> int | None:
    value = rec.get(key)
    if value is None:
        return None
    return to_int(value, f"field {key}")


def opt_list(rec: JsonDict, key: str) -> list[object]:
    """A list field; empty when missing or null."""
    value = rec.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"field {key} is {_type_name(value)}, expected a list")
    return value


def opt_dict(rec: JsonDict, key: str) -> JsonDict:
    """An object field; empty when missing or null."""
    value = rec.get(key)
    if value is None:
        return {}
    return as_dict(value, f"field {key}")


def dicts(rec: JsonDict, key: str) -> list[JsonDict]:
    """A list of objects."""
    return [as_dict(item, f"{key}[{i}]") for i, item in enumerate(opt_list(rec, key))]


def strs(rec: JsonDict, key: str) -> list[str]:
    """A list of strings."""
    out: list[str] = []
    for i, item in enumerate(opt_list(rec, key)):
        if not isinstance(item, str):
            raise RecordError(f"{key}[{i}] is {_type_name(item)}, expected a string")
        out.append(item)
    return out


def ids_of(rec: JsonDict, key: str, id_key: str) -> list[str]:
    """``[item[id_key] for item in rec[key]]``, e.g. GroupId of every ``Groups`` entry."""
    out: list[str] = []
    for item in dicts(rec, key):
        value = opt_str(item, id_key)
        if value:
            out.append(value)
    return out


def tags_of(rec: JsonDict) -> dict[str, str]:
    """``Tags`` (or ``TagSet`` on ENIs): a list of ``{Key, Value}`` as a dict."""
    out: dict[str, str] = {}
    for key in ("Tags", "TagSet"):
        for tag in dicts(rec, key):
            name = opt_str(tag, "Key")
            if name is not None:
                out[name] = str_or(tag, "Value", "")
    return out


def ip_of(text: str, what: str) -> IPAddress:
    try:
        return parse_ip(text)
    except ValueError as exc:
        raise RecordError(f"{what} {text!r} is not an IP address") from exc


@lru_cache(maxsize=1 << 16)
def _cached_cidr(text: str) -> IPNetwork:
    """Snapshots repeat the same CIDRs (``0.0.0.0/0``, VPC blocks) in thousands of rules and
    routes; networks are immutable, so parsing each text once is safe and much faster."""
    return parse_cidr(text)


def cidr_of(text: str, what: str) -> IPNetwork:
    try:
        return _cached_cidr(text)
    except ValueError as exc:
        raise RecordError(f"{what} {text!r} is not a CIDR block") from exc


def opt_ip(rec: JsonDict, key: str) -> IPAddress | None:
    value = opt_str(rec, key)
    return ip_of(value, key) if value else None


def opt_cidr(rec: JsonDict, key: str) -> IPNetwork | None:
    value = opt_str(rec, key)
    return cidr_of(value, key) if value else None


def state_of(rec: JsonDict, key: str, default: str) -> str:
    """A state field that AWS gives either as a string or as ``{"Code"|"Name"|"State": ...}``."""
    value = rec.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        return value
    inner = as_dict(value, f"field {key}")
    for sub in ("Code", "Name", "State"):
        text = inner.get(sub)
        if isinstance(text, str):  # instances give {"Code": 16, "Name": "running"}
            return text
    return default


_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def protocol_of(value: object) -> str:
    """An IP protocol as the model stores it: ``tcp``/``udp``/``icmp``/``icmpv6``, ``-1`` for
    all, other protocols as their number (``"50"``). Accepts names, numbers and number strings."""
    if isinstance(value, bool) or value is None:
        raise RecordError(f"protocol {value!r} is not a protocol")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower()
    else:
        raise RecordError(f"protocol {value!r} is not a protocol")
    if text in _PROTOCOL_NAMES:
        return _PROTOCOL_NAMES[text]
    if text in ("all", "-1"):
        return "-1"
    if text.isdigit():
        number = int(text)
        if number > 255:
            raise RecordError(f"protocol number {number} is out of range")
        return str(number)
    if text in ("tcp", "udp", "icmp", "icmpv6"):
        return text
    raise RecordError(f"protocol {value!r} is not a protocol")
