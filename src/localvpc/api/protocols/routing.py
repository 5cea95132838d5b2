"""Operation routing for REST protocols: ``http.method`` + ``http.requestUri`` templates.

Each template becomes a regex over the raw (percent-encoded) path. ``{Label}`` matches one
path segment, ``{Label+}`` (greedy) matches the rest including ``/``. A query part in the
template (``/{Bucket}?tagging``, ``?list-type=2``) constrains the match: the key must be
present and, when the template gives one, have that value. ``x-id=<Operation>`` is the SDKs'
hint and only must not be contradicted. When several templates match, the most specific wins
(more required query keys, more literal characters, no greedy label).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class Route:
    operation: Any
    method: str
    regex: re.Pattern[str]
    #: regex group name -> URI label name (without ``+``)
    labels: tuple[tuple[str, str], ...]
    #: keys that must be present, with the value they must have (``None``: any)
    required: tuple[tuple[str, str | None], ...]
    #: keys that may be absent but must not carry another value (``x-id``)
    hints: tuple[tuple[str, str], ...]
    #: wire names of required header / query-string members (PutObject vs CopyObject)
    required_headers: tuple[str, ...]
    required_params: tuple[str, ...]
    score: tuple[int, int, int, int]

    @property
    def static_query_keys(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.required) | {k for k, _ in self.hints}


def compile_route(operation: Any) -> Route:
    http = operation.http
    uri: str = http.get("requestUri", "/")
    path_tpl, _, query_tpl = uri.partition("?")
    if len(path_tpl) > 1 and path_tpl.endswith("/"):
        path_tpl = path_tpl[:-1]
    pattern = ["^"]
    labels: list[tuple[str, str]] = []
    literal = 0
    greedy = 0
    pos = 0
    for index, match in enumerate(_LABEL.finditer(path_tpl)):
        text = path_tpl[pos : match.start()]
        literal += len(text)
        pattern.append(re.escape(text))
        name = match.group(1)
        group = f"g{index}"
        if name.endswith("+"):
            greedy = 1
            pattern.append(f"(?P<{group}>.+)")
            name = name[:-1]
        else:
            pattern.append(f"(?P<{group}>[^/]+)")
        labels.append((group, name))
        pos = match.end()
    tail = path_tpl[pos:]
    literal += len(tail)
    pattern.append(re.escape(tail) if tail != "/" else "")
    pattern.append("/?$")
    required: list[tuple[str, str | None]] = []
    hints: list[tuple[str, str]] = []
    for key, value in parse_qsl(query_tpl, keep_blank_values=True):
        if key == "x-id":
            hints.append((key, value))
        else:
            required.append((key, value or None))
    required_headers: list[str] = []
    required_params: list[str] = []
    shape = operation.input_shape
    if shape is not None:
        needed = set(shape.metadata.get("required") or ())
        for name, member in shape.members.items():
            if name not in needed:
                continue
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "header":
                required_headers.append(wire)
            elif location == "querystring":
                required_params.append(wire)
    return Route(
        operation=operation,
        method=str(http.get("method", "POST")).upper(),
        regex=re.compile("".join(pattern)),
        labels=tuple(labels),
        required=tuple(required),
        hints=tuple(hints),
        required_headers=tuple(required_headers),
        required_params=tuple(required_params),
        score=(len(required), literal, -greedy, len(required_headers) + len(required_params)),
    )


class RestRouter:
    """Finds the operation of a REST service model for a method, raw path and query."""

    def __init__(self, service_model: Any) -> None:
        by_method: dict[str, list[Route]] = {}
        for name in service_model.operation_names:
            route = compile_route(service_model.operation_model(name))
            by_method.setdefault(route.method, []).append(route)
        for routes in by_method.values():
            routes.sort(key=lambda r: r.score, reverse=True)
        self._by_method = by_method

    def routes(self, method: str) -> Sequence[Route]:
        return self._by_method.get(method.upper(), ())

    def match(
        self,
        method: str,
        path: str,
        query: Mapping[str, Sequence[str]],
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Route, dict[str, str]] | None:
        """The best route and its decoded URI labels, or ``None``. Among routes with the
        same template, the first whose required header and query members are all present
        wins; failing that, the first that matched (its parser reports what is missing)."""
        fallback: tuple[Route, re.Match[str]] | None = None
        for route in self.routes(method):
            found = route.regex.match(path)
            if found is None or not _query_fits(route, query):
                continue
            if _members_present(route, query, headers):
                return route, _labels(route, found)
            if fallback is None:
                fallback = (route, found)
        if fallback is None:
            return None
        return fallback[0], _labels(fallback[0], fallback[1])


def _labels(route: Route, found: re.Match[str]) -> dict[str, str]:
    return {name: unquote(found.group(group)) for group, name in route.labels}


def _members_present(
    route: Route, query: Mapping[str, Sequence[str]], headers: Mapping[str, str] | None
) -> bool:
    if any(key not in query for key in route.required_params):
        return False
    if route.required_headers:
        if headers is None:
            return False
        return all(name in headers for name in route.required_headers)
    return True


def _query_fits(route: Route, query: Mapping[str, Sequence[str]]) -> bool:
    for key, value in route.required:
        present = query.get(key)
        if present is None or (value is not None and value not in present):
            return False
    for key, value in route.hints:
        present = query.get(key)
        if present is not None and value not in present:
            return False
    return True


@functools.cache
def router_for(service_model: Any) -> RestRouter:
    return RestRouter(service_model)
