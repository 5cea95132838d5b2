"""The core networks as they run: each one's LIVE policy compiled with its attachments.

This is what the data plane forwards with (``compile_network(..., core_networks=...)``) and
what ``GetNetworkRoutes`` reads; a core network without a LIVE version, or whose LIVE
document no longer parses, routes nothing and is left out.
"""

from __future__ import annotations

from collections import defaultdict

from localvpc.cloudwan.compile import CompiledCoreNetwork, compile_core_network
from localvpc.cloudwan.policy import PolicyInvalid, parse_policy
from localvpc.model.cloudwan import CoreNetwork, CoreNetworkAttachment
from localvpc.model.network import Network


def compile_live(network: Network) -> dict[str, CompiledCoreNetwork]:
    """``{core network id: compiled LIVE policy}`` over every core network of ``network``."""
    by_core: dict[str, list[CoreNetworkAttachment]] = defaultdict(list)
    for att in network.core_network_attachments.values():
        by_core[att.core_network_id].append(att)
    out: dict[str, CompiledCoreNetwork] = {}
    for core in network.core_networks.values():
        compiled = compile_one(core, by_core.get(core.id, []), network)
        if compiled is not None:
            out[core.id] = compiled
    return out


def compile_one(core: CoreNetwork, attachments: list[CoreNetworkAttachment],
                network: Network) -> CompiledCoreNetwork | None:
    live = core.live
    if live is None:
        return None
    try:
        policy = parse_policy(live.document)
    except PolicyInvalid:
        return None
    return compile_core_network(policy, attachments, network)
