"""A real ``localvpc serve`` process on a free loopback port, and clients pointed at it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    state: Path
    proc: subprocess.Popen[bytes]
    log: Path | None = None  # the server's stderr

    def client(self, service: str, region: str = "us-east-1", account: str | None = None
               ) -> Any:
        key = account or "AKIDLOCALVPCTEST"
        return boto3.client(service, endpoint_url=self.url, region_name=region,
                            aws_access_key_id=key, aws_secret_access_key="secret")

    def aws(self, *args: str, region: str = "us-east-1") -> Any:
        """The AWS CLI, as a user runs it, with ``--endpoint-url`` added."""
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLOCALVPCTEST",
               "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": region,
               "AWS_PAGER": ""}
        p = subprocess.run(["aws", *args, "--endpoint-url", self.url, "--output", "json"],
                           capture_output=True, text=True, env=env, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {p.stderr}")
        return json.loads(p.stdout) if p.stdout.strip() else None

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/_localvpc/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()


def start_server(state: Path, *extra: str) -> Server:
    port = free_port()
    # The server's log goes to a file beside its state: a pipe nobody reads would fill
    # up and stop a talkative server mid-test.
    log_path = state.with_name(state.name + f".{port}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "localvpc", "serve", "--port",
                                 str(port), "--state", str(state), *extra],
                                stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(f"{url}/_localvpc/health", timeout=1).read()
            return Server(url, state, proc, log_path)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("serve") / "state.db")
    yield s
    stop_server(s)


@pytest.fixture
def fresh(server: Server) -> Server:
    """The shared server, reset to an empty state for this test."""
    server.reset()
    return server
