"""Hypothesis strategies generated from botocore shapes: values that conform to an operation's
input shape (required members, enum, min/max) or output shape, with bounded depth and sizes.

Wire limits shape the alphabets, not the protocol code under test: XML 1.0 cannot carry most
control characters, HTTP headers carry printable ASCII without surrounding blanks, a URI label
cannot be empty, and a SigV4 client sends whole-second timestamps in JSON bodies.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from hypothesis import strategies as st

from localvpc.api.protocols.validation import PATTERN_CHECKED, compiled_pattern

MAX_ITEMS = 3
MAX_DEPTH = 5

# Text any protocol carries: no surrogates, no XML-illegal control characters. ``\r`` is kept
# for responses (we must escape it in XML) but not requests (botocore's XML writer does not).
_TEXT_OUT = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
) | st.sampled_from("\n\t\r&<>\"'")
_TEXT_IN = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
) | st.sampled_from("\n\t&<>\"'%+/ ")
_HEADER = string.ascii_letters + string.digits + '-_.:;/=@ ,"'
_HEADER_KEY = string.ascii_lowercase + string.digits + "-"
_QUERY_KEY = string.ascii_lowercase


def _bounds(shape: Any, default_max: int) -> tuple[int, int]:
    low = int(shape.metadata.get("min", 0) or 0)
    high = shape.metadata.get("max")
    top = low + default_max if high is None else min(int(high), low + default_max)
    return low, max(low, top)


class ShapeStrategies:
    """``ShapeStrategies(output=False).structure(operation.input_shape)`` etc."""

    def __init__(self, *, output: bool) -> None:
        self.output = output
        # Requests to services whose patterns the server checks must match them.
        self.patterns = False

    # --- entry points ------------------------------------------------------------------

    def for_operation(self, operation: Any) -> st.SearchStrategy[dict[str, Any]]:
        shape = operation.output_shape if self.output else operation.input_shape
        self.patterns = not self.output and \
            operation.service_model.service_name in PATTERN_CHECKED
        if shape is None:
            return st.just({})
        return self.structure(shape, depth=0, top=True)

    # --- shapes --------------------------------------------------------------------------

    def value(self, shape: Any, depth: int, location: str | None = None) -> st.SearchStrategy[Any]:
        type_name = shape.type_name
        if type_name == "structure":
            return self.structure(shape, depth)
        if type_name == "list":
            return self.list(shape, depth, location)
        if type_name == "map":
            return self.map(shape, depth, location)
        return self.scalar(shape, location)

    def structure(self, shape: Any, depth: int, top: bool = False) -> st.SearchStrategy[Any]:
        if shape.metadata.get("document"):
            return st.dictionaries(
                st.text(string.ascii_letters, min_size=1, max_size=5),
                st.integers(-1000, 1000) | st.text(string.ascii_letters, max_size=5),
                max_size=3,
            )
        if depth > MAX_DEPTH + 4:
            return st.just({})
        required = set(shape.metadata.get("required") or ()) if not self.output else set()
        payload = shape.serialization.get("payload") if top else None
        fields: dict[str, st.SearchStrategy[Any]] = {}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        for name, member in shape.members.items():
            ser = member.serialization
            location = ser.get("location") if top else None
            if ser.get("eventstream") or ser.get("hostLabel") or location == "statusCode":
                continue
            union = bool(shape.metadata.get("union"))
            shallow = not union or member.type_name in ("structure", "list", "map")
            if depth >= MAX_DEPTH and name not in required and shallow:
                continue
            if top and name == payload and member.type_name in ("blob", "string"):
                strategy: st.SearchStrategy[Any] = (
                    st.binary(min_size=1, max_size=16)
                    if member.type_name == "blob"
                    else st.text(_TEXT_IN, min_size=1, max_size=8)
                )
            elif location == "headers":
                strategy = st.dictionaries(
                    st.text(_HEADER_KEY, min_size=1, max_size=6),
                    st.text(_HEADER, min_size=1, max_size=8).map(str.strip).filter(bool),
                    max_size=3,
                )
            elif location == "header" and ser.get("jsonvalue"):
                strategy = st.dictionaries(
                    st.text(string.ascii_letters, min_size=1, max_size=4),
                    st.integers(0, 9),
                    max_size=2,
                )
            elif location == "querystring" and member.type_name == "map":
                key = st.text(_QUERY_KEY, min_size=1, max_size=5).map(lambda k: f"zz{k}")
                value_shape = member.value
                listed = value_shape.type_name == "list"
                item = self.scalar(value_shape.member if listed else value_shape, "querystring")
                values = st.lists(item, min_size=1, max_size=2) if listed else item
                strategy = st.dictionaries(key, values, max_size=2)
            else:
                strategy = self.value(member, depth + 1, location)
            if name in required:
                # EC2 and query strings cannot carry an empty list or structure.
                if member.type_name in ("list", "map", "structure"):
                    strategy = strategy.filter(bool)
                fields[name] = strategy
            else:
                optional[name] = strategy
        if shape.metadata.get("union"):
            every = {**fields, **optional}
            choices = [st.fixed_dictionaries({name: s}) for name, s in every.items()]
            return st.one_of(choices) if choices else st.just({})
        return st.fixed_dictionaries(fields, optional=optional)

    def list(self, shape: Any, depth: int, location: str | None) -> st.SearchStrategy[Any]:
        low, high = _bounds(shape, MAX_ITEMS)
        if depth >= MAX_DEPTH:
            high = low
        if location == "header":
            low = max(low, 1)
            high = max(high, low)
        item = self.value(shape.member, depth + 1, location)
        if shape.member.type_name in ("structure", "list", "map"):
            item = item.filter(bool)  # EC2 and query cannot carry an empty item
        return st.lists(item, min_size=low, max_size=high)

    def map(self, shape: Any, depth: int, location: str | None) -> st.SearchStrategy[Any]:
        low, high = _bounds(shape, MAX_ITEMS)
        if depth >= MAX_DEPTH:
            high = low
        keys = self.scalar(shape.key, location)
        values = self.value(shape.value, depth + 1, location)
        return st.dictionaries(keys, values, min_size=low, max_size=high)

    def scalar(self, shape: Any, location: str | None) -> st.SearchStrategy[Any]:
        type_name = shape.type_name
        meta = shape.metadata
        if type_name == "string":
            enum = meta.get("enum")
            if enum:
                return st.sampled_from(list(enum))
            pattern = meta.get("pattern") if self.patterns else None
            if pattern and compiled_pattern(pattern) is not None:
                low, top = int(meta.get("min", 0) or 0), int(meta.get("max", 2048))
                return st.from_regex(compiled_pattern(pattern), fullmatch=True).filter(
                    lambda s: max(low, 1 if location == "uri" else 0) <= len(s) <= top)
            low, high = _bounds(shape, 8)
            if location == "uri":
                low = max(low, 1)
                high = max(high, low)
            if location == "header":
                return (
                    st.text(_HEADER, min_size=max(low, 1), max_size=max(high, 1) + 2)
                    .map(str.strip)
                    .filter(lambda s: low <= len(s) <= max(high, 1))
                )
            return st.text(_TEXT_OUT if self.output else _TEXT_IN, min_size=low, max_size=high)
        if type_name in ("integer", "long"):
            bits = 31 if type_name == "integer" else 53
            return st.integers(int(meta.get("min", -(2**bits))), int(meta.get("max", 2**bits - 1)))
        if type_name in ("float", "double"):
            return st.floats(
                min_value=meta.get("min"),
                max_value=meta.get("max"),
                allow_nan=False,
                allow_infinity=False,
            )
        if type_name == "boolean":
            return st.booleans()
        if type_name == "timestamp":
            whole_seconds = not self.output or location == "header"
            return timestamps(whole_seconds)
        if type_name == "blob":
            low, high = _bounds(shape, 12)
            return st.binary(min_size=low, max_size=high)
        raise AssertionError(f"no strategy for {type_name}")


def timestamps(whole_seconds: bool) -> st.SearchStrategy[dt.datetime]:
    base = st.datetimes(
        min_value=dt.datetime(1971, 1, 1),
        max_value=dt.datetime(2099, 12, 31),
        timezones=st.just(dt.UTC),
    )
    if whole_seconds:
        return base.map(lambda d: d.replace(microsecond=0))
    return base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
