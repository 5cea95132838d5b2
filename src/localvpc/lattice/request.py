"""The L7 engine's own request and response: plain data, no sockets.

The proxies (``proxy.py``) parse bytes off the wire; routing, auth, Lambda events and access
logs only need what is here, so they stay testable without a listener. Headers are a list of
``(name, value)`` pairs in the client's order and case, because HTTP allows repeats and
SigV4 and Lambda events need every copy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(slots=True)
class Request:
    """One request as the service sees it. ``port`` is the listener port in AWS (443 for the
    seed's HTTPS listener), not the loopback port the proxy happens to listen on; ``host`` is
    the Host header (or HTTP/2 ``:authority``) as sent, port included if the client sent one.
    ``query`` is the raw query string without ``?``."""

    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    host: str = ""
    scheme: str = "http"  # http | https
    port: int = 80
    client_ip: str = "127.0.0.1"
    client_port: int = 0
    client_vpc_id: str | None = None
    tls: bool = False
    version: str = "HTTP/1.1"  # HTTP/1.0 | HTTP/1.1 | HTTP/2.0
    server_ip: str = "127.0.0.1"
    server_port: int = 0
    sni: str | None = None
    tls_version: str | None = None
    tls_cipher: str | None = None
    received: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (names compare ignoring case)."""
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name``, in order."""
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def query_pairs(self, decode: bool = True) -> list[tuple[str, str]]:
        """The query string as ``(key, value)`` pairs; ``decode=False`` keeps the
        percent-encoding (ALB passes query parameters to Lambda undecoded)."""
        if not self.query:
            return []
        if decode:
            return parse_qsl(self.query, keep_blank_values=True)
        out = []
        for part in self.query.split("&"):
            if part:
                k, _, v = part.partition("=")
                out.append((k, v))
        return out

    @property
    def hostname(self) -> str:
        """The Host without its port, lower case (names are case-insensitive)."""
        host = self.host.strip().lower()
        if host.startswith("["):
            return host[1:host.find("]")] if "]" in host else host
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    @property
    def target(self) -> str:
        """Path and query as on the request line."""
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(slots=True)
class Response:
    """What goes back to the client."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)
