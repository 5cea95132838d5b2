"""Response and error serialisers: one per protocol family, all walking the output shape.

Only members present (and not ``None``) in the handler's result are written. XML is built as
text by one generic walker (element names from ``locationName``, lists wrapped with ``item``
on EC2 and ``member`` elsewhere unless the model names them, maps as ``entry``/``key``/
``value``); JSON by another. Timestamps follow the member's ``timestampFormat`` or the
protocol's default (ISO 8601 with milliseconds in XML, epoch seconds in JSON bodies, RFC 822
in headers).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from typing import Any

from localvpc.api.protocols.request import HttpResponse, ServiceError
from localvpc.api.protocols.shapes import (
    Member,
    b64encode,
    body_members,
    format_timestamp,
    members,
    protocol_of,
)

_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#9;",
    }
)


def serialize_response(
    operation_model: Any, result: Mapping[str, Any] | None, request_id: str
) -> HttpResponse:
    """The HTTP answer for a handler's ``result`` (a dict shaped like the output shape)."""
    service_model = operation_model.service_model
    protocol = protocol_of(service_model)
    data: Mapping[str, Any] = result or {}
    if protocol == "ec2":
        return _ec2_response(operation_model, data, request_id)
    if protocol == "query":
        return _query_response(operation_model, data, request_id)
    if protocol == "json":
        return _json_response(operation_model, data, request_id)
    if protocol in ("rest-json", "rest-xml"):
        return _rest_response(operation_model, data, request_id, xml=protocol == "rest-xml")
    raise ValueError(f"unsupported protocol {protocol!r}")


def serialize_error(service_model: Any, error: ServiceError, request_id: str) -> HttpResponse:
    """The protocol's error answer. A modeled error with the same code lends its HTTP status
    and lets ``error.fields`` fill its extra members."""
    protocol = protocol_of(service_model)
    shape = error_shapes(service_model).get(error.code)
    status = error.status
    if status is None:
        status = 400
        if shape is not None:
            status = int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    if protocol == "ec2":
        body = (
            f"{_XML_DECL}<Response><Errors><Error><Code>{_esc(error.code)}</Code>"
            f"<Message>{_esc(error.message)}</Message></Error></Errors>"
            f"<RequestID>{_esc(request_id)}</RequestID></Response>"
        )
        return _xml_http(status, body, request_id)
    if protocol == "query" or (protocol == "rest-xml" and not _s3_style(service_model)):
        kind = "Sender" if error.sender_fault else "Receiver"
        extra = _xml_error_fields(shape, error, False)
        body = (
            f'{_XML_DECL}<ErrorResponse xmlns="{_esc_attr(xml_namespace(service_model))}">'
            f"<Error><Type>{kind}</Type><Code>{_esc(error.code)}</Code>"
            f"<Message>{_esc(error.message)}</Message>{extra}</Error>"
            f"<RequestId>{_esc(request_id)}</RequestId></ErrorResponse>"
        )
        return _xml_http(status, body, request_id)
    if protocol == "rest-xml":
        extra = _xml_error_fields(shape, error, False)
        body = (
            f"{_XML_DECL}<Error><Code>{_esc(error.code)}</Code>"
            f"<Message>{_esc(error.message)}</Message>{extra}"
            f"<RequestId>{_esc(request_id)}</RequestId></Error>"
        )
        return _xml_http(status, body, request_id)
    headers = {"x-amzn-RequestId": request_id}
    payload: dict[str, Any] = {}
    if shape is not None and error.fields:
        payload.update(_json_struct(shape, error.fields, headers_out=headers))
    payload["message"] = error.message
    headers["x-amzn-ErrorType"] = error.code
    if protocol == "json":
        payload["__type"] = error.code
        headers["Content-Type"] = f"application/x-amz-json-{json_version(service_model)}"
        if service_model.metadata.get("awsQueryCompatible") is not None:
            kind = "Sender" if error.sender_fault else "Receiver"
            headers["x-amzn-query-error"] = f"{error.code};{kind}"
    else:
        headers["Content-Type"] = "application/json"
    return HttpResponse(status, headers, _dumps(payload))


# --- model facts --------------------------------------------------------------------------


