"""Amazon VPC Lattice (service ``vpc-lattice``, rest-json): the control plane.

Service networks, services, listeners, rules, target groups and targets, associations, auth
and resource policies, access log subscriptions and tags, kept in ``model/lattice.py`` for the
L7 proxy. Everything belongs to the calling account and Region (no RAM sharing yet).

``clientToken`` makes a Create idempotent: the same token with the same parameters answers
the first result again; with other parameters it is a ``ConflictException`` (lattice.md §1).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.vpc_lattice.common import conflict
from localvpc.api.providers.vpc_lattice.networks import NetworkOperations
from localvpc.api.providers.vpc_lattice.policies import PolicyOperations
from localvpc.api.providers.vpc_lattice.services import ServiceOperations
from localvpc.api.providers.vpc_lattice.targets import TargetGroupOperations
from localvpc.api.registry import Handler, Provider

TOKEN_PREFIX = "vpc-lattice-token/"


class VpcLatticeProvider(Provider, NetworkOperations, ServiceOperations,
                         TargetGroupOperations, PolicyOperations):
    service = "vpc-lattice"

    def handler(self, operation: str) -> Handler | None:
        fn = super().handler(operation)
        if fn is None:
            return None
        inner: Handler = fn

        def idempotent(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
            token = params.get("clientToken")
            if not token:
                return inner(ctx, params)
            key = f"{TOKEN_PREFIX}{ctx.account}/{ctx.region}/{operation}/{token}"
            fingerprint = hashlib.sha256(json.dumps(
                {k: v for k, v in params.items() if k != "clientToken"}, sort_keys=True,
                default=str).encode()).hexdigest()
            earlier = ctx.state.meta(key)
            if earlier is not None:
                if earlier["params"] != fingerprint:
                    raise conflict("The client token was already used with different "
                                   "parameters.", str(token), "CLIENT_TOKEN")
                result: dict[str, Any] = earlier["result"]
                return result
            result = inner(ctx, params)
            with ctx.state.write() as w:
                w.meta[key] = {"params": fingerprint, "result": result}
            return result

        return idempotent
