"""The HTTP face: one ASGI app on one port for every service, as AWS SDKs address them.

request -> find the service (SigV4 scope, X-Amz-Target, path) -> parse with the protocol's
parser (botocore's model) -> the provider's handler -> serialize the result or the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from localvpc.api.auth import Accounts
from localvpc.api.context import RequestContext
from localvpc.api.protocols.parsers import parse_request
from localvpc.api.protocols.request import (
    Headers,
    HttpRequest,
    HttpResponse,
    ServiceError,
    parse_query,
    unknown_operation,
)
from localvpc.api.protocols.serializers import serialize_error, serialize_response
from localvpc.api.protocols.specs import resolve_service, service_model
from localvpc.api.registry import Handler, Provider, Registry
from localvpc.api.state import ServerState
from localvpc.api.traffic import install_enricher, traffic_route
from localvpc.model.base import DEFAULT_REGION
from localvpc.model.errors import LocalVpcError

if TYPE_CHECKING:
    from localvpc.dns.server import DnsServer
    from localvpc.lattice.server import L7Proxies

log = logging.getLogger("localvpc.api")


class Gateway:
    """Turns HTTP requests into provider calls; independent of the web framework."""

    def __init__(self, state: ServerState, registry: Registry,
                 accounts: Accounts | None = None) -> None:
        self.state = state
        self.registry = registry
        self.accounts = accounts or Accounts()

    def handle(self, req: HttpRequest) -> HttpResponse:
        """Answer one request (parse, run, serialize), in the calling thread."""
        call = self.prepare(req)
        return call if isinstance(call, HttpResponse) else self.run(call)

    def prepare(self, req: HttpRequest) -> Call | HttpResponse:
        """Everything before the state is touched: find the service, check the signature,
        parse the operation. An answer instead when the request fails there."""
        request_id = str(uuid.uuid4())
        form = req.form() if req.method == "POST" or req.query else {}
        resolved = resolve_service(req.method, req.path, req.headers, form.get("Action"),
                                   query=req.query, form_version=form.get("Version"))
        if resolved is None:
            return HttpResponse(400, {"Content-Type": "application/json"},
                                b'{"__type": "UnknownServiceException", "message": '
                                b'"could not tell which AWS service this request is for"}')
        service, region, access_key = resolved.service, resolved.region, resolved.access_key
        model = service_model(service)
        try:
            self.accounts.verify(req, model.protocol)
            provider = self.registry.get(service)
            operation, params = parse_request(model, req)
            handler = provider.handler(operation.name) if provider is not None else None
            if handler is None or provider is None:
                raise unknown_operation(model, operation.name)
            ctx = RequestContext(service, operation.name, self.accounts.account_for(access_key),
                                 region or DEFAULT_REGION, request_id, self.state)
            if params.get("DryRun") is True:
                raise ServiceError("DryRunOperation", "Request would have succeeded, but "
                                   "DryRun flag is set.", status=412)
        except ServiceError as e:
            return serialize_error(model, e, request_id)
        except Exception:
            return self._internal_error(model, service, request_id)
        return Call(model, operation, params, provider, handler, ctx,
                    slow=operation.name in provider.slow_operations)

    def run(self, call: Call) -> HttpResponse:
        """Run a parsed call against the state and serialize its answer or its error."""
        ctx, params, operation = call.ctx, call.params, call.operation
        try:
            # One call at a time sees and changes the model: handlers iterate its dicts and
            # check before they write (a free CIDR, a unique name, the default VPC, a client
            # token), so a concurrent write would break the iteration or the check.
            with self.state.lock:
                call.provider.prepare(ctx)
                token = params.get("ClientToken")
                key = (f"client-token/{ctx.account}/{ctx.region}/{ctx.service}/"
                       f"{operation.name}/{token}")
                if token:
                    earlier = self.state.meta(key)
                    if earlier is not None:  # idempotent retry: the same answer as the first
                        if earlier["params"] != _fingerprint(params):
                            raise ServiceError("IdempotentParameterMismatch", "The client "
                                               "token was already used with different "
                                               "parameters.")
                        return serialize_response(operation, earlier["result"],
                                                  ctx.request_id)
                result = call.handler(ctx, params)
                if token:
                    with self.state.write() as w:
                        w.meta[key] = {"params": _fingerprint(params),
                                       "result": _jsonable(result)}
                return serialize_response(operation, result, ctx.request_id)
        except ServiceError as e:
            return serialize_error(call.model, e, ctx.request_id)
        except Exception:  # the server never dies, and never answers with an HTML 500
            return self._internal_error(call.model, ctx.service, ctx.request_id)

    @staticmethod
    def _internal_error(model: Any, service: str, request_id: str) -> HttpResponse:
        log.exception("internal error in %s", service)
        return serialize_error(model, ServiceError("InternalError", "An internal error "
                                                   "occurred in localvpc.", status=500,
                                                   sender_fault=False), request_id)


@dataclass(slots=True)
class Call:
    """A parsed API call, ready to run against the state."""

    model: Any
    operation: Any
    params: dict[str, Any]
    provider: Provider
    handler: Handler
    ctx: RequestContext
    slow: bool


def _jsonable(value: Any) -> Any:
    """Results may hold datetimes; keep them as ISO text for the token cache."""
    return json.loads(json.dumps(value, default=str))


def _fingerprint(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def create_app(state: ServerState, registry: Registry,
               accounts: Accounts | None = None,
               dns: DnsServer | None = None, proxy: L7Proxies | None = None) -> AwsApp:
    """The ASGI app: AWS requests go straight to the gateway; ``/_localvpc/`` control
    routes (health, reset) go through Starlette."""
    gateway = Gateway(state, registry, accounts)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "services": registry.services(),
                             "generation": state.generation})

    async def reset(_: Request) -> Response:
        await run_in_threadpool(state.reset)
        return JSONResponse({"status": "reset"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        # Shutting down (SIGTERM/SIGINT): Firehose delivers what it still buffers. Here,
        # not after the server returns: uvicorn re-raises the signal once it has stopped.
        await run_in_threadpool(state.close)

    async def dns_table(_: Request) -> Response:
        # The DNS server's listeners (dns/server.py), for ``localvpc dns endpoints``.
        return JSONResponse({"enabled": dns is not None,
                             "endpoints": dns.table() if dns is not None else []})

    async def dns_query(request: Request) -> Response:
        # One query with its explanation, for ``localvpc dns query --endpoint-url``.
        if dns is None:
            return JSONResponse({"error": "DNS is disabled (--no-dns)"}, status_code=404)
        try:
            answer = await run_in_threadpool(dns.query, dict(request.query_params))
        except LocalVpcError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(answer)

    async def traffic(request: Request) -> Response:
        # A traffic spec played on the live network into the flow logs (api/traffic.py).
        return await traffic_route(request, state)

    async def proxy_table(_: Request) -> Response:
        # The VPC Lattice / ALB proxy listeners (lattice/server.py): ``localvpc lattice``.
        if proxy is None:
            return JSONResponse({"enabled": False, "endpoints": []})
        return JSONResponse({"enabled": True, "ca": str(proxy.ca_path),
                             "endpoints": proxy.table(), "workers": proxy.workers_table()})

    async def lattice_targets(request: Request) -> Response:
        # The target address map: GET lists it, PUT {"targets": [{address, to, vpc_id?}]}
        # adds or replaces entries ("to": null removes one).
        if proxy is None:
            return JSONResponse({"error": "the proxies are disabled (--no-proxy)"},
                                status_code=404)
        if request.method == "PUT":
            try:
                body = json.loads(await request.body() or b"{}")
                await run_in_threadpool(proxy.set_targets, body.get("targets") or [])
            except (ValueError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"targets": proxy.target_rows()})

    install_enricher(state)
    control = Starlette(routes=[
        Route("/_localvpc/proxy/endpoints", proxy_table, methods=["GET"]),
        Route("/_localvpc/lattice/targets", lattice_targets, methods=["GET", "PUT"]),
        Route("/_localvpc/health", health, methods=["GET"]),
        Route("/_localvpc/traffic", traffic, methods=["POST"]),
        Route("/_localvpc/reset", reset, methods=["POST"]),
        Route("/_localvpc/dns/endpoints", dns_table, methods=["GET"]),
        Route("/_localvpc/dns/query", dns_query, methods=["GET"]),
    ], lifespan=lifespan)
    return AwsApp(gateway, control)


class AwsApp:
    """A bare ASGI app for the AWS route. Every API call runs under the state's one lock,
    so a web framework's routing, request and response objects only add latency to each
    call: this reads the body, builds an ``HttpRequest`` from the ASGI scope, parses it,
    runs a short call on the event loop when the state is free and any other in a worker
    thread, and sends the answer (decision 0005)."""

    def __init__(self, gateway: Gateway, control: Starlette) -> None:
        self.gateway = gateway
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="localvpc-api")
        self.control = control
        self.state = control.state
        self.state.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_localvpc/"):
            await self.control(scope, receive, send)
            return
        # A large body (an S3 upload) arrives in many pieces: grow one buffer (resized in
        # place) rather than keep the pieces and join them, which held two copies.
        body: bytes = b""
        grown: bytearray | None = None
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            piece: bytes = message.get("body", b"")
            if grown is not None:
                grown += piece
            elif body:
                grown = bytearray(body)
                grown += piece
            else:
                body = piece
            if not message.get("more_body", False):
                break
        if grown is not None:
            body = bytes(grown)
            del grown
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        req = HttpRequest(
            method=scope["method"], path=raw_path.decode("latin-1"),
            query=parse_query(scope["query_string"].decode("latin-1")),
            headers=Headers([(k.decode("latin-1"), v.decode("latin-1"))
                             for k, v in scope["headers"]]),
            body=body)
        del body
        call = self.gateway.prepare(req)
        del req  # parsed: the params hold the payload (an aws-chunked one is decoded anew)
        if isinstance(call, HttpResponse):
            resp = call
        elif not call.slow and self.gateway.state.lock.acquire(blocking=False):
            # The state is free and the call is short: answer on the event loop. Handing a
            # call to a worker thread and back costs more than most calls (0.17 ms against
            # 0.05 ms for a describe, measured) and buys nothing while one lock serializes
            # every call anyway.
            try:
                resp = self.gateway.run(call)
            finally:
                self.gateway.state.lock.release()
        else:  # a long call (an analysis), or the state is busy: wait off the event loop
            resp = await asyncio.get_running_loop().run_in_executor(
                self.pool, self.gateway.run, call)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                   for k, v in resp.headers.items() if k.lower() != "content-length"]
        body = b"" if scope["method"] == "HEAD" else resp.body
        length = str(len(resp.body))
        if scope["method"] == "HEAD":  # HEAD answers with the length a GET would have
            length = next((v for k, v in resp.headers.items()
                           if k.lower() == "content-length"), length)
        headers.append((b"content-length", length.encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def default_registry() -> Registry:
    """Every provider localvpc has."""
    from localvpc.api.providers import all_providers

    registry = Registry()
    for provider in all_providers():
        registry.add(provider)
    return registry
