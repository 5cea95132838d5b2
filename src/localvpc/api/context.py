"""What a provider handler gets besides its parameters: who is calling, where, and the state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localvpc.api.state import ServerState


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One API call: the caller's account and region, its request id, the server state."""

    service: str
    operation: str
    account: str
    region: str
    request_id: str
    state: ServerState
