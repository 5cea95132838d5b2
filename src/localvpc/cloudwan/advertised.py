"""Prefixes learned over BGP, which localvpc has no speaker for: the user states them.

On AWS a Connect peer's appliance and the on-premises routers behind a Direct Connect
gateway's transit virtual interfaces advertise prefixes over BGP, and the core network
propagates them into the attachment's segment (CR-1). localvpc runs no BGP and does not model
Direct Connect gateways, so it never invents such prefixes: a Connect peer or a Direct Connect
gateway attachment advertises exactly the CIDRs of its tag ``localvpc:advertise``
(comma-separated, e.g. ``10.50.0.0/16, 2001:db8:50::/48``), and nothing without the tag. The
tag is a localvpc-only knob; AWS would keep it as an ordinary tag.
"""

from __future__ import annotations

import ipaddress

from localvpc.model.base import IPNetwork

ADVERTISE_TAG = "localvpc:advertise"


class AdvertisedInvalid(ValueError):
    """The tag's value is not a comma-separated list of network CIDRs."""


def parse_advertised(text: str) -> list[IPNetwork]:
    """The CIDRs of a ``localvpc:advertise`` value, in order, without duplicates. An empty
    value advertises nothing. A CIDR with host bits set is refused (a BGP route is a
    network), naming the network it probably meant."""
    out: list[IPNetwork] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        if "/" not in item:
            raise AdvertisedInvalid(f"{ADVERTISE_TAG}: {item!r} is not a CIDR block "
                                    "(expected address/prefix-length, e.g. 10.50.0.0/16)")
        try:
            net = ipaddress.ip_network(item)
        except ValueError:
            try:
                loose = ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise AdvertisedInvalid(f"{ADVERTISE_TAG}: {item!r} is not a valid CIDR "
                                        "block") from None
            raise AdvertisedInvalid(f"{ADVERTISE_TAG}: {item} has host bits set "
                                    f"(did you mean {loose}?)") from None
        if net not in out:
            out.append(net)
    return out


def advertised(tags: dict[str, str]) -> tuple[list[IPNetwork], str | None]:
    """The prefixes ``tags`` advertise and, when the tag cannot be read (a store written
    before the API checked it), why; such a tag advertises nothing."""
    text = tags.get(ADVERTISE_TAG)
    if text is None:
        return [], None
    try:
        return parse_advertised(text), None
    except AdvertisedInvalid as e:
        return [], str(e)
