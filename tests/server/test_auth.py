"""Accounts and SigV4: open mode maps keys to accounts; strict mode verifies signatures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

KEYS = {"AKIDALICE": {"account": "111122223333", "secret": "alice-secret"},
        "AKIDBOB": {"account": "444455556666", "secret": "bob-secret"}}


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    d = tmp_path_factory.mktemp("strict")
    (d / "accounts.json").write_text(json.dumps(KEYS))
    s = start_server(d / "state.db", "--auth", "strict", "--accounts", str(d / "accounts.json"))
    yield s
    stop_server(s)


def ec2(server: Server, key: str, secret: str, service: str = "ec2") -> object:
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def test_strict_accepts_good_signatures_and_separates_accounts(strict: Server) -> None:
    alice = ec2(strict, "AKIDALICE", "alice-secret")
    bob = ec2(strict, "AKIDBOB", "bob-secret")
    vpc = alice.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]  # type: ignore[attr-defined]
    assert vpc["OwnerId"] == "111122223333"
    theirs = [v["VpcId"] for v in bob.describe_vpcs()["Vpcs"]]  # type: ignore[attr-defined]
    assert vpc["VpcId"] not in theirs


@pytest.mark.parametrize(("key", "secret", "code"), [
    ("AKIDALICE", "wrong-secret", "AuthFailure"),
    ("AKIDNOBODY", "x", "AuthFailure"),
])
def test_strict_rejects_bad_signatures_with_aws_codes(strict: Server, key: str, secret: str,
                                                      code: str) -> None:
    with pytest.raises(ClientError) as e:
        ec2(strict, key, secret).describe_vpcs()  # type: ignore[attr-defined]
    assert e.value.response["Error"]["Code"] == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_strict_json_service_uses_its_own_codes(strict: Server) -> None:
    with pytest.raises(ClientError) as e:
        ec2(strict, "AKIDALICE", "wrong", "pricing").describe_services()  # type: ignore[attr-defined]
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_strict_rejects_unsigned_requests(strict: Server) -> None:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(strict.url + "/", data=b"Action=DescribeVpcs&Version=2016-11-15",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401 and b"AuthFailure" in e.value.read()


def test_open_mode_maps_unknown_keys_to_the_default_account(fresh: Server) -> None:
    vpc = fresh.client("ec2").create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]
    assert vpc["OwnerId"] == "000000000000"
    other = fresh.client("ec2", account="222222222222").create_vpc(CidrBlock="10.8.0.0/16")
    assert other["Vpc"]["OwnerId"] == "222222222222"


def test_bad_accounts_file_exits_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "bad.json").write_text("{not json")
    p = subprocess.run([sys.executable, "-m", "localvpc", "serve", "--state",
                        str(tmp_path / "s.db"), "--accounts", str(tmp_path / "bad.json")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "bad.json" in p.stderr
