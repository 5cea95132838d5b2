"""DescribeListenerAttributes and ModifyListenerAttributes. Which keys a listener has
depends on its protocol: a Network Load Balancer TCP listener (and a Gateway Load Balancer
listener) has the TCP idle timeout; TLS, UDP and TCP_UDP listeners have none (their
timeouts are fixed); Application Load Balancer HTTP and HTTPS listeners have the header
modification keys, HTTPS ones also the names of the mTLS/TLS request headers (ELBv2 API
reference, ListenerAttribute; ALB user guide, "HTTP header modification"; NLB user guide,
"Update the TCP idle timeout").

As for load balancer and target group attributes (attributes.py), only changed values are
stored, on ``Listener.attributes``, and the defaults are merged in on every read. The NLB
proxy (lattice/nlb.py) applies ``tcp.idle_timeout.seconds``; the ALB proxy applies the
response header keys (lattice/alb_headers.py); the mTLS/TLS header names are stored only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.elbv2.common import fail, listener, validation
from localvpc.api.providers.elbv2.views import attributes_view
from localvpc.model.elb import Listener

_IDLE = {"tcp.idle_timeout.seconds": "350"}

# The mTLS/TLS request headers an HTTPS listener adds, and their default names.
_TLS_HEADERS = {
    "x_amzn_mtls_clientcert_serial_number": "X-Amzn-Mtls-Clientcert-Serial-Number",
    "x_amzn_mtls_clientcert_issuer": "X-Amzn-Mtls-Clientcert-Issuer",
    "x_amzn_mtls_clientcert_subject": "X-Amzn-Mtls-Clientcert-Subject",
    "x_amzn_mtls_clientcert_validity": "X-Amzn-Mtls-Clientcert-Validity",
    "x_amzn_mtls_clientcert_leaf": "X-Amzn-Mtls-Clientcert-Leaf",
    "x_amzn_mtls_clientcert": "X-Amzn-Mtls-Clientcert",
    "x_amzn_tls_version": "X-Amzn-Tls-Version",
    "x_amzn_tls_cipher_suite": "X-Amzn-Tls-Cipher-Suite",
}
_HTTPS_ONLY = {f"routing.http.request.{key}.header_name": name
               for key, name in _TLS_HEADERS.items()}

# Response headers the listener adds (empty: none) and the Server header switch.
_RESPONSE = {
    "routing.http.response.server.enabled": "true",
    **{f"routing.http.response.{key}.header_value": "" for key in (
        "strict_transport_security", "access_control_allow_origin",
        "access_control_allow_methods", "access_control_allow_headers",
        "access_control_allow_credentials", "access_control_expose_headers",
        "access_control_max_age", "content_security_policy", "x_content_type_options",
        "x_frame_options")},
}

KNOWN = {**_IDLE, **_HTTPS_ONLY, **_RESPONSE}


def listener_defaults(li: Listener) -> dict[str, str]:
    """The attributes DescribeListenerAttributes lists for ``li``, with their defaults."""
    if li.protocol in ("TCP", "GENEVE"):
        return dict(_IDLE)
    if li.protocol == "HTTPS":
        return {**_HTTPS_ONLY, **_RESPONSE}
    if li.protocol == "HTTP":
        return dict(_RESPONSE)
    return {}


def listener_attributes(li: Listener) -> dict[str, str]:
    """Defaults and stored values, limited to the keys of the listener's current protocol
    (ModifyListener may have changed it since a value was stored)."""
    defaults = listener_defaults(li)
    return {k: li.attributes.get(k, v) for k, v in defaults.items()}


# ------------------------------------------------------------------ value checks
# The value rules of the ALB user guide's "HTTP header modification" page; where it gives
# no precise grammar the checks are ASSUMED (an empty value always means "add no header").
_METHODS = {"GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"}
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,40}$")  # ASSUMED length limit
_ORIGIN = re.compile(r"^https?://[^\s/]+$")
_HSTS_DIRECTIVE = re.compile(r"^(max-age=\d+|includesubdomains|preload)$", re.IGNORECASE)


def _header_list(value: str) -> bool:
    items = [v.strip() for v in value.split(",")]
    return value == "*" or all(_TOKEN.match(v) for v in items)


def _methods(value: str) -> bool:
    return value == "*" or all(v.strip() in _METHODS for v in value.split(","))


def _hsts(value: str) -> bool:
    directives = [d.strip() for d in value.split(";") if d.strip()]
    return (all(_HSTS_DIRECTIVE.match(d) for d in directives)
            and any(d.lower().startswith("max-age=") for d in directives))


def _max_age(value: str) -> bool:
    return value.isdigit() and int(value) <= 86400


def _frame_options(value: str) -> bool:
    return value in ("DENY", "SAMEORIGIN") or (
        value.startswith("ALLOW-FROM ") and bool(value[len("ALLOW-FROM "):].strip()))


def _printable(value: str) -> bool:
    return value.isprintable()


_RESPONSE_CHECKS: dict[str, Callable[[str], bool]] = {
    "strict_transport_security": _hsts,
    "access_control_allow_origin": lambda v: v == "*" or bool(_ORIGIN.match(v)),
    "access_control_allow_methods": _methods,
    "access_control_allow_headers": _header_list,
    "access_control_allow_credentials": lambda v: v == "true",
    "access_control_expose_headers": _header_list,
    "access_control_max_age": _max_age,
    "content_security_policy": _printable,
    "x_content_type_options": lambda v: v == "nosniff",
    "x_frame_options": _frame_options,
}


def _valid(key: str, value: str) -> bool:
    if key == "tcp.idle_timeout.seconds":
        return value.isdigit() and 60 <= int(value) <= 6000
    if key == "routing.http.response.server.enabled":
        return value in ("true", "false")
    if key in _HTTPS_ONLY:
        return bool(_HEADER_NAME.match(value))
    name = key.removeprefix("routing.http.response.").removesuffix(".header_value")
    return value == "" or _RESPONSE_CHECKS[name](value)


def apply(li: Listener, attributes: list[dict[str, str]]) -> dict[str, str]:
    """The stored overrides after ``attributes``; nothing is changed when one is bad.
    A key no listener has: ValidationError (as for load balancer attributes); a key of
    another kind of listener: InvalidConfigurationRequest (the one configuration error
    ModifyListenerAttributes documents); a bad value: ValidationError. The messages are
    ASSUMED (AWS documents the codes only)."""
    allowed = listener_defaults(li)
    out = dict(li.attributes)
    for attribute in attributes:
        key, value = attribute.get("Key", ""), attribute.get("Value", "")
        if key not in KNOWN:
            raise validation(f"Listener attribute key '{key}' is not recognized")
        if key not in allowed:
            raise fail("InvalidConfigurationRequest", f"Listener attribute '{key}' is not "
                       f"supported for {li.protocol} listeners")
        if not _valid(key, value):
            raise validation(f"Listener attribute '{key}' cannot have value '{value}'")
        out[key] = value
    return out


class ListenerAttributeOperations:
    def DescribeListenerAttributes(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        _, li = listener(ctx, params["ListenerArn"])
        return {"Attributes": attributes_view(listener_attributes(li))}

    def ModifyListenerAttributes(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        lb, li = listener(ctx, params["ListenerArn"])
        changed = apply(li, params["Attributes"])
        with ctx.state.write() as w:
            li.attributes = changed
            w.save(lb)  # a listener is saved with its load balancer
        return {"Attributes": attributes_view(listener_attributes(li))}
