"""Where targets really are: VPC addresses mapped to local sockets, and Lambda targets
called in-process.

A target is registered by its VPC address (an IP target) or instance id (its primary
private IPv4 address), but the process that answers listens on this machine. The map
``(VPC, address, port) -> host:port`` is the user's to set (``localvpc lattice targets``),
kept in the server's meta table under ``lattice-targets/`` so it survives restarts; a
loopback address maps to itself. Lambda targets are Python handlers from the Firehose
``LambdaRegistry``, given the event the service sends (Lattice V1/V2, ALB) and their result
mapped back, 502 when they fail (LB-6) as the services answer.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from localvpc.flowlogs.firehose import LambdaContext, LambdaRegistry
from localvpc.lattice.request import Request, Response
from localvpc.lattice.routing import Decision, strip_identity_headers, vpc_arn
from localvpc.model.network import Network

META_PREFIX = "lattice-targets/"
ANY_VPC = "-"


class MetaStore(Protocol):
    """The few meta-table operations the map needs (the server adapts its state with
    ``state_meta``; tests use ``MemoryMeta``)."""

    def items(self, prefix: str) -> dict[str, Any]: ...
    def put(self, key: str, value: Any | None) -> None: ...  # None deletes
    def generation(self) -> int: ...


class MemoryMeta:
    """A meta store in a dict (offline use and tests)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self._gen = 0

    def items(self, prefix: str) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k.startswith(prefix)}

    def put(self, key: str, value: Any | None) -> None:
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value
        self._gen += 1

    def generation(self) -> int:
        return self._gen


class _StateMeta:
    def __init__(self, state: Any) -> None:
        self.state = state

    def items(self, prefix: str) -> dict[str, Any]:
        return dict(self.state.store.meta_items(prefix))

    def put(self, key: str, value: Any | None) -> None:
        with self.state.write() as w:
            w.meta[key] = value

    def generation(self) -> int:
        return int(self.state.meta_generation)


def state_meta(state: Any) -> MetaStore:
    """Adapt the server's ``ServerState`` (duck-typed: lattice/ may not import api/):
    ``store.meta_items``, ``write().meta`` and ``meta_generation``."""
    return _StateMeta(state)


def split_host_port(text: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port); ValueError when malformed."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT (port 1-65535), not {text!r}")
    return host.strip("[]"), int(port)


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def target_address(network: Network, target_id: str) -> str | None:
    """A target's address in its VPC: an IP target's own, an instance's primary private
    IPv4 address; None for anything else (Lambda, ALB, unknown instances)."""
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(target_id))
    inst = network.instances.get(target_id)
    if inst is None or inst.primary_eni_id is None:
        return None
    eni = network.network_interfaces.get(inst.primary_eni_id)
    if eni is None or not eni.private_ips:
        return None
    return str(eni.private_ips[0].address)


