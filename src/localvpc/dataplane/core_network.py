"""What the trace engine needs from a Cloud WAN core network, as structural protocols.

The policy engine (``localvpc.cloudwan``) sits above the data plane, so the plane cannot
import it: whoever compiles the plane passes each core network's compiled routing in
(``compile_network(network, core_networks={id: ...})``), and the engine only asks it where a
packet entering from an attachment goes. ``cloudwan.compile.CompiledCoreNetwork`` fits.
"""

from __future__ import annotations

from typing import Protocol

from localvpc.model.base import IPAddress, IPNetwork


class CoreRoute(Protocol):
    """The route a core network edge chose: ``attachment_id`` None is a blackhole."""

    @property
    def destination(self) -> IPNetwork: ...
    @property
    def attachment_id(self) -> str | None: ...
    @property
    def edge_location(self) -> str | None: ...
    @property
    def segment_name(self) -> str: ...


class CoreDecision(Protocol):
    """``action`` forward | drop; a drop has a policy ``reason`` (isolated, not-shared,
    no-route, blackhole, unassociated) and ``message`` says it in words."""

    @property
    def action(self) -> str: ...
    @property
    def route(self) -> CoreRoute | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def segment(self) -> str | None: ...
    @property
    def edge(self) -> str | None: ...


class CoreRouter(Protocol):
    """A core network's routing under its LIVE policy."""

    def forward(self, attachment_id: str, address: IPAddress | str) -> CoreDecision: ...
