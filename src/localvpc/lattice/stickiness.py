"""ALB sticky sessions: the cookies an Application Load Balancer sets to keep a client on one
target (``AWSALB`` + ``AWSALBCORS``, duration-based; ``AWSALBAPP-0``, application-based) or
on one target group of a weighted forward (``AWSALBTG`` + ``AWSALBTGCORS``).

AWS encrypts these cookies with a rotating key, so a client can neither read nor make one.
Ours are sealed with AES-GCM (authenticated encryption, from the ``cryptography`` package the
local CA already uses) under a key drawn when the ALB router is made, i.e. once per
``localvpc serve`` process: a restart rotates the key. A value that does not open under the
key (made up, edited, cut short, from an earlier run) counts as no cookie at all, so the
client is placed afresh and gets a new cookie; the target named inside is never taken on the
client's word. The cookie's name is sealed in as associated data, so an ``AWSALBTG`` value
does not pass for an ``AWSALB`` one.

AWS uses the one name ``AWSALB`` across every target group, so one cookie holds a binding per
target group (per rule for ``AWSALBTG``), each with its own end of stickiness: the configured
duration, counted again from every request (AWS "resets the expiry" after each request). The
cookie's own ``Expires`` is 7 days out whatever the duration, as AWS's generated cookies are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: The generated cookies' own lifetime (not configurable in AWS).
COOKIE_LIFETIME = 7 * 86400
#: Duration-based stickiness: the cookie and its copy for cross-origin requests.
LB_COOKIES = ("AWSALB", "AWSALBCORS")
#: Application-based stickiness (AWS spreads a long value over AWSALBAPP-0..3; ours fits one).
APP_COOKIE = "AWSALBAPP-0"
#: Target group stickiness of a weighted forward action.
TG_COOKIES = ("AWSALBTG", "AWSALBTGCORS")
#: Bindings kept in one cookie (the soonest to end go first), well under 4 KB per cookie.
MAX_BINDINGS = 16
_NONCE = 12


@dataclass(frozen=True, slots=True)
class Binding:
    """A client held to ``to`` (a target id, or a target group's key for ``AWSALBTG``) on
    ``port`` until ``until`` (epoch seconds, to the millisecond)."""

    to: str
    port: int
    until: float


Bindings = dict[str, Binding]


def short_key(name: str) -> str:
    """A short fixed-size key for a target group or rule ARN inside a cookie."""
    return base64.urlsafe_b64encode(hashlib.sha256(name.encode()).digest()[:9]).decode()


def request_cookies(headers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Every ``name=value`` of the request's Cookie headers (HTTP/2 may send several),
    values in order per name."""
    out: dict[str, list[str]] = {}
    for k, v in headers:
        if k.lower() != "cookie":
            continue
        for part in v.split(";"):
            name, eq, value = part.strip().partition("=")
            if eq and name:
                out.setdefault(name, []).append(value.strip().strip('"'))
    return out


def sets_cookie(headers: Iterable[tuple[str, str]], name: str) -> bool:
    """Whether a response sets cookie ``name`` (names are case-sensitive)."""
    for k, v in headers:
        if k.lower() == "set-cookie" and v.partition("=")[0].strip() == name:
            return True
    return False


def set_cookie(name: str, value: str, now: float, cors: bool = False) -> str:
    """A Set-Cookie value as AWS writes its own: ``Expires`` 7 days out, ``Path=/``; the
    CORS copy adds ``SameSite=None; Secure`` (browsers want both for cross-site requests)."""
    out = f"{name}={value}; Expires={formatdate(now + COOKIE_LIFETIME, usegmt=True)}; Path=/"
    return out + "; SameSite=None; Secure" if cors else out


class CookieSeal:
    """Seals and opens binding sets under one key (see the module docstring)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._aead = AESGCM(key if key is not None else AESGCM.generate_key(128))

    def seal(self, family: str, bindings: Bindings) -> str:
        keep = sorted(bindings.items(), key=lambda kv: -kv[1].until)[:MAX_BINDINGS]
        plain = json.dumps({k: [b.to, b.port, round(b.until, 3)] for k, b in keep},
                           separators=(",", ":")).encode()
        nonce = os.urandom(_NONCE)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plain,
                                                           family.encode())).decode()

    def open(self, family: str, value: str, now: float) -> Bindings | None:
        """The bindings still in force, or None when ``value`` is not ours."""
        try:
            raw = base64.b64decode(value, validate=True)
            if len(raw) <= _NONCE:
                return None
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], family.encode())
            data = json.loads(plain)
            return {k: Binding(str(to), int(port), float(until))
                    for k, (to, port, until) in data.items() if until > now}
        except (InvalidTag, binascii.Error, ValueError, TypeError, AttributeError):
            return None

    def read(self, jar: dict[str, list[str]], names: Sequence[str], family: str,
             now: float) -> Bindings:
        """The bindings of the first of ``names`` that opens (every copy is tried); none
        when no cookie does."""
        for name in names:
            for value in jar.get(name, ()):
                got = self.open(family, value, now)
                if got is not None:
                    return got
        return {}

    def cookies(self, names: Sequence[str], family: str, bindings: Bindings,
                now: float) -> list[str]:
        """Set-Cookie values for ``names`` (the second, if any, is the CORS copy)."""
        value = self.seal(family, bindings)
        return [set_cookie(name, value, now, cors=i > 0) for i, name in enumerate(names)]


@dataclass(slots=True)
class StickyCookies:
    """What an ALB adds to its target's answer: ``always`` (duration-based and target group
    cookies), and ``app`` (the ``AWSALBAPP-0`` cookie) when the answer sets the target group's
    application cookie ``app_cookie`` or the client was already held (``app_held``)."""

    always: list[str] = field(default_factory=list)
    app_cookie: str | None = None
    app: list[str] = field(default_factory=list)
    app_held: bool = False

    def headers(self, response_headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """The Set-Cookie headers for an answer with ``response_headers``."""
        out = [("set-cookie", v) for v in self.always]
        if self.app and (self.app_held or (self.app_cookie is not None
                                           and sets_cookie(response_headers,
                                                           self.app_cookie))):
            out += [("set-cookie", v) for v in self.app]
        return out
