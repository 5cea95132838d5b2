"""Load balancer and target group attributes: AWS's defaults per kind, and the checks a
ModifyXAttributes call makes. Only changed values are stored; the defaults are merged in on
every read (so an attribute AWS adds later appears on old resources too)."""

from __future__ import annotations

from collections.abc import Callable

from localvpc.api.providers.elbv2.common import fail, validation
from localvpc.model.elb import LoadBalancer, TargetGroup

_ACCESS_LOGS = {"access_logs.s3.enabled": "false", "access_logs.s3.bucket": "",
                "access_logs.s3.prefix": ""}
_COMMON_LB = {"deletion_protection.enabled": "false", **_ACCESS_LOGS}

# The attributes DescribeLoadBalancerAttributes lists, with their defaults (ELB user guides,
# "Load balancer attributes" of each load balancer type).
LB_DEFAULTS: dict[str, dict[str, str]] = {
    "application": {
        **_COMMON_LB,
        "idle_timeout.timeout_seconds": "60",
        "client_keep_alive.seconds": "3600",
        "connection_logs.s3.enabled": "false", "connection_logs.s3.bucket": "",
        "connection_logs.s3.prefix": "",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "routing.http2.enabled": "true",
        "waf.fail_open.enabled": "false",
        "load_balancing.cross_zone.enabled": "true",
    },
    "network": {
        **_COMMON_LB,
        "load_balancing.cross_zone.enabled": "false",
        "dns_record.client_routing_policy": "any_availability_zone",
        "zonal_shift.config.enabled": "false",
    },
    "gateway": {
        "deletion_protection.enabled": "false",
        "load_balancing.cross_zone.enabled": "false",
    },
}

_TG_HTTP = {
    "deregistration_delay.timeout_seconds": "300",
    "stickiness.enabled": "false",
    "stickiness.type": "lb_cookie",
    "stickiness.lb_cookie.duration_seconds": "86400",
    "stickiness.app_cookie.cookie_name": "",
    "stickiness.app_cookie.duration_seconds": "86400",
    "load_balancing.algorithm.type": "round_robin",
    "load_balancing.algorithm.anomaly_mitigation": "off",
    "slow_start.duration_seconds": "0",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}
_TG_NETWORK = {
    "deregistration_delay.timeout_seconds": "300",
    "deregistration_delay.connection_termination.enabled": "false",
    "proxy_protocol_v2.enabled": "false",
    "stickiness.enabled": "false",
    "stickiness.type": "source_ip",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_health_state.unhealthy.connection_termination.enabled": "true",
    "target_health_state.unhealthy.draining_interval_seconds": "0",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}


def tg_defaults(tg: TargetGroup) -> dict[str, str]:
    if tg.target_type == "lambda":
        return {"lambda.multi_value_headers.enabled": "false"}
    if tg.protocol in ("HTTP", "HTTPS"):
        return dict(_TG_HTTP)
    defaults = dict(_TG_NETWORK)
    # Client IP preservation: on for instance targets and for UDP/TCP_UDP, off for TCP/TLS
    # IP targets (NLB user guide, "Client IP preservation").
    keep = tg.target_type == "instance" or tg.protocol in ("UDP", "TCP_UDP")
    defaults["preserve_client_ip.enabled"] = "true" if keep else "false"
    if tg.protocol == "GENEVE":
        defaults["stickiness.type"] = "source_ip_dest_ip_proto"
    return defaults


def lb_attributes(lb: LoadBalancer) -> dict[str, str]:
    return {**LB_DEFAULTS.get(lb.lb_type, {}), **lb.attributes}


def tg_attributes(tg: TargetGroup) -> dict[str, str]:
    return {**tg_defaults(tg), **tg.attributes}


def _boolean(value: str) -> bool:
    return value in ("true", "false")


def _int_range(low: int, high: int) -> Callable[[str], bool]:
    return lambda v: v.isdigit() and low <= int(v) <= high


def _one_of(*choices: str) -> Callable[[str], bool]:
    return lambda v: v in choices


def _any(value: str) -> bool:
    return True


_CHECKS: dict[str, Callable[[str], bool]] = {
    "idle_timeout.timeout_seconds": _int_range(1, 4000),
    "client_keep_alive.seconds": _int_range(60, 604800),
    "routing.http.desync_mitigation_mode": _one_of("monitor", "defensive", "strictest"),
    "routing.http.xff_header_processing.mode": _one_of("append", "preserve", "remove"),
    "dns_record.client_routing_policy": _one_of(
        "availability_zone_affinity", "partial_availability_zone_affinity",
        "any_availability_zone"),
    "deregistration_delay.timeout_seconds": _int_range(0, 3600),
    "stickiness.type": _one_of("lb_cookie", "app_cookie", "source_ip",
                               "source_ip_dest_ip", "source_ip_dest_ip_proto"),
    "stickiness.lb_cookie.duration_seconds": _int_range(1, 604800),
    "stickiness.app_cookie.duration_seconds": _int_range(1, 604800),
    "load_balancing.algorithm.type": _one_of("round_robin", "least_outstanding_requests",
                                             "weighted_random"),
    "load_balancing.algorithm.anomaly_mitigation": _one_of("on", "off"),
    "slow_start.duration_seconds": lambda v: v.isdigit() and (v == "0" or 30 <= int(v) <= 900),
    "target_health_state.unhealthy.draining_interval_seconds": _int_range(0, 360000),
    "access_logs.s3.bucket": _any, "access_logs.s3.prefix": _any,
    "connection_logs.s3.bucket": _any, "connection_logs.s3.prefix": _any,
    "stickiness.app_cookie.cookie_name": _any,
}


