"""A codec between model dataclasses and JSON-able dicts, driven by the classes' type hints.

``encode(obj)`` turns a model dataclass into a dict of plain JSON values and ``decode(cls, data)``
rebuilds it. The conversion of each field is planned once per class from its resolved type hints
(the model uses ``from __future__ import annotations``, so hints are strings until resolved) and
the plan is cached. Supported field types:

* ``str``, ``int``, ``bool``, ``float`` and ``None``: as themselves;
* ``ipaddress`` addresses and networks: as their text (``"10.0.0.0/16"``, ``"2001:db8::1"``);
* enums (the model's ``StrEnum`` kinds): as their value;
* nested dataclasses: as nested dicts;
* ``list[T]``, ``dict[str, T]`` and unions such as ``X | None`` of any of the above.

Decoding ignores keys the class does not know (data written by a newer localvpc) and gives
missing fields their dataclass defaults (data written by an older one). A value of the wrong
shape raises ``CodecError`` naming the path to it, e.g. ``RouteTable.routes[2].destination``.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from localvpc.model.errors import StoreError

T = TypeVar("T")

Converter = Callable[[Any], Any]

_ADDRESS_TYPES: tuple[type, ...] = (ipaddress.IPv4Address, ipaddress.IPv6Address)
_NETWORK_TYPES: tuple[type, ...] = (ipaddress.IPv4Network, ipaddress.IPv6Network)


class CodecError(StoreError):
    """A value does not have the shape its model type needs; ``path`` says where it is."""

    def __init__(self, reason: str, path: tuple[str, ...] = ()) -> None:
        self.reason = reason
        self.path = path
        where = "".join(path).lstrip(".")
        super().__init__(f"{where}: {reason}" if where else reason)

    def inside(self, step: str) -> CodecError:
        """The same error one level further out (``step`` is ``.field`` or ``[index]``)."""
        return CodecError(self.reason, (step, *self.path))


# ---------------------------------------------------------------------------- public API
def encode(obj: Any) -> dict[str, Any]:
    """A dict of JSON values for the model dataclass ``obj`` (``CodecError`` on a bad field)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise CodecError(f"not a dataclass instance: {type(obj).__name__}")
    try:
        result: dict[str, Any] = _plan(type(obj)).encode(obj)
    except CodecError as exc:
        raise exc.inside(type(obj).__name__) from None
    return result


