"""Plain HTTP request/response values and the AWS-shaped error every layer raises.

The web framework adapts to these; nothing here knows about ASGI. Error codes that depend on
the protocol family (unknown operation, validation, missing parameter) are chosen here so
providers and parsers only say *what* went wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localvpc.api.protocols.shapes import protocol_of


class Headers(MutableMapping[str, str]):
    """Case-insensitive header map that keeps the first spelling of each name."""

    __slots__ = ("_items",)

    def __init__(
        self, initial: Mapping[str, str] | Iterable[tuple[str, str]] | None = None
    ) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        if initial is None:
            return
        pairs = initial.items() if isinstance(initial, Mapping) else initial
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Append a value; repeated headers are joined with ``", "`` as HTTP allows."""
        key = name.lower()
        old = self._items.get(key)
        if old is None:
            self._items[key] = (name, value)
        else:
            self._items[key] = (old[0], f"{old[1]}, {value}")

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        key = name.lower()
        old = self._items.get(key)
        self._items[key] = (old[0] if old else name, value)

    def __delitem__(self, name: str) -> None:
        del self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(slots=True)
class HttpRequest:
    """An HTTP request as the protocol layer sees it.

    ``path`` is the raw, percent-encoded path (ASGI ``raw_path``): REST labels are matched on
    it and decoded one by one, so an encoded ``/`` inside a label survives.
    """

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    _form: dict[str, str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Tolerate a plain header dict and a list of query pairs from hand-built requests.
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)
        if not isinstance(self.query, dict):
            pairs: Iterable[tuple[str, str]] = self.query
            query: dict[str, list[str]] = {}
            for key, value in pairs:
                query.setdefault(key, []).append(value)
            self.query = query

    @classmethod
    def build(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | str | None = b"",
    ) -> HttpRequest:
        """From a method, a path-with-query or full URL, headers and body."""
        if url.startswith("/"):
            # a path, maybe with a query: do not let urlsplit read "//x" as a host
            path, _, query = url.partition("?")
        else:
            parts = urlsplit(url)
            path, query = parts.path, parts.query
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        return cls(
            method=method.upper(),
            path=path or "/",
            query=parse_query(query),
            headers=headers if isinstance(headers, Headers) else Headers(headers),
            body=raw,
        )

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def form(self) -> dict[str, str]:
        """Query-string parameters merged with a form-encoded body (body wins), first value of
        each name. Used by the ``ec2`` and ``query`` protocols and for ``Action`` sniffing."""
        if self._form is None:
            merged = {k: v[0] for k, v in self.query.items() if v}
            if self.body and _is_form(self):
                text = self.body.decode("utf-8", errors="replace")
                for key, values in parse_qs(text, keep_blank_values=True).items():
                    merged[key] = values[0]
            self._form = merged
        return self._form


def _is_form(req: HttpRequest) -> bool:
    ctype = (req.headers.get("content-type") or "").lower()
    if "x-www-form-urlencoded" in ctype:
        return True
    return not ctype and req.method == "POST"


def parse_query(query: str) -> dict[str, list[str]]:
    if not query:
        return {}
    return parse_qs(query, keep_blank_values=True)


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class ServiceError(Exception):
    """An AWS error answer: ``code`` and ``message`` on the wire.

    ``status=None`` means: the HTTP status of the service's modeled error with this code, else
    400. ``fields`` fills extra members of a modeled error shape (e.g. ``resourceId``).
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        sender_fault: bool = True,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields: dict[str, Any] = dict(fields or {})

    @classmethod
    def unknown_operation(cls, service_model: Any, operation: str | None = None) -> ServiceError:
        """Same as the module-level :func:`unknown_operation`."""
        return unknown_operation(service_model, operation)


# --- protocol-dependent error codes -------------------------------------------------------

_UNKNOWN_OPERATION: dict[str, tuple[str, int]] = {
    "ec2": ("InvalidAction", 400),
    "query": ("InvalidAction", 400),
    "json": ("UnknownOperationException", 400),
    "rest-json": ("UnknownOperationException", 404),
    "rest-xml": ("UnknownOperationException", 404),
}

_VALIDATION: dict[str, str] = {
    "ec2": "InvalidParameterValue",
    "query": "ValidationError",
    "json": "ValidationException",
    "rest-json": "ValidationException",
    "rest-xml": "InvalidArgument",
}


def validation_code(service_model: Any) -> str:
    """The code a service answers malformed or out-of-range input with. Protocol default;
    rest-xml services that model ``InvalidInput`` (Route 53, CloudFront) use that."""
    protocol = protocol_of(service_model)
    if protocol == "rest-xml":
        names = {shape.name for shape in service_model.error_shapes}
        if "InvalidInput" in names:
            return "InvalidInput"
    return _VALIDATION.get(protocol, "ValidationException")


def unknown_operation(service_model: Any, operation: str | None = None) -> ServiceError:
    """The protocol's answer to an operation the service does not have."""
    protocol = protocol_of(service_model)
    code, status = _UNKNOWN_OPERATION.get(protocol, ("UnknownOperationException", 400))
    if protocol in ("ec2", "query"):
        message = f"The action {operation} is not valid for this web service."
    elif operation:
        message = f"Unknown operation {operation}"
    else:
        message = "The requested operation is not recognized by the service."
    return ServiceError(code, message, status=status)


def missing_action(service_model: Any) -> ServiceError:
    del service_model
    return ServiceError("MissingAction", "The request must contain the parameter Action")


def validation_error(service_model: Any, message: str) -> ServiceError:
    return ServiceError(validation_code(service_model), message, status=400)


def missing_parameter(service_model: Any, wire_name: str, path: str | None = None) -> ServiceError:
    """A required member is absent: ``MissingParameter`` on EC2, a validation error with
    AWS's "Member must not be null" wording elsewhere."""
    if protocol_of(service_model) == "ec2":
        return ServiceError(
            "MissingParameter", f"The request must contain the parameter {wire_name}", status=400
        )
    where = path or wire_name
    return validation_error(
        service_model,
        f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: "
        "Member must not be null",
    )


def serialization_error(service_model: Any, message: str) -> ServiceError:
    """A body that cannot be read as the protocol's format (bad JSON, bad XML, wrong type)."""
    if protocol_of(service_model) in ("json", "rest-json"):
        return ServiceError("SerializationException", message, status=400)
    return validation_error(service_model, message)
