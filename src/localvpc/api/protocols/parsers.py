"""Request parsers: one class per protocol family, all walking the operation's input shape.

``parse_request(service_model, request)`` finds the operation (form ``Action``,
``X-Amz-Target`` or the REST route), reads the members from where the protocol puts them,
converts every value to the shape's type (int, float, bool, ``datetime``, ``bytes``, ...)
and validates the result. The params dict is what botocore's serializer was given.
"""

from __future__ import annotations

import functools
import json
import math
import xml.etree.ElementTree as ET
from typing import Any

from localvpc.api.protocols.addressing import (
    content_encoding_without_chunked,
    decode_aws_chunked,
    is_aws_chunked,
    path_style,
)
from localvpc.api.protocols.request import (
    HttpRequest,
    ServiceError,
    missing_action,
    serialization_error,
    unknown_operation,
    validation_error,
)
from localvpc.api.protocols.routing import router_for
from localvpc.api.protocols.shapes import (
    Member,
    b64decode,
    is_flattened,
    members,
    protocol_of,
    to_datetime,
)
from localvpc.api.protocols.validation import validate

Params = dict[str, Any]
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def parse_request(service_model: Any, req: HttpRequest) -> tuple[Any, Params]:
    """``(OperationModel, params)`` for ``req``; raises :class:`ServiceError` (unknown
    operation, malformed body, validation) in the protocol's own words."""
    return parser_for(service_model).parse(req)


@functools.cache
def parser_for(service_model: Any) -> RequestParser:
    protocol = protocol_of(service_model)
    if protocol == "ec2":
        return QueryParser(service_model, ec2=True)
    if protocol == "query":
        return QueryParser(service_model, ec2=False)
    if protocol == "json":
        return JsonParser(service_model)
    if protocol == "rest-json":
        return RestParser(service_model, xml=False)
    if protocol == "rest-xml":
        return RestParser(service_model, xml=True)
    raise ValueError(f"unsupported protocol {protocol!r}")


class RequestParser:
    def __init__(self, service_model: Any) -> None:
        self.service_model = service_model

    def parse(self, req: HttpRequest) -> tuple[Any, Params]:
        operation, params = self.read(req)
        validate(self.service_model, operation.input_shape, params)
        return operation, params

    def read(self, req: HttpRequest) -> tuple[Any, Params]:
        raise NotImplementedError

    def operation(self, name: str | None) -> Any:
        if name and name in self._operation_names:
            return self.service_model.operation_model(name)
        raise unknown_operation(self.service_model, name)

    @functools.cached_property
    def _operation_names(self) -> frozenset[str]:
        return frozenset(self.service_model.operation_names)

    # --- scalars from text (query strings, headers, URI labels, XML) --------------------

    def scalar_from_text(self, shape: Any, text: str, where: str) -> Any:
        type_name = shape.type_name
        try:
            if type_name == "string":
                return text
            if type_name in ("integer", "long"):
                return int(text.strip())
            if type_name == "boolean":
                lowered = text.strip().lower()
                if lowered == "true":
                    return True
                if lowered == "false":
                    return False
                raise ValueError(text)
            if type_name in ("float", "double"):
                stripped = text.strip()
                if stripped in _SPECIAL_FLOATS:
                    return _SPECIAL_FLOATS[stripped]
                return float(stripped)
            if type_name == "timestamp":
                return to_datetime(text)
            if type_name == "blob":
                return b64decode(text)
        except ValueError:
            raise self.bad_value(text, where, type_name) from None
        return text

    def bad_value(self, value: Any, where: str, type_name: str) -> ServiceError:
        if protocol_of(self.service_model) == "ec2":
            return ServiceError(
                "InvalidParameterValue",
                f"Invalid value '{value}' for {where}: expected {type_name}",
                status=400,
            )
        return validation_error(
            self.service_model,
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
            f"constraint: Member must be of type {type_name}",
        )


# --- ec2 / query ---------------------------------------------------------------------------

Node = dict[str, Any] | str


