"""``localvpc serve --proxy-workers 2`` on PostgreSQL: the worker reads its model from the
same database (its own connection, URL through the environment), so an ALB made through the
API answers alike from both processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

REGION, ACCOUNT_KEY = "us-east-1", "AKIDPGWORKERS"


class _Target(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture
def pg_server(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "localvpc", "serve", "--port", str(port),
                             "--state", postgres_url, "--no-dns", "--proxy-workers", "2",
                             "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.DEVNULL, stderr=log, cwd=tmp_path,
                            env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(f"{url}/_localvpc/health")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "serve.log").read_text()) from None
                time.sleep(0.1)
        urllib.request.urlopen(urllib.request.Request(f"{url}/_localvpc/reset",
                                                      method="POST"), timeout=10).read()
        yield url
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def test_both_processes_route_from_the_same_database(pg_server: str) -> None:
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    target.daemon_threads = True
    threading.Thread(target=target.serve_forever, daemon=True).start()
    try:
        kw: dict[str, Any] = {"endpoint_url": pg_server, "region_name": REGION,
                              "aws_access_key_id": ACCOUNT_KEY, "aws_secret_access_key": "x"}
        ec2, elb = boto3.client("ec2", **kw), boto3.client("elbv2", **kw)
        vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.70.{i}.0/24",
                                     AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        lb = elb.create_load_balancer(Name="pg-alb", Subnets=subnets, Scheme="internal",
                                      Type="application")["LoadBalancers"][0]
        tg = elb.create_target_group(Name="pg-tg", Protocol="HTTP", Port=8080, VpcId=vpc,
                                     TargetType="ip")["TargetGroups"][0]
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                             Targets=[{"Id": "10.70.1.10", "Port": 8080}])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward",
                                             "TargetGroupArn": tg["TargetGroupArn"]}])
        put = urllib.request.Request(
            f"{pg_server}/_localvpc/lattice/targets", method="PUT", data=json.dumps(
                {"targets": [{"address": "10.70.1.10:8080",
                              "to": f"127.0.0.1:{target.server_address[1]}"}]}).encode())
        urllib.request.urlopen(put, timeout=10).read()

        def table() -> dict[str, Any]:
            return dict(_get(f"{pg_server}/_localvpc/proxy/endpoints"))

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            t = table()
            if t["endpoints"] and all(w["listeners"] == 1 for w in t["workers"]) \
                    and len({w["generation"] for w in t["workers"]}) == 1:
                break
            time.sleep(0.2)
        t = table()
        port = t["endpoints"][0]["port"]
        assert [w["slot"] for w in t["workers"]] == ["serve", 0]
        answers = [httpx.get(f"http://127.0.0.1:{port}/pg/{i}",
                             headers={"host": lb["DNSName"]}, timeout=20) for i in range(40)]
        assert [(r.status_code, r.json()["path"]) for r in answers] == \
            [(200, f"/pg/{i}") for i in range(40)]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            counts = [w["connections"] for w in table()["workers"]]
            if sum(counts) == 40:
                break
            time.sleep(0.2)
        assert sum(counts) == 40 and min(counts) > 0, counts
    finally:
        target.shutdown()
