"""Two TCP streams joined both ways, bytes untouched: what an NLB TCP listener and a VPC
Lattice TLS_PASSTHROUGH listener do once they have picked a target. One copy of the rules
they share: a side that ends is half-closed on the other side; a reset ends both; an idle
timeout (no byte either way) and an optional limit on the connection's whole life."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

CHUNK = 64 * 1024


@dataclass(slots=True)
class Traffic:
    """What crossed the client's socket (``a``), and when a byte last moved either way
    (the loop's clock): access logs read the counts, the idle timeout the time."""

    received: int = 0  # client -> target
    sent: int = 0  # target -> client
    last: float = 0.0


async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, traffic: Traffic,
                from_client: bool) -> bool:
    """Copy until ``src`` ends; True when ``dst`` could be half-closed after it (TLS
    cannot: then the whole connection must end)."""
    loop = asyncio.get_running_loop()
    while chunk := await src.read(CHUNK):
        traffic.last = loop.time()
        if from_client:
            traffic.received += len(chunk)
        dst.write(chunk)
        await dst.drain()
        if not from_client:
            traffic.sent += len(chunk)
        traffic.last = loop.time()
    if dst.can_write_eof():
        with contextlib.suppress(OSError):
            dst.write_eof()
            return True
    return False


async def splice(a_reader: asyncio.StreamReader, a_writer: asyncio.StreamWriter,
                 b_reader: asyncio.StreamReader, b_writer: asyncio.StreamWriter, *,
                 idle: float, limit: float | None = None,
                 traffic: Traffic | None = None) -> str:
    """Both directions (``a`` is the client) until both ended or one could not be
    half-closed (``closed``), either failed (``reset``), no byte moved for ``idle``
    seconds (``idle``) or the connection lasted ``limit`` seconds (``duration``). The
    caller closes both sockets."""
    loop = asyncio.get_running_loop()
    counts = traffic if traffic is not None else Traffic()
    started = counts.last = loop.time()
    end = started + limit if limit is not None else float("inf")
    pumps = [asyncio.ensure_future(_pump(a_reader, b_writer, counts, True)),
             asyncio.ensure_future(_pump(b_reader, a_writer, counts, False))]
    try:
        pending: set[asyncio.Future[bool]] = set(pumps)
        while pending:
            now = loop.time()
            if now >= end:
                return "duration"
            if now >= counts.last + idle:
                return "idle"
            done, pending = await asyncio.wait(
                pending, timeout=min(end, counts.last + idle) - now,
                return_when=asyncio.FIRST_COMPLETED)
            if any(t.exception() is not None for t in done):
                return "reset"
            if any(t.result() is False for t in done):
                return "closed"  # a side that cannot half-close ends the connection
        return "closed"
    finally:
        for t in pumps:
            t.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