def _form_tree(form: dict[str, str]) -> dict[str, Any]:
    """``{"Filter.1.Name": "x"}`` -> ``{"Filter": {"1": {"Name": "x"}}}``. A key that is both
    a value and a prefix keeps its value under ``""``."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            elif isinstance(child, str):
                child = {"": child}
                node[part] = child
            node = child
        last = parts[-1]
        existing = node.get(last)
        if isinstance(existing, dict):
            existing[""] = value
        else:
            node[last] = value
    return root


def _indexed(node: Node) -> list[Any]:
    if isinstance(node, str):
        return [] if node == "" else [node]
    items = [(int(k), v) for k, v in node.items() if k.isdigit()]
    items.sort(key=lambda kv: kv[0])
    return [v for _, v in items]


class QueryParser(RequestParser):
    """``ec2`` and ``query``: form-encoded ``Action``/``Version`` plus flattened params."""

    def __init__(self, service_model: Any, *, ec2: bool) -> None:
        super().__init__(service_model)
        self.ec2 = ec2

    def read(self, req: HttpRequest) -> tuple[Any, Params]:
        form = req.form()
        action = form.get("Action")
        if not action:
            raise missing_action(self.service_model)
        operation = self.operation(action)
        shape = operation.input_shape
        if shape is None:
            return operation, {}
        return operation, self._structure(shape, _form_tree(form), "")

    def _name(self, member: Member) -> str:
        return member.ec2_query if self.ec2 else member.query

    def _structure(self, shape: Any, node: Node, where: str) -> Params:
        if isinstance(node, str):
            return {}
        out: Params = {}
        for member in members(shape):
            name = self._name(member)
            child = node.get(name)
            if child is None:
                continue
            out[member.name] = self._value(member.shape, child, f"{where}{name}")
        return out

    def _value(self, shape: Any, node: Node, where: str) -> Any:
        type_name = shape.type_name
        if type_name == "structure":
            return self._structure(shape, node, where + ".")
        if type_name == "list":
            if not self.ec2 and not is_flattened(shape) and isinstance(node, dict):
                inner = shape.member.serialization.get("name", "member")
                node = node.get(inner) or node.get("") or ""
            return [
                self._value(shape.member, item, f"{where}.{i}")
                for i, item in enumerate(_indexed(node), 1)
            ]
        if type_name == "map":
            return self._map(shape, node, where)
        text = node if isinstance(node, str) else str(node.get("", ""))
        return self.scalar_from_text(shape, text, where)

    def _map(self, shape: Any, node: Node, where: str) -> dict[Any, Any]:
        if isinstance(node, dict) and not is_flattened(shape):
            node = node.get("entry", {})
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out: dict[Any, Any] = {}
        for i, entry in enumerate(_indexed(node), 1):
            if not isinstance(entry, dict) or key_name not in entry:
                continue
            key = self._value(shape.key, entry[key_name], f"{where}.{i}.{key_name}")
            raw = entry.get(value_name)
            out[key] = None if raw is None else self._value(shape.value, raw, f"{where}.{i}")
        return out


# --- json (and rest-json bodies) -----------------------------------------------------------


class JsonReader:
    """Converts decoded JSON to shape-typed values; errors are SerializationExceptions."""

    def __init__(self, parser: RequestParser) -> None:
        self.parser = parser

    def fail(self, where: str, expected: str) -> ServiceError:
        return serialization_error(
            self.parser.service_model,
            f"Unable to deserialize '{where or 'body'}': expected {expected}",
        )

    def structure(self, shape: Any, value: Any, where: str, body_only: bool = True) -> Params:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        out: Params = {}
        for member in members(shape):
            if body_only and member.location is not None:
                continue
            raw = value.get(member.wire)
            if raw is None:
                continue
            out[member.name] = self.value(member.shape, raw, f"{where}.{member.wire}")
        return out

    def value(self, shape: Any, value: Any, where: str) -> Any:
        type_name = shape.type_name
        if type_name == "structure":
            if shape.metadata.get("document"):
                return value
            return self.structure(shape, value, where)
        if type_name == "list":
            if not isinstance(value, list):
                raise self.fail(where, "an array")
            member = shape.member
            return [
                None if item is None else self.value(member, item, f"{where}[{i}]")
                for i, item in enumerate(value)
            ]
        if type_name == "map":
            if not isinstance(value, dict):
                raise self.fail(where, "an object")
            value_shape = shape.value
            return {
                k: None if v is None else self.value(value_shape, v, f"{where}.{k}")
                for k, v in value.items()
            }
        if type_name == "string":
            if not isinstance(value, str):
                raise self.fail(where, "a string")
            return value
        if type_name == "boolean":
            if not isinstance(value, bool):
                raise self.fail(where, "a boolean")
            return value
        if type_name in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    return int(value)
                raise self.fail(where, "an integer")
            return value
        if type_name in ("float", "double"):
            if isinstance(value, str) and value in _SPECIAL_FLOATS:
                return _SPECIAL_FLOATS[value]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(where, "a number")
            return float(value)
        if type_name == "timestamp":
            try:
                return to_datetime(value)
            except ValueError:
                raise self.fail(where, "a timestamp") from None
        if type_name == "blob":
            if not isinstance(value, str):
                raise self.fail(where, "a base64 string")
            try:
                return b64decode(value)
            except ValueError:
                raise self.fail(where, "a base64 string") from None
        return value


def _load_json(parser: RequestParser, body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise serialization_error(parser.service_model, "Request body is not valid JSON") from None


class JsonParser(RequestParser):
    """``json``: ``X-Amz-Target: <targetPrefix>.<Operation>`` and a JSON body."""

    def __init__(self, service_model: Any) -> None:
        super().__init__(service_model)
        self.prefix = str(service_model.metadata.get("targetPrefix", ""))
        self.reader = JsonReader(self)

    def read(self, req: HttpRequest) -> tuple[Any, Params]:
        target = req.header("x-amz-target") or ""
        prefix, _, name = target.rpartition(".")
        if prefix != self.prefix:
            raise unknown_operation(self.service_model, name or None)
        operation = self.operation(name)
        shape = operation.input_shape
        if shape is None:
            return operation, {}
        body = _load_json(self, req.body)
        return operation, self.reader.structure(shape, body, "", body_only=False)


# --- rest-json / rest-xml ------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _split_header_list(text: str) -> list[str]:
    """Comma-separated header list; double-quoted items may contain commas and ``\\"``."""
    items: list[str] = []
    buf: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                buf.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == ",":
            items.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    items.append("".join(buf).strip())
    return items


