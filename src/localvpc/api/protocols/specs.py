"""botocore service models, loaded once, and the mapping from a request to the service it is for.

Signed requests name their service in the SigV4 credential scope
(``Credential=AKID/20240101/us-east-1/ec2/aws4_request``); that is a *signing name*, which is
the model's ``signingName`` or else its ``endpointPrefix`` (``elasticloadbalancing`` is elbv2,
``pricing`` is pricing whose endpoint prefix is ``api.pricing``). JSON-protocol requests also
carry ``X-Amz-Target: <targetPrefix>.<Operation>``. Unsigned requests are resolved best effort
from the target, the host name, the form ``Action`` or a REST path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import botocore.session

from localvpc.api.protocols.request import HttpRequest
from localvpc.api.protocols.routing import router_for
from localvpc.api.protocols.shapes import protocol_of

#: Services the API face serves, by botocore service name.
SUPPORTED_SERVICES: tuple[str, ...] = (
    "ec2",
    "elbv2",
    "pricing",
    "route53",
    "route53resolver",
    "vpc-lattice",
    "networkmanager",
    "logs",
    "firehose",
    "ram",
    "s3",
)

DEFAULT_REGION = "us-east-1"

_CREDENTIAL = re.compile(
    r"Credential=(?P<akid>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request"
)
_REGION_LIKE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


@functools.cache
def _session() -> Any:
    return botocore.session.get_session()


@functools.cache
def load_service_model(name: str) -> Any:
    """The botocore ``ServiceModel`` of ``name`` at the newest API version botocore ships."""
    return _session().get_service_model(name)


#: Alias kept for callers that think of it as a lookup.
service_model = load_service_model


def signing_name(service_model: Any) -> str:
    metadata = service_model.metadata
    return str(metadata.get("signingName") or metadata["endpointPrefix"])


class ServiceTarget(NamedTuple):
    service: str
    region: str
    access_key: str | None


@dataclass(frozen=True, slots=True)
class Credential:
    access_key: str
    region: str
    signing_name: str


def parse_credential(
    headers: Mapping[str, str], query: Mapping[str, Sequence[str]] | None = None
) -> Credential | None:
    """The SigV4 credential scope of a request (``Authorization`` header or presigned
    ``X-Amz-Credential`` query parameter)."""
    auth = _get(headers, "authorization")
    text = None
    if auth and "Credential=" in auth:
        text = auth
    elif query:
        values = query.get("X-Amz-Credential")
        if values:
            text = "Credential=" + values[0]
    if text is None:
        return None
    found = _CREDENTIAL.search(text)
    if found is None:
        return None
    return Credential(found["akid"], found["region"], found["service"])


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, val in headers.items():
        if key.lower() == name:
            return val
    return None


class ServiceIndex:
    """Lookup tables over a set of services, built once from their models."""

    def __init__(self, services: Iterable[str]) -> None:
        self.services = tuple(services)
        self.by_signing: dict[str, list[str]] = {}
        self.by_endpoint: dict[str, list[str]] = {}
        self.by_target: dict[str, str] = {}
        self.by_action: dict[str, list[str]] = {}
        self.rest: list[str] = []
        for name in self.services:
            model = load_service_model(name)
            metadata = model.metadata
            self.by_signing.setdefault(signing_name(model), []).append(name)
            self.by_endpoint.setdefault(str(metadata["endpointPrefix"]), []).append(name)
            protocol = protocol_of(model)
            if "targetPrefix" in metadata:
                self.by_target[str(metadata["targetPrefix"])] = name
            if protocol in ("ec2", "query"):
                for op in model.operation_names:
                    self.by_action.setdefault(op, []).append(name)
            elif protocol in ("rest-json", "rest-xml"):
                self.rest.append(name)
        # S3's ``/{Bucket}`` matches almost any path: try it last.
        self.rest.sort(key=lambda n: n == "s3")

    def from_target(self, target: str | None) -> str | None:
        if not target or "." not in target:
            return None
        return self.by_target.get(target.rsplit(".", 1)[0])

    def from_host(self, host: str | None) -> tuple[str, str | None] | None:
        """Service and region from an AWS-style host name (``ec2.eu-west-1.amazonaws.com``)."""
        if not host:
            return None
        labels = host.split(":", 1)[0].lower().split(".")
        for start in range(len(labels)):
            for prefix, services in self.by_endpoint.items():
                parts = prefix.split(".")
                if labels[start : start + len(parts)] == parts:
                    following = labels[start + len(parts) : start + len(parts) + 1]
                    region = None
                    if following and _REGION_LIKE.match(following[0]):
                        region = following[0]
                    return services[0], region
        return None

    def from_action(self, action: str | None, version: str | None) -> str | None:
        if not action:
            return None
        candidates = self.by_action.get(action)
        if not candidates:
            return None
        return _by_version(candidates, version) or candidates[0]

    def from_path(self, method: str, path: str, query: Mapping[str, Sequence[str]]) -> str | None:
        for name in self.rest:
            if router_for(load_service_model(name)).match(method, path, query) is not None:
                return name
        return None

    def resolve(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body_form_action: str | None = None,
        *,
        query: Mapping[str, Sequence[str]] | None = None,
        form_version: str | None = None,
    ) -> ServiceTarget | None:
        query = query or {}
        credential = parse_credential(headers, query)
        target = self.from_target(_get(headers, "x-amz-target"))
        if credential is not None:
            candidates = self.by_signing.get(credential.signing_name)
            if not candidates:
                return None
            chosen = candidates[0]
            if len(candidates) > 1:
                chosen = (
                    (target if target in candidates else None)
                    or _by_version(candidates, form_version)
                    or _by_action(candidates, body_form_action)
                    or self._by_path(candidates, method, path, query)
                    or candidates[0]
                )
            return ServiceTarget(chosen, credential.region, credential.access_key)
        host = self.from_host(_get(headers, "host"))
        region = (host[1] if host else None) or DEFAULT_REGION
        service: str | None = target or self.from_action(body_form_action, form_version)
        if service is None and host is not None:
            service = host[0]
        if service is None:
            service = self.from_path(method, path, query)
        if service is None:
            return None
        return ServiceTarget(service, region, None)

    def _by_path(
        self,
        candidates: Sequence[str],
        method: str,
        path: str,
        query: Mapping[str, Sequence[str]],
    ) -> str | None:
        for name in candidates:
            model = load_service_model(name)
            if protocol_of(model) in ("rest-json", "rest-xml") and router_for(model).match(
                method, path, query
            ):
                return name
        return None


def _by_version(candidates: Sequence[str], version: str | None) -> str | None:
    if not version:
        return None
    for name in candidates:
        if load_service_model(name).api_version == version:
            return name
    return None


def _by_action(candidates: Sequence[str], action: str | None) -> str | None:
    if not action:
        return None
    for name in candidates:
        if action in load_service_model(name).operation_names:
            return name
    return None


@functools.cache
def service_index(services: tuple[str, ...] = SUPPORTED_SERVICES) -> ServiceIndex:
    return ServiceIndex(services)


def resolve_service(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body_form_action: str | None = None,
    *,
    query: Mapping[str, Sequence[str]] | None = None,
    form_version: str | None = None,
    services: tuple[str, ...] = SUPPORTED_SERVICES,
) -> ServiceTarget | None:
    """``(service, region, access_key)`` for a request, or ``None`` when no supported service
    fits. ``access_key`` is ``None`` for unsigned requests; their region comes from the host
    name, else :data:`DEFAULT_REGION`."""
    return service_index(services).resolve(
        method,
        path,
        headers,
        body_form_action,
        query=query,
        form_version=form_version,
    )


def resolve_request(
    req: HttpRequest, services: tuple[str, ...] = SUPPORTED_SERVICES
) -> ServiceTarget | None:
    """:func:`resolve_service` for an :class:`HttpRequest` (reads its form ``Action`` and
    ``Version`` and its query string)."""
    form = req.form()
    return resolve_service(
        req.method,
        req.path,
        req.headers,
        form.get("Action"),
        query=req.query,
        form_version=form.get("Version"),
        services=services,
    )
