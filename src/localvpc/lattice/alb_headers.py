"""ALB listener header modification (ModifyListenerAttributes) as the proxy applies it.

The attributes are read once per model generation into a ``HeaderPlan`` (``header_plan``),
so a listener that changes nothing costs the request path one dict lookup and no plan at
all. What AWS documents (ALB user guide, "HTTP header modification"; the 2024 launch note):

- ``routing.http.response.<name>.header_value``: when set, the ALB puts the header with that
  value on every response; a target's header of the same name gets the configured value
  instead of its own (the target's copies are replaced, not joined). Empty: no change.
- ``routing.http.response.server.enabled`` = false: the ``Server`` header *the ALB
  generates* (``awselb/2.0`` on its own answers: fixed responses, redirects, errors) is
  left out. A target's own ``Server`` header is the target's and passes unchanged.
- The ``routing.http.request.x_amzn_*.header_name`` keys rename the mTLS/TLS request
  headers; the proxy adds none of those headers, so they have nothing to rename here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SERVER_KEY = "routing.http.response.server.enabled"

#: attribute name part -> the response header it sets (AWS's spelling of the name)
RESPONSE_HEADERS: dict[str, str] = {
    "strict_transport_security": "Strict-Transport-Security",
    "access_control_allow_origin": "Access-Control-Allow-Origin",
    "access_control_allow_methods": "Access-Control-Allow-Methods",
    "access_control_allow_headers": "Access-Control-Allow-Headers",
    "access_control_allow_credentials": "Access-Control-Allow-Credentials",
    "access_control_expose_headers": "Access-Control-Expose-Headers",
    "access_control_max_age": "Access-Control-Max-Age",
    "content_security_policy": "Content-Security-Policy",
    "x_content_type_options": "X-Content-Type-Options",
    "x_frame_options": "X-Frame-Options",
}
_KEYS = tuple((f"routing.http.response.{key}.header_value", name)
              for key, name in RESPONSE_HEADERS.items())


@dataclass(frozen=True, slots=True)
class HeaderPlan:
    """What one listener does to responses: whether its own answers carry ``Server``, and
    the headers it sets on every response (``names``: theirs in lower case)."""

    server: bool
    headers: tuple[tuple[str, str], ...]
    names: frozenset[str]


def header_plan(attributes: Mapping[str, str]) -> HeaderPlan | None:
    """The listener's plan, or None when its attributes change nothing (the common case,
    so the proxy can skip the work with one ``is None`` test)."""
    if not attributes:
        return None
    server = attributes.get(SERVER_KEY, "true") != "false"
    headers = []
    for key, name in _KEYS:
        value = attributes.get(key, "")
        # The API checked the values; a snapshot's may not have been: a value that would
        # break the response head is ignored rather than sent.
        if value and "\r" not in value and "\n" not in value:
            headers.append((name, value))
    if server and not headers:
        return None
    return HeaderPlan(server, tuple(headers), frozenset(n.lower() for n, _ in headers))


def server_header(plan: HeaderPlan | None, default: str | None) -> str | None:
    """The ``Server`` value for the ALB's own answers: ``default`` unless switched off."""
    return None if plan is not None and not plan.server else default


def response_headers(plan: HeaderPlan, headers: Sequence[tuple[str, str]]
                     ) -> list[tuple[str, str]]:
    """``headers`` with the plan's headers set: a same-named header (any case, any number
    of copies) is replaced by the configured value."""
    if not plan.headers:
        return list(headers)
    names = plan.names
    out = [(k, v) for k, v in headers if k.lower() not in names]
    out.extend(plan.headers)
    return out