@functools.cache
def error_shapes(service_model: Any) -> dict[str, Any]:
    """Modeled errors by wire code and by shape name."""
    out: dict[str, Any] = {}
    for shape in service_model.error_shapes:
        out.setdefault(shape.name, shape)
        code = shape.metadata.get("error", {}).get("code")
        if code:
            out[code] = shape
    return out


@functools.cache
def xml_namespace(service_model: Any) -> str:
    metadata = service_model.metadata
    namespace = metadata.get("xmlNamespace")
    if isinstance(namespace, dict):
        namespace = namespace.get("uri")
    if namespace:
        # AWS answers with the trailing slash even where the model omits it (EC2).
        return str(namespace) if str(namespace).endswith("/") else f"{namespace}/"
    for name in service_model.operation_names:
        # rest-xml models put the namespace on request shapes (Route 53, S3).
        shape = service_model.operation_model(name).input_shape
        found = shape.serialization.get("xmlNamespace") if shape is not None else None
        if isinstance(found, dict) and found.get("uri"):
            return str(found["uri"])
    prefix = metadata["endpointPrefix"]
    return f"https://{prefix}.amazonaws.com/doc/{metadata['apiVersion']}/"


def json_version(service_model: Any) -> str:
    return str(service_model.metadata.get("jsonVersion", "1.0"))


def _s3_style(service_model: Any) -> bool:
    return bool(service_model.metadata.get("endpointPrefix") == "s3")


# --- XML ----------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return text.translate(_ESCAPES)


def _esc_attr(text: str) -> str:
    return text.translate(_ATTR_ESCAPES)


def _xml_http(status: int, body: str, request_id: str) -> HttpResponse:
    headers = {
        "Content-Type": "text/xml;charset=UTF-8",
        "x-amzn-RequestId": request_id,
        "x-amz-request-id": request_id,
    }
    return HttpResponse(status, headers, body.encode("utf-8"))


def _xml_scalar(shape: Any, value: Any) -> str:
    type_name = shape.type_name
    if type_name == "string":
        return _esc(str(value))
    if type_name == "boolean":
        return "true" if value else "false"
    if type_name in ("integer", "long"):
        return str(int(value))
    if type_name in ("float", "double"):
        return _float_text(float(value))
    if type_name == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "iso8601")
        return _esc(str(format_timestamp(value, fmt)))
    if type_name == "blob":
        return b64encode(value)
    return _esc(str(value))


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