class XmlReader:
    """Converts an XML element tree to shape-typed values."""

    def __init__(self, parser: RequestParser) -> None:
        self.parser = parser

    def structure(self, shape: Any, elem: ET.Element, where: str) -> Params:
        groups: dict[str, list[ET.Element]] = {}
        for child in elem:
            groups.setdefault(_local(child.tag), []).append(child)
        out: Params = {}
        for member in members(shape):
            if member.location is not None:
                continue
            if member.xml_attribute:
                local = member.wire.split(":")[-1]
                for key, val in elem.attrib.items():
                    if _local(key) == local:
                        out[member.name] = self.parser.scalar_from_text(member.shape, val, where)
                        break
                continue
            found = groups.get(member.wire) or groups.get(member.xml)
            if not found:
                continue
            sub_where = f"{where}.{member.wire}" if where else member.wire
            if member.flattened and member.type_name == "list":
                out[member.name] = [
                    self.value(member.shape.member, item, sub_where) for item in found
                ]
            elif member.flattened and member.type_name == "map":
                out[member.name] = self._entries(member.shape, found, sub_where)
            else:
                out[member.name] = self.value(member.shape, found[0], sub_where)
        return out

    def value(self, shape: Any, elem: ET.Element, where: str) -> Any:
        type_name = shape.type_name
        if type_name == "structure":
            return self.structure(shape, elem, where)
        if type_name == "list":
            return [self.value(shape.member, child, where) for child in elem]
        if type_name == "map":
            return self._entries(shape, list(elem), where)
        return self.parser.scalar_from_text(shape, elem.text or "", where)

    def _entries(self, shape: Any, entries: list[ET.Element], where: str) -> dict[Any, Any]:
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out: dict[Any, Any] = {}
        for entry in entries:
            key_elem = value_elem = None
            for child in entry:
                tag = _local(child.tag)
                if tag == key_name:
                    key_elem = child
                elif tag == value_name:
                    value_elem = child
            if key_elem is None:
                continue
            key = self.value(shape.key, key_elem, where)
            out[key] = None if value_elem is None else self.value(shape.value, value_elem, where)
        return out


