"""Deterministic, AWS-shaped ids for resources a topology file names but does not number.

The same name in the same scope always gives the same id, so traces are stable between runs and
look like the ids of a real account (``vpc-`` + 17 lowercase hex digits).
"""

from __future__ import annotations

import hashlib
import re

# The id prefix of every resource kind the topology format creates.
ID_PREFIX: dict[str, str] = {
    "vpc": "vpc",
    "subnet": "subnet",
    "route-table": "rtb",
    "internet-gateway": "igw",
    "egress-only-internet-gateway": "eigw",
    "nat-gateway": "nat",
    "network-interface": "eni",
    "instance": "i",
    "security-group": "sg",
    "security-group-rule": "sgr",
    "network-acl": "acl",
    "prefix-list": "pl",
    "peering-connection": "pcx",
    "transit-gateway": "tgw",
    "transit-gateway-attachment": "tgw-attach",
    "transit-gateway-route-table": "tgw-rtb",
    "vpn-gateway": "vgw",
    "customer-gateway": "cgw",
    "vpn-connection": "vpn",
    "carrier-gateway": "cagw",
    "local-gateway": "lgw",
    "local-gateway-route-table": "lgw-rtb",
    "coip-pool": "ipv4pool-coip",
    "vpc-endpoint": "vpce",
    "outpost": "op",
    "elastic-ip": "eipalloc",
    "local-gateway-vif-group": "lgw-vif-grp",
}

# Kinds whose id is an ARN rather than a prefixed id.
ARN_KINDS = ("load-balancer", "target-group")


def digest(*parts: str, length: int = 17) -> str:
    """``length`` lowercase hex digits from a hash of ``parts``."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def make_id(kind: str, *parts: str) -> str:
    """The id of a resource of ``kind`` identified by ``parts`` (scope, name, ...)."""
    prefix = ID_PREFIX[kind]
    return f"{prefix}-{digest(kind, *parts)}"


def id_shape_ok(kind: str, resource_id: str) -> bool:
    """Whether a user-given id looks like an id of ``kind`` (``vpc-`` + letters/digits)."""
    if kind in ARN_KINDS:
        return resource_id.startswith("arn:aws")
    prefix = ID_PREFIX[kind]
    return re.fullmatch(rf"{re.escape(prefix)}-[0-9a-z]+", resource_id) is not None


def elb_arn(account: str, region: str, resource: str, *parts: str) -> str:
    """An Elastic Load Balancing ARN: ``arn:aws:elasticloadbalancing:<region>:<account>:...``."""
    return f"arn:aws:elasticloadbalancing:{region}:{account}:{resource}/{'/'.join(parts)}"


def load_balancer_arn(account: str, region: str, lb_type: str, name: str) -> tuple[str, str]:
    """The ARN of a load balancer and its short form ``app/<name>/<16 hex>`` (``net/`` for NLBs),
    which is also how AWS describes the load balancer's network interfaces."""
    short = "app" if lb_type == "application" else "net" if lb_type == "network" else "gwy"
    suffix = f"{short}/{name}/{digest('load-balancer', account, region, name, length=16)}"
    return elb_arn(account, region, "loadbalancer", suffix), suffix


def target_group_arn(account: str, region: str, name: str) -> str:
    return elb_arn(account, region, "targetgroup", name,
                   digest("target-group", account, region, name, length=16))


def listener_arn(lb_arn: str, port: int) -> str:
    """``...:listener/app/<name>/<lb hex>/<listener hex>`` from the load balancer's ARN."""
    head, _, tail = lb_arn.partition(":loadbalancer/")
    return f"{head}:listener/{tail}/{digest('listener', lb_arn, str(port), length=16)}"


def load_balancer_dns_name(name: str, region: str, scheme: str, account: str) -> str:
    """``<name>-<16 hex>.elb.<region>.amazonaws.com``; internal ones start with ``internal-``."""
    prefix = "internal-" if scheme == "internal" else ""
    return f"{prefix}{name}-{digest('dns', account, region, name, length=16)}" \
        f".elb.{region}.amazonaws.com"


def outpost_arn(account: str, region: str, outpost_id: str) -> str:
    return f"arn:aws:outposts:{region}:{account}:outpost/{outpost_id}"


_DIRECTIONS = {
    "north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}


def region_short(region: str) -> str:
    """``us-east-1`` -> ``use1``, ``ap-southeast-2`` -> ``apse2`` (the zone-id prefix)."""
    parts = region.split("-")
    if len(parts) < 3:
        return region.replace("-", "")
    middle = "".join(_DIRECTIONS.get(p, p[:1]) for p in parts[1:-1])
    return f"{parts[0]}{middle}{parts[-1]}"


def guess_zone_id(region: str, zone_name: str) -> str | None:
    """A plausible zone id for a zone name of ``region`` (AZs: letter order; AZ-4 says the
    name-to-id mapping is per account, so any consistent choice is some account's truth)."""
    short = region_short(region)
    rest = zone_name[len(region):] if zone_name.startswith(region) else None
    if rest is None:
        return None
    if re.fullmatch(r"[a-z]", rest):
        return f"{short}-az{ord(rest) - ord('a') + 1}"
    local = re.fullmatch(r"-([a-z]+)-(\d+)([a-z])", rest)
    if local:
        city, number, letter = local.groups()
        return f"{short}-{city}{number}-az{ord(letter) - ord('a') + 1}"
    wavelength = re.fullmatch(r"-(wl\d+)-([a-z]+)-wlz-(\d+)", rest)
    if wavelength:
        group, city, number = wavelength.groups()
        return f"{short}-{group}-{city}-wlz{number}"
    return None