class _XmlWriter:
    __slots__ = ("ec2", "out")

    def __init__(self, ec2: bool) -> None:
        self.ec2 = ec2
        self.out: list[str] = []

    def members(self, shape: Any, value: Mapping[str, Any]) -> None:
        """The body member elements of a structure (without its own tag)."""
        out = self.out
        for member in body_members(shape)[0]:
            sub = value.get(member.name)
            if sub is None:
                continue
            if member.type_name == "string":
                out.append(f"<{member.wire}>{str(sub).translate(_ESCAPES)}</{member.wire}>")
            else:
                self.member(member, sub)

    def attributes(self, shape: Any, value: Mapping[str, Any]) -> str:
        attrs = body_members(shape)[1]
        if not attrs:
            return ""
        parts = []
        for member in attrs:
            sub = value.get(member.name)
            if sub is not None:
                parts.append(f' {member.wire}="{_esc_attr(str(sub))}"')
                if member.wire.startswith("xsi:"):
                    parts.append(' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
        return "".join(parts)

    def member(self, member: Member, value: Any) -> None:
        if member.flattened and member.type_name == "list":
            item_shape = member.shape.member
            for item in value:
                if item is not None:
                    self.element(item_shape, item, member.xml)
        elif member.flattened and member.type_name == "map":
            self.entries(member.shape, value, member.wire)
        else:
            self.element(member.shape, value, member.wire)

    def element(self, shape: Any, value: Any, tag: str) -> None:
        out = self.out
        type_name = shape.type_name
        if type_name == "structure":
            out.append(f"<{tag}{self.attributes(shape, value)}>")
            self.members(shape, value)
            out.append(f"</{tag}>")
        elif type_name == "list":
            item_shape = shape.member
            item_tag = item_shape.serialization.get("name") or ("item" if self.ec2 else "member")
            out.append(f"<{tag}>")
            for item in value:
                if item is not None:
                    self.element(item_shape, item, item_tag)
            out.append(f"</{tag}>")
        elif type_name == "map":
            out.append(f"<{tag}>")
            self.entries(shape, value, "entry")
            out.append(f"</{tag}>")
        else:
            out.append(f"<{tag}>{_xml_scalar(shape, value)}</{tag}>")

    def entries(self, shape: Any, value: Mapping[Any, Any], entry_tag: str) -> None:
        key_shape = shape.key
        value_shape = shape.value
        key_tag = key_shape.serialization.get("name", "key")
        value_tag = value_shape.serialization.get("name", "value")
        for key, item in value.items():
            self.out.append(f"<{entry_tag}>")
            self.element(key_shape, key, key_tag)
            if item is not None:
                self.element(value_shape, item, value_tag)
            self.out.append(f"</{entry_tag}>")

    def text(self) -> str:
        return "".join(self.out)


def _xml_error_fields(shape: Any, error: ServiceError, ec2: bool) -> str:
    if shape is None or not error.fields:
        return ""
    writer = _XmlWriter(ec2)
    reserved = ("message", "Message", "Code", "Type")
    fields = {k: v for k, v in error.fields.items() if k not in reserved}
    writer.members(shape, fields)
    return writer.text()


def _ec2_response(operation: Any, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    name = f"{operation.name}Response"
    namespace = xml_namespace(operation.service_model)
    writer = _XmlWriter(ec2=True)
    writer.out.append(f'{_XML_DECL}<{name} xmlns="{_esc_attr(namespace)}">')
    writer.out.append(f"<requestId>{_esc(request_id)}</requestId>")
    shape = operation.output_shape
    if shape is not None:
        writer.members(shape, result)
    writer.out.append(f"</{name}>")
    return _xml_http(200, writer.text(), request_id)


def _query_response(operation: Any, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    name = f"{operation.name}Response"
    namespace = xml_namespace(operation.service_model)
    writer = _XmlWriter(ec2=False)
    writer.out.append(f'{_XML_DECL}<{name} xmlns="{_esc_attr(namespace)}">')
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper") or f"{operation.name}Result"
        writer.out.append(f"<{wrapper}>")
        writer.members(shape, result)
        writer.out.append(f"</{wrapper}>")
    writer.out.append(
        f"<ResponseMetadata><RequestId>{_esc(request_id)}</RequestId></ResponseMetadata></{name}>"
    )
    return _xml_http(200, writer.text(), request_id)


# --- JSON ---------------------------------------------------------------------------------


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _json_struct(
    shape: Any,
    value: Mapping[str, Any],
    headers_out: dict[str, str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for member in members(shape):
        sub = value.get(member.name)
        if sub is None:
            continue
        if member.location is not None:
            if headers_out is not None:
                _put_header(headers_out, member, sub)
            continue
        out[member.wire] = _json_value(member.shape, sub)
    return out


def _json_value(shape: Any, value: Any) -> Any:
    type_name = shape.type_name
    if type_name == "structure":
        if shape.metadata.get("document"):
            return value
        return _json_struct(shape, value)
    if type_name == "list":
        member = shape.member
        return [None if item is None else _json_value(member, item) for item in value]
    if type_name == "map":
        value_shape = shape.value
        return {
            str(k): None if v is None else _json_value(value_shape, v) for k, v in value.items()
        }
    if type_name == "string":
        return str(value)
    if type_name == "boolean":
        return bool(value)
    if type_name in ("integer", "long"):
        return int(value)
    if type_name in ("float", "double"):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return _float_text(number)
        return number
    if type_name == "timestamp":
        return format_timestamp(value, shape.serialization.get("timestampFormat", "unixTimestamp"))
    if type_name == "blob":
        return b64encode(value)
    return value


def _json_response(operation: Any, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    shape = operation.output_shape
    body = _json_struct(shape, result) if shape is not None else {}
    headers = {
        "Content-Type": f"application/x-amz-json-{json_version(operation.service_model)}",
        "x-amzn-RequestId": request_id,
    }
    return HttpResponse(200, headers, _dumps(body))


# --- REST ---------------------------------------------------------------------------------


def _header_text(shape: Any, value: Any) -> str:
    type_name = shape.type_name
    if type_name == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", "rfc822")))
    if type_name == "list":
        return ",".join(_header_list_item(shape.member, item) for item in value if item is not None)
    if type_name == "string" and shape.serialization.get("jsonvalue"):
        return b64encode(json.dumps(value, separators=(",", ":")))
    if type_name == "boolean":
        return "true" if value else "false"
    if type_name in ("float", "double"):
        return _float_text(float(value))
    if type_name == "blob":
        return b64encode(value)
    return str(value)


def _header_list_item(shape: Any, value: Any) -> str:
    text = _header_text(shape, value)
    if shape.type_name == "string" and ("," in text or '"' in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _put_header(headers: dict[str, str], member: Member, value: Any) -> None:
    if member.location == "header":
        if member.type_name == "list" and not value:
            return
        headers[member.wire] = _header_text(member.shape, value)
    elif member.location == "headers":
        for key, item in value.items():
            headers[f"{member.wire}{key}"] = str(item)


def _rest_response(
    operation: Any, result: Mapping[str, Any], request_id: str, *, xml: bool
) -> HttpResponse:
    service_model = operation.service_model
    status = int(operation.http.get("responseCode", 200))
    headers: dict[str, str] = {"x-amzn-RequestId": request_id}
    if xml:
        headers["x-amz-request-id"] = request_id
    shape = operation.output_shape
    if shape is None:
        return HttpResponse(status, headers, b"")
    body_members = False
    for member in members(shape):
        location = member.location
        if location is None:
            body_members = True
            continue
        value = result.get(member.name)
        if value is None:
            continue
        if location == "statusCode":
            status = int(value)
        else:
            _put_header(headers, member, value)
            if member.wire.lower() == "content-range" and status == 200:
                status = 206  # HTTP: a response that carries a byte range is partial content
    payload = shape.serialization.get("payload")
    body = b""
    if payload is not None:
        payload_shape = shape.members[payload]
        value = result.get(payload)
        if value is not None:
            if payload_shape.type_name == "blob":
                body = value if isinstance(value, bytes) else bytes(value)
                headers.setdefault("Content-Type", "application/octet-stream")
            elif payload_shape.type_name == "string":
                body = str(value).encode("utf-8")
                headers.setdefault("Content-Type", "text/plain")
            elif xml:
                tag = payload_shape.serialization.get("name") or payload
                writer = _XmlWriter(ec2=False)
                writer.out.append(_XML_DECL)
                writer.element(payload_shape, value, tag)
                body = _with_namespace(writer.text(), tag, payload_shape, service_model)
                headers["Content-Type"] = "application/xml"
            else:
                body = _dumps(_json_value(payload_shape, value))
                headers["Content-Type"] = "application/json"
    elif body_members:
        if xml:
            tag = shape.serialization.get("name") or shape.name
            writer = _XmlWriter(ec2=False)
            writer.out.append(f"{_XML_DECL}<{tag}{writer.attributes(shape, result)}>")
            writer.members(shape, result)
            writer.out.append(f"</{tag}>")
            body = _with_namespace(writer.text(), tag, shape, service_model)
            headers["Content-Type"] = "application/xml"
        else:
            body = _dumps(_json_struct(shape, result))
            headers["Content-Type"] = "application/json"
    return HttpResponse(status, headers, body)


def _with_namespace(text: str, tag: str, shape: Any, service_model: Any) -> bytes:
    """Give the root element its ``xmlns`` (from the shape, else the service's)."""
    namespace = shape.serialization.get("xmlNamespace")
    if isinstance(namespace, dict):
        namespace = namespace.get("uri")
    uri = str(namespace or xml_namespace(service_model))
    opening = f"<{tag}"
    start = text.index(opening, len(_XML_DECL))
    insert_at = start + len(opening)
    return (text[:insert_at] + f' xmlns="{_esc_attr(uri)}"' + text[insert_at:]).encode("utf-8")