class TargetMap:
    """VPC address + port -> local ``(host, port)``. Rows are
    ``{"vpc_id": str | None, "address": "ADDR:PORT", "to": "HOST:PORT" | None}`` (``to``
    None removes); ``vpc_id`` None applies in every VPC. Reads come from a cache reloaded
    when the meta generation changes."""

    def __init__(self, meta: MetaStore | None = None) -> None:
        self.meta = meta or MemoryMeta()
        self._lock = threading.Lock()
        self._gen = -1
        self._entries: dict[tuple[str, str, int], tuple[str, int]] = {}

    @staticmethod
    def _key(vpc_id: str | None, address: str, port: int) -> str:
        return f"{META_PREFIX}{vpc_id or ANY_VPC}/{join_host_port(address, port)}"

    def _load(self) -> dict[tuple[str, str, int], tuple[str, int]]:
        gen = self.meta.generation()
        with self._lock:
            if gen != self._gen:
                entries = {}
                for key, value in self.meta.items(META_PREFIX).items():
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        vpc, _, addr = key[len(META_PREFIX):].partition("/")
                        ip, port = split_host_port(addr)
                        entries[(vpc, ip, port)] = split_host_port(str(value["to"]))
                self._entries, self._gen = entries, gen
            return self._entries

    def set(self, rows: list[dict[str, Any]]) -> None:
        """Add, replace or remove entries; ValueError (nothing written) on a bad row."""
        writes: list[tuple[str, dict[str, Any] | None]] = []
        for row in rows:
            if not isinstance(row, dict) or "address" not in row:
                raise ValueError("each entry needs an 'address' (VPC-ADDR:PORT) and a 'to' "
                                 "(HOST:PORT, or null to remove)")
            ip, port = split_host_port(str(row["address"]))
            try:
                ip = str(ipaddress.ip_address(ip))
            except ValueError:
                raise ValueError(f"{row['address']!r}: the address must be an IP address "
                                 "(an instance is mapped by its private IP)") from None
            to = row.get("to")
            if to is not None:
                host, to_port = split_host_port(str(to))
                to = join_host_port(host, to_port)
            vpc = row.get("vpc_id") or None
            writes.append((self._key(vpc, ip, port),
                           None if to is None else {"to": to, "set": time.time()}))
        for key, value in writes:
            self.meta.put(key, value)

    def rows(self) -> list[dict[str, Any]]:
        """The table, sorted, for printing."""
        return [{"vpc_id": None if vpc == ANY_VPC else vpc,
                 "address": join_host_port(ip, port), "to": join_host_port(host, to_port)}
                for (vpc, ip, port), (host, to_port) in sorted(self._load().items())]

    def lookup(self, vpc_id: str | None, address: str, port: int) -> tuple[str, int] | None:
        """The mapping for this VPC, else the any-VPC one, else identity for loopback."""
        entries = self._load()
        hit = entries.get((vpc_id or ANY_VPC, address, port)) \
            or entries.get((ANY_VPC, address, port))
        if hit is not None:
            return hit
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(address).is_loopback:
                return (address, port)
        return None

    def resolve(self, network: Network, decision: Decision) -> tuple[str, int] | None:
        """Where to connect for a forward decision to an instance or IP target."""
        if decision.target_id is None or decision.target_port is None:
            return None
        address = target_address(network, decision.target_id)
        if address is None:
            return None
        return self.lookup(decision.target_vpc_id, address, decision.target_port)


# ====================================================================== Lambda targets
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def _body_fields(req: Request) -> tuple[str, bool]:
    """LB-4: text bodies as UTF-8, anything else base64."""
    if not req.body:
        return "", False
    ctype = (req.header("content-type") or "").lower()
    if ctype.startswith(TEXT_TYPES) or "+json" in ctype or "+xml" in ctype:
        with contextlib.suppress(UnicodeDecodeError):
            return req.body.decode(), False
    return base64.b64encode(req.body).decode(), True


def _grouped(pairs: list[tuple[str, str]], lower: bool) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k.lower() if lower else k, []).append(v)
    return out


def lattice_event(network: Network, decision: Decision, req: Request,
                  now: float | None = None) -> dict[str, Any]:
    """The event Lattice sends a Lambda target: V1 (LB-2) or V2 (LB-3)."""
    body, is_b64 = _body_fields(req)
    headers = _grouped(_target_headers(req, decision), lower=True)
    query = _grouped(req.query_pairs(), lower=False)
    if (decision.lambda_event or "V1") != "V2":
        return {"raw_path": req.path, "method": req.method,
                "headers": {k: ",".join(v) for k, v in headers.items()},
                "query_string_parameters": {k: v[-1] for k, v in query.items()},
                "body": body, "is_base64_encoded": is_b64}
    svc, sn = decision.service, decision.service_network
    identity: dict[str, str] = {}
    if req.client_vpc_id and svc is not None:
        identity["sourceVpcArn"] = vpc_arn(network, req.client_vpc_id, svc.region)
    caller = decision.caller
    if caller is not None and caller.authenticated:
        identity["type"] = "AWS_IAM"
        identity["principal"] = caller.principal
        if caller.org_id:
            identity["principalOrgID"] = caller.org_id
        if caller.session_name:
            identity["sessionName"] = caller.session_name
    when = time.time() if now is None else now
    return {"version": "2.0", "path": req.path, "method": req.method, "headers": headers,
            "queryStringParameters": query, "body": body, "isBase64Encoded": is_b64,
            "requestContext": {
                "serviceNetworkArn": sn.arn if sn is not None else "",
                "serviceArn": svc.arn if svc is not None else "",
                "targetGroupArn": decision.target_group_arn or "",
                "identity": identity,
                "region": svc.region if svc is not None else "",
                "timeEpoch": str(int(when * 1_000_000))}}


