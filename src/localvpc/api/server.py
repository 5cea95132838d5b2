"""The HTTP face: one ASGI app on one port for every service, as AWS SDKs address them.

request -> find the service (SigV4 scope, X-Amz-Target, path) -> parse with the protocol's
parser (botocore's model) -> the provider's handler -> serialize the result or the error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

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
from localvpc.api.registry import Registry
from localvpc.api.state import ServerState
from localvpc.model.base import DEFAULT_REGION

log = logging.getLogger("localvpc.api")


class Gateway:
    """Turns HTTP requests into provider calls; independent of the web framework."""

    def __init__(self, state: ServerState, registry: Registry,
                 accounts: Accounts | None = None) -> None:
        self.state = state
        self.registry = registry
        self.accounts = accounts or Accounts()

    def handle(self, req: HttpRequest) -> HttpResponse:
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
            if handler is None:
                raise unknown_operation(model, operation.name)
            ctx = RequestContext(service, operation.name, self.accounts.account_for(access_key),
                                 region or DEFAULT_REGION, request_id, self.state)
            if params.get("DryRun") is True:
                raise ServiceError("DryRunOperation", "Request would have succeeded, but "
                                   "DryRun flag is set.", status=412)
            assert provider is not None
            # One call at a time sees and changes the model: handlers iterate its dicts and
            # check before they write (a free CIDR, a unique name, the default VPC, a client
            # token), so a concurrent write would break the iteration or the check.
            with self.state.lock:
                provider.prepare(ctx)
                token = params.get("ClientToken")
                key = f"client-token/{ctx.account}/{ctx.region}/{service}/{operation.name}/{token}"
                if token:
                    earlier = self.state.meta(key)
                    if earlier is not None:  # idempotent retry: the same answer as the first
                        if earlier["params"] != _fingerprint(params):
                            raise ServiceError("IdempotentParameterMismatch", "The client "
                                               "token was already used with different "
                                               "parameters.")
                        return serialize_response(operation, earlier["result"], request_id)
                result = handler(ctx, params)
                if token:
                    with self.state.write() as w:
                        w.meta[key] = {"params": _fingerprint(params),
                                       "result": _jsonable(result)}
                return serialize_response(operation, result, request_id)
        except ServiceError as e:
            return serialize_error(model, e, request_id)
        except Exception:  # the server never dies, and never answers with an HTML 500
            log.exception("internal error in %s", service)
            return serialize_error(model, ServiceError("InternalError", "An internal error "
                                                       "occurred in localvpc.", status=500,
                                                       sender_fault=False), request_id)


def _jsonable(value: Any) -> Any:
    """Results may hold datetimes; keep them as ISO text for the token cache."""
    return json.loads(json.dumps(value, default=str))


def _fingerprint(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def create_app(state: ServerState, registry: Registry,
               accounts: Accounts | None = None) -> Starlette:
    gateway = Gateway(state, registry, accounts)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "services": registry.services(),
                             "generation": state.generation})

    async def reset(_: Request) -> Response:
        await run_in_threadpool(state.reset)
        return JSONResponse({"status": "reset"})

    async def aws(request: Request) -> Response:
        body = await request.body()
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        req = HttpRequest(method=request.method, path=raw_path.decode("latin-1"),
                          query=parse_query(request.url.query),
                          headers=Headers(list(request.headers.items())), body=body)
        resp = await run_in_threadpool(gateway.handle, req)
        return Response(resp.body, status_code=resp.status, headers=resp.headers)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
    routes = [
        Route("/_localvpc/health", health, methods=["GET"]),
        Route("/_localvpc/reset", reset, methods=["POST"]),
        Route("/{path:path}", aws, methods=methods),
    ]
    app = Starlette(routes=routes)
    app.state.gateway = gateway
    return app


def default_registry() -> Registry:
    """Every provider localvpc has."""
    from localvpc.api.providers import all_providers

    registry = Registry()
    for provider in all_providers():
        registry.add(provider)
    return registry