def _check(kind: str, key: str, value: str) -> bool:
    if key == "load_balancing.cross_zone.enabled" and kind == "target group":
        return value in ("true", "false", "use_load_balancer_configuration")
    check = _CHECKS.get(key)
    if check is not None:
        return check(value)
    if key.endswith(".enabled"):
        return _boolean(value)
    return True  # counts and percentages of target_group_health.*: kept as given


def apply(kind: str, current: dict[str, str], known: dict[str, str],
          attributes: list[dict[str, str]]) -> dict[str, str]:
    """The stored overrides after ``attributes`` (``kind``: "load balancer" or "target
    group"); unknown keys and bad values are AWS's ValidationError."""
    out = dict(current)
    for attribute in attributes:
        key, value = attribute.get("Key", ""), attribute.get("Value", "")
        if key not in known:
            name = "Load balancer" if kind == "load balancer" else "Target group"
            raise validation(f"{name} attribute key '{key}' is not recognized")
        if not _check(kind, key, value):
            # ASSUMED wording: AWS names the key and the bad value.
            raise validation(f"{kind[0].upper()}{kind[1:]} attribute '{key}' cannot have "
                             f"value '{value}'")
        out[key] = value
    return out


# Stickiness types per target group protocol (ALB and NLB/GWLB user guides, "Sticky sessions").
_STICKINESS_TYPES = {"HTTP": ("lb_cookie", "app_cookie"), "HTTPS": ("lb_cookie", "app_cookie"),
                     "GENEVE": ("source_ip_dest_ip", "source_ip_dest_ip_proto")}
# Prefixes the load balancer keeps for its own cookies (ALB user guide, "Sticky sessions").
_RESERVED_COOKIES = ("AWSALB", "AWSALBAPP", "AWSALBTG")
# RFC 6265 cookie-name: an RFC 7230 token.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def check_stickiness(tg: TargetGroup, merged: dict[str, str]) -> None:
    """The stickiness attributes taken together, as ModifyTargetGroupAttributes checks them
    once every key is known good on its own (``merged``: defaults, stored and new values)."""
    kind = merged.get("stickiness.type")
    if kind is None:
        return  # Lambda target groups have no stickiness
    allowed = _STICKINESS_TYPES.get(tg.protocol, ("source_ip",))
    if kind not in allowed:
        raise fail("InvalidConfigurationRequest", f"Stickiness type '{kind}' is not supported "
                   f"for target groups with the {tg.protocol} protocol")
    name = merged.get("stickiness.app_cookie.cookie_name", "")
    if name:
        # ASSUMED wording for these two (AWS documents the rules, not the messages).
        if name.startswith(_RESERVED_COOKIES):
            raise validation(f"Application cookie name '{name}' cannot start with "
                             "'AWSALB', 'AWSALBAPP' or 'AWSALBTG'; those names are reserved "
                             "for the load balancer")
        if not set(name) <= _TOKEN:
            raise validation(f"Application cookie name '{name}' is not a valid cookie name")
    if kind == "app_cookie" and merged.get("stickiness.enabled") == "true" and not name:
        raise fail("InvalidConfigurationRequest", "You must set an application cookie name "
                   "to enable stickiness of type 'app_cookie'")


# Target group protocols that can carry a PROXY protocol v2 header: the TCP stream kinds of
# a Network Load Balancer (the attribute is "supported only by Network Load Balancers";
# UDP has no stream to put a header in front of, GENEVE groups belong to Gateway Load
# Balancers).
_PROXY_PROTOCOLS = ("TCP", "TLS")


def check_proxy_protocol(tg: TargetGroup, merged: dict[str, str]) -> None:
    """``proxy_protocol_v2.enabled`` may be turned on only for TCP and TLS target groups
    (ASSUMED code and wording: AWS documents the rule, not the error)."""
    if merged.get("proxy_protocol_v2.enabled") == "true" and tg.protocol not in _PROXY_PROTOCOLS:
        raise fail("InvalidConfigurationRequest", f"Proxy protocol version 2 is not supported "
                   f"for target groups with the {tg.protocol} protocol")