def decode(cls: type[T], data: Any) -> T:
    """An instance of the dataclass ``cls`` rebuilt from ``encode`` output (``CodecError``)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"not a dataclass: {cls!r}")
    try:
        result: T = _plan(cls).decode(data)
    except CodecError as exc:
        raise exc.inside(cls.__name__) from None
    return result


# ---------------------------------------------------------------------------- class plans
@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    encode: Converter
    decode: Converter
    required: bool


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    cls: type
    fields: tuple[_Field, ...]

    def encode(self, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, self.cls):
            raise CodecError(f"expected {self.cls.__name__}, got {type(obj).__name__}")
        out: dict[str, Any] = {}
        for f in self.fields:
            try:
                out[f.name] = f.encode(getattr(obj, f.name))
            except CodecError as exc:
                raise exc.inside(f".{f.name}") from None
        return out

    def decode(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise CodecError(f"expected an object for {self.cls.__name__}, got {_kind(data)}")
        kwargs: dict[str, Any] = {}
        for f in self.fields:
            if f.name in data:
                try:
                    kwargs[f.name] = f.decode(data[f.name])
                except CodecError as exc:
                    raise exc.inside(f".{f.name}") from None
            elif f.required:
                raise CodecError(f"missing required field of {self.cls.__name__}", (f".{f.name}",))
        try:
            return self.cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise CodecError(f"cannot build {self.cls.__name__}: {exc}") from exc


@cache
def _plan(cls: type) -> _Plan:
    """How to convert each init field of ``cls``; type hints are resolved here, once per class."""
    hints = get_type_hints(cls)
    planned: list[_Field] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue  # derived in __post_init__: neither stored nor passed back in
        enc, dec = _converters(hints[f.name], f"{cls.__name__}.{f.name}")
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        planned.append(_Field(f.name, enc, dec, required))
    return _Plan(cls, tuple(planned))


# ---------------------------------------------------------------------------- converters
def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _converters(hint: Any, where: str) -> tuple[Converter, Converter]:
    """The (encode, decode) pair for one type hint; TypeError for a type the codec cannot do."""
    origin = get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _union(get_args(hint), where)
    if origin is list:
        (item,) = get_args(hint)
        return _list(*_converters(item, where))
    if origin is dict:
        key, value = get_args(hint)
        if key is not str:
            raise TypeError(f"{where}: only dict[str, ...] is supported, not {hint!r}")
        return _dict(*_converters(value, where))
    if hint is type(None):
        return _none, _none
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return _enum(hint)
        if hint in _ADDRESS_TYPES or hint in _NETWORK_TYPES:
            return _ip((hint,))
        if dataclasses.is_dataclass(hint):
            return _nested(hint)
        if hint in (str, int, bool, float):
            return _scalar(hint)
    raise TypeError(f"{where}: the store codec does not support {hint!r}")


def _none(value: Any) -> None:
    if value is not None:
        raise CodecError(f"expected null, got {_kind(value)}")
    return None


def _scalar(cls: type) -> tuple[Converter, Converter]:
    def check(value: Any) -> Any:
        if type(value) is cls:  # the common case, without the subclass checks below
            return value
        # bool is an int subclass: keep the two apart. A float field takes ints too (JSON does).
        if cls is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = isinstance(value, cls) and (cls is bool or not isinstance(value, bool))
        if not ok:
            raise CodecError(f"expected {cls.__name__}, got {_kind(value)}")
        return value

    return check, check


def _enum(cls: type[enum.Enum]) -> tuple[Converter, Converter]:
    def enc(value: Any) -> Any:
        try:
            return cls(value).value
        except ValueError:
            raise CodecError(f"{value!r} is not a {cls.__name__}") from None

    def dec(value: Any) -> Any:
        try:
            return cls(value)
        except ValueError:
            raise CodecError(f"{value!r} is not a {cls.__name__}") from None

    return enc, dec


def _ip(classes: tuple[type, ...]) -> tuple[Converter, Converter]:
    """Addresses or networks (of one or both IP versions) as their canonical text."""
    networks = all(c in _NETWORK_TYPES for c in classes)
    label = " or ".join(c.__name__ for c in classes)

    def enc(value: Any) -> str:
        if not isinstance(value, classes):
            raise CodecError(f"expected {label}, got {_kind(value)}")
        return str(value)

    def dec(value: Any) -> Any:
        if not isinstance(value, str):
            raise CodecError(f"expected {label} text, got {_kind(value)}")
        try:
            parsed: Any = (
                ipaddress.ip_network(value, strict=False)
                if networks
                else ipaddress.ip_address(value)
            )
        except ValueError:
            raise CodecError(f"{value!r} is not a valid {label}") from None
        if not isinstance(parsed, classes):
            raise CodecError(f"{value!r} is not a {label}")
        return parsed

    return enc, dec


def _nested(cls: type) -> tuple[Converter, Converter]:
    # The nested plan is looked up on use, not now, so self-referencing classes cannot recurse.
    def enc(value: Any) -> Any:
        return _plan(cls).encode(value)

    def dec(value: Any) -> Any:
        return _plan(cls).decode(value)

    return enc, dec


def _list(item_enc: Converter, item_dec: Converter) -> tuple[Converter, Converter]:
    def convert(value: Any, item: Converter) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise CodecError(f"expected a list, got {_kind(value)}")
        try:  # the common case: every element converts
            return [item(element) for element in value]
        except CodecError:
            pass
        out: list[Any] = []  # find the element that does not, to name it in the error
        for i, element in enumerate(value):
            try:
                out.append(item(element))
            except CodecError as exc:
                raise exc.inside(f"[{i}]") from None
        return out

    return (lambda v: convert(v, item_enc)), (lambda v: convert(v, item_dec))


def _dict(value_enc: Converter, value_dec: Converter) -> tuple[Converter, Converter]:
    def convert(value: Any, item: Converter) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise CodecError(f"expected an object, got {_kind(value)}")
        out: dict[str, Any] = {}
        for key, element in value.items():
            if not isinstance(key, str):
                raise CodecError(f"expected str keys, got {_kind(key)}")
            try:
                out[key] = item(element)
            except CodecError as exc:
                raise exc.inside(f"[{key!r}]") from None
        return out

    return (lambda v: convert(v, value_enc)), (lambda v: convert(v, value_dec))


def _union(members: tuple[Any, ...], where: str) -> tuple[Converter, Converter]:
    """``X | None`` and unions of several types (the first member that fits wins)."""
    optional = type(None) in members
    others = tuple(m for m in members if m is not type(None))
    if others and (
        all(m in _ADDRESS_TYPES for m in others) or all(m in _NETWORK_TYPES for m in others)
    ):
        enc, dec = _ip(others)
    elif len(others) == 1:
        enc, dec = _converters(others[0], where)
    else:
        pairs = [_converters(m, where) for m in others]

        def first_fit(value: Any, index: int) -> Any:
            reasons: list[str] = []
            for pair in pairs:
                try:
                    return pair[index](value)
                except CodecError as exc:
                    reasons.append(str(exc))
            raise CodecError("no member of the union fits: " + "; ".join(reasons))

        enc, dec = (lambda v: first_fit(v, 0)), (lambda v: first_fit(v, 1))
    if not optional:
        return enc, dec
    return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
