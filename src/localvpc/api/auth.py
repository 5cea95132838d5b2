"""Who is calling: access key -> account, and (in strict mode) SigV4 signature checks.

Open mode (the default) maps known access keys to their account and everything else to the
default account, like a local emulator should. Strict mode recomputes the SigV4 signature
with botocore's signer and the key's secret, and answers AWS's errors when it is missing,
unknown, expired or wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localvpc.api.protocols.request import HttpRequest, ServiceError
from localvpc.model.base import DEFAULT_ACCOUNT

_AUTH = re.compile(r"AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*"
                   r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<sig>[0-9a-f]+)")
MAX_SKEW = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Key:
    account: str
    secret: str | None = None


@dataclass
class Accounts:
    """Access keys and their accounts; ``strict`` turns on signature verification."""

    keys: dict[str, Key] = field(default_factory=dict)
    strict: bool = False

    @classmethod
    def load(cls, path: str | Path | None, strict: bool = False) -> Accounts:
        """A JSON file ``{"AKID...": {"account": "111122223333", "secret": "..."}}``."""
        if path is None:
            return cls(strict=strict)
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read accounts file {path}: {e}") from None
        keys = {k: Key(str(v["account"]), v.get("secret")) for k, v in doc.items()}
        return cls(keys, strict)

    def account_for(self, access_key: str | None) -> str:
        if access_key and access_key in self.keys:
            return self.keys[access_key].account
        if access_key and access_key.isdigit() and len(access_key) == 12:
            return access_key  # a 12-digit key names the account itself (handy in tests)
        return DEFAULT_ACCOUNT

    def verify(self, req: HttpRequest, service_protocol: str) -> None:
        """Raise AWS's error unless the request carries a valid SigV4 signature."""
        if not self.strict:
            return
        ec2 = service_protocol == "ec2"
        header = req.header("authorization") or ""
        m = _AUTH.match(header)
        if m is None:
            raise ServiceError("AuthFailure" if ec2 else "MissingAuthenticationTokenException",
                               "Request is missing Authentication Token", status=401 if ec2
                               else 403)
        access_key, _date, region, service, _ = (m["cred"].split("/") + [""] * 5)[:5]
        key = self.keys.get(access_key)
        if key is None or key.secret is None:
            raise ServiceError("AuthFailure" if ec2 else "UnrecognizedClientException",
                               "The security token included in the request is invalid.",
                               status=401 if ec2 else 403)
        stamp = req.header("x-amz-date") or ""
        try:
            when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise ServiceError("IncompleteSignature" if not ec2 else "AuthFailure",
                               "X-Amz-Date is missing or malformed", status=400) from None
        if abs(dt.datetime.now(dt.UTC) - when) > MAX_SKEW:
            raise ServiceError("RequestExpired", "Request has expired.", status=400)
        expected = _signature(req, m["signed"].split(";"), key.secret, access_key, region,
                              service, stamp)
        if expected != m["sig"]:
            raise ServiceError("AuthFailure" if ec2 else "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the "
                               "signature you provided.", status=401 if ec2 else 403)


def _signature(req: HttpRequest, signed: list[str], secret: str, access_key: str,
               region: str, service: str, stamp: str) -> str:
    host = req.header("host") or "localhost"
    query = "&".join(f"{k}={v}" for k, values in req.query.items() for v in values)
    url = f"http://{host}{req.path}" + (f"?{query}" if query else "")
    headers: dict[str, Any] = {name: req.header(name) or "" for name in signed}
    aws = AWSRequest(method=req.method, url=url, headers=headers, data=req.body)
    aws.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret), service, region)
    canonical = signer.canonical_request(aws)
    return str(signer.signature(signer.string_to_sign(aws, canonical), aws))
