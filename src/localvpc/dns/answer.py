"""What the resolver answers: an RCODE, records, and the reasons that decided it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# RCODE names as dig prints them.
NOERROR = "NOERROR"
FORMERR = "FORMERR"
SERVFAIL = "SERVFAIL"
NXDOMAIN = "NXDOMAIN"
REFUSED = "REFUSED"


@dataclass(slots=True)
class Record:
    """One resource record; ``value`` is the rdata in zone-file text (``10.0.0.5``,
    ``www.example.com.``, ``10 mail.example.com.``)."""

    name: str
    type: str
    ttl: int
    value: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "ttl": self.ttl, "value": self.value}

    def text(self) -> str:
        return f"{self.name} {self.ttl} IN {self.type} {self.value}"


@dataclass(slots=True)
class Answer:
    """The resolver's answer to one query. ``why`` lists, in order, what decided it (the
    firewall rule, the resolver rule, the zone, the record's routing policy ...), for people;
    ``dropped`` means the resolver sends nothing back (DNS support off: the client times
    out). ``volatile`` marks an answer the next identical query may not get (a weighted
    pick, a forwarded answer): the server does not cache it."""

    qname: str
    qtype: str
    rcode: str = NOERROR
    records: list[Record] = field(default_factory=list)
    authority: list[Record] = field(default_factory=list)
    why: list[str] = field(default_factory=list)
    authoritative: bool = False
    dropped: bool = False
    volatile: bool = False

    def explain(self, text: str) -> Answer:
        self.why.append(text)
        return self

    def values(self, rtype: str | None = None) -> list[str]:
        """The rdata of the answer records (of one type, or all)."""
        return [r.value for r in self.records if rtype is None or r.type == rtype]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.qname, "type": self.qtype, "rcode": self.rcode,
                "answers": [r.to_json() for r in self.records],
                "authority": [r.to_json() for r in self.authority],
                "why": list(self.why), "dropped": self.dropped}