def _load_xml(parser: RequestParser, body: bytes) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        raise serialization_error(
            parser.service_model, "The XML you provided was not well-formed"
        ) from None


class RestParser(RequestParser):
    """``rest-json`` and ``rest-xml``: route by method and URI template, then read URI labels,
    query string, headers and the body (a payload member or the remaining members)."""

    def __init__(self, service_model: Any, *, xml: bool) -> None:
        super().__init__(service_model)
        self.xml = xml
        self.router = router_for(service_model)
        self.json_reader = JsonReader(self)
        self.xml_reader = XmlReader(self)

    def read(self, req: HttpRequest) -> tuple[Any, Params]:
        path = path_style(self.service_model, req)
        body = decode_aws_chunked(req.body) if is_aws_chunked(req) else req.body
        found = self.router.match(req.method, path, req.query, req.headers)
        if found is None:
            raise unknown_operation(self.service_model)
        route, labels = found
        operation = route.operation
        shape = operation.input_shape
        if shape is None:
            return operation, {}
        out: Params = {}
        claimed = set(route.static_query_keys)
        query_map: Member | None = None
        has_body_members = False
        for member in members(shape):
            location = member.location
            if location is None:
                has_body_members = True
            elif location == "uri":
                if member.wire in labels:
                    out[member.name] = self.scalar_from_text(
                        member.shape, labels[member.wire], member.wire
                    )
            elif location == "querystring":
                if member.type_name == "map":
                    query_map = member
                    continue
                claimed.add(member.wire)
                values = req.query.get(member.wire)
                if values is None:
                    continue
                if member.type_name == "list":
                    out[member.name] = [
                        self.scalar_from_text(member.shape.member, v, member.wire) for v in values
                    ]
                else:
                    out[member.name] = self.scalar_from_text(member.shape, values[0], member.wire)
            elif location == "header":
                text = req.headers.get(member.wire)
                if text is not None and member.wire.lower() == "content-encoding" \
                        and body is not req.body:
                    text = content_encoding_without_chunked(text)
                if text is not None:
                    out[member.name] = self._header(member, text)
            elif location == "headers":
                prefix = member.wire.lower()
                found_headers = {
                    name[len(prefix) :]: value
                    for name, value in req.headers.items()
                    if name.lower().startswith(prefix)
                }
                if found_headers:
                    out[member.name] = found_headers
        if query_map is not None:
            value_shape = query_map.shape.value
            collected: dict[str, Any] = {}
            for key, values in req.query.items():
                if key in claimed:
                    continue
                if value_shape.type_name == "list":
                    collected[key] = [
                        self.scalar_from_text(value_shape.member, v, key) for v in values
                    ]
                else:
                    collected[key] = self.scalar_from_text(value_shape, values[0], key)
            if collected:
                out[query_map.name] = collected
        payload = shape.serialization.get("payload")
        if payload is not None:
            self._payload(shape.members[payload], payload, body, out)
        elif has_body_members and body.strip():
            if self.xml:
                root = _load_xml(self, body)
                out.update(self.xml_reader.structure(shape, root, ""))
            else:
                out.update(self.json_reader.structure(shape, _load_json(self, body), ""))
        return operation, out

    def _payload(self, shape: Any, name: str, body: bytes, out: Params) -> None:
        if shape.type_name == "blob":
            if body:
                out[name] = body
            return
        if shape.type_name == "string":
            if body:
                out[name] = body.decode("utf-8", errors="replace")
            return
        if not body.strip():
            return
        if self.xml:
            out[name] = self.xml_reader.value(shape, _load_xml(self, body), name)
        else:
            out[name] = self.json_reader.value(shape, _load_json(self, body), name)

    def _header(self, member: Member, text: str) -> Any:
        shape = member.shape
        if shape.type_name == "list":
            return [
                self.scalar_from_text(shape.member, item, member.wire)
                for item in _split_header_list(text)
            ]
        if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
            try:
                return json.loads(b64decode(text))
            except ValueError:
                raise self.bad_value(text, member.wire, "JSON value") from None
        return self.scalar_from_text(shape, text, member.wire)


__all__ = [
    "JsonParser",
    "QueryParser",
    "RequestParser",
    "RestParser",
    "parse_request",
    "parser_for",
]
