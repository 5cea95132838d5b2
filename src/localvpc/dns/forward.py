"""Outbound forwarding: a FORWARD rule's query really goes to its target servers (UDP, TCP
when the answer is truncated), each in turn until one answers (RR-6)."""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rdatatype

from localvpc.model.dns import TargetAddress


@dataclass(slots=True)
class Forwarded:
    """The message a target answered (None when none did) and what happened on the way."""

    message: dns.message.Message | None
    notes: list[str] = field(default_factory=list)


class Forwarder:
    """Sends queries to real DNS servers. ``timeout`` is per target and attempt."""

    def __init__(self, timeout: float = 2.0) -> None:
        self.timeout = timeout

    def forward(self, name: str, qtype: str, targets: list[TargetAddress]) -> Forwarded:
        result = Forwarded(None)
        query = dns.message.make_query(name, dns.rdatatype.from_text(qtype))
        for target in targets:
            where = target.ip or target.ipv6
            if where is None:
                continue
            if target.protocol not in ("Do53", ""):
                # ASSUMED: DoH needs an HTTPS DNS server; the emulator forwards Do53 only.
                result.notes.append(f"{where}:{target.port} uses {target.protocol}, which "
                                    "localvpc does not forward (Do53 only); skipped")
                continue
            try:
                response = dns.query.udp(query, where, port=target.port, timeout=self.timeout)
                if response.flags & dns.flags.TC:
                    response = dns.query.tcp(query, where, port=target.port,
                                             timeout=self.timeout)
            except dns.exception.Timeout:
                result.notes.append(f"{where}:{target.port} did not answer within "
                                    f"{self.timeout:g} s")
                continue
            except (OSError, dns.exception.DNSException) as exc:
                result.notes.append(f"{where}:{target.port} failed: {exc}")
                continue
            result.notes.append(f"forwarded to {where}:{target.port} (Do53)")
            result.message = response
            return result
        return result