def alb_event(decision: Decision, req: Request) -> dict[str, Any]:
    """The event an ALB sends a Lambda target. Query parameters stay URL-encoded (ALB does
    not decode them); with the group attribute ``lambda.multi_value_headers.enabled`` the
    ``multiValue*`` forms replace the single-value ones (the last value wins there)."""
    body, is_b64 = _body_fields(req)
    headers = _grouped(_target_headers(req, decision), lower=True)
    query = _grouped(req.query_pairs(decode=False), lower=False)
    attrs = getattr(decision.target_group, "attributes", {}) or {}
    event: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": decision.target_group_arn or ""}},
        "httpMethod": req.method, "path": req.path, "body": body, "isBase64Encoded": is_b64}
    if attrs.get("lambda.multi_value_headers.enabled") == "true":
        event["multiValueHeaders"] = headers
        event["multiValueQueryStringParameters"] = query
    else:
        event["headers"] = {k: v[-1] for k, v in headers.items()}
        event["queryStringParameters"] = {k: v[-1] for k, v in query.items()}
    return event


def _target_headers(req: Request, decision: Decision) -> list[tuple[str, str]]:
    """The client's headers as the target sees them: identity copies dropped, the
    service's forward headers set."""
    names = {k.lower() for k, _ in decision.forward_headers}
    kept = [(k, v) for k, v in strip_identity_headers(req.headers) if k.lower() not in names]
    return kept + list(decision.forward_headers)


class LambdaFailure(Exception):
    """The function failed or answered something the service cannot use (-> 502)."""


def lambda_response(result: Any, multi_value: bool = False) -> Response:
    """Map a handler's result (LB-5): ``statusCode`` required (int or numeric string),
    ``headers`` (and ``multiValueHeaders``), ``body`` verbatim or base64-decoded."""
    if isinstance(result, str | bytes):
        with contextlib.suppress(ValueError):
            result = json.loads(result)
    if not isinstance(result, dict):
        raise LambdaFailure("the function's response is not a JSON object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise LambdaFailure("the function's response has no valid statusCode")
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise LambdaFailure("the function's response headers are not an object")
    if multi_value and multi:
        for k, values in multi.items():
            headers += [(str(k), str(v)) for v in (values if isinstance(values, list)
                                                  else [values])]
    else:
        headers += [(str(k), str(v)) for k, v in single.items()]
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError):
            raise LambdaFailure("isBase64Encoded is true but the body is not base64") from None
    else:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return Response(status, headers, data)


def invoke_lambda(registry: LambdaRegistry, network: Network, decision: Decision,
                  req: Request, now: float | None = None,
                  on_error: Callable[[str], None] | None = None) -> Response:
    """Call the handler of ``decision.target_id`` with the service's event and map the
    result; any failure -> 502 with ``x-amzn-errortype`` style reason in the body. Blocking:
    proxies run it in an executor."""
    alb = decision.lambda_event == "ALB"
    try:
        handler = registry.resolve(decision.target_id or "")
        event = alb_event(decision, req) if alb else lattice_event(network, decision, req, now)
        ctx = LambdaContext(LambdaRegistry.function_name(decision.target_id or ""),
                            decision.target_id or "")
        result = handler(event, ctx)
        attrs = getattr(decision.target_group, "attributes", {}) or {}
        return lambda_response(result, alb and attrs.get(
            "lambda.multi_value_headers.enabled") == "true")
    except Exception as exc:  # the function's failure is the client's 502, never ours
        reason = f"{type(exc).__name__}: {exc}"
        if on_error is not None:
            on_error(reason)
        return Response(502, [("content-type", "text/plain; charset=utf-8"),
                              ("x-localvpc-failure", "LambdaError")],
                        f"502 Bad Gateway: the Lambda target failed ({reason})\n".encode())
