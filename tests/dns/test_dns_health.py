"""Health checkers probing real HTTP, HTTPS and TCP servers on loopback, with a stepped
clock; failover records follow them (RP-1, RP-4)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from dnslab import Lab, free_port, http_server

from localvpc.dns.health import HealthChecker, probe
from localvpc.dns.resolver import Resolver
from localvpc.model.dns import HealthCheck


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failover_lab(port: int, threshold: int = 2) -> tuple[Lab, str, HealthCheck]:
    lab = Lab()
    vpc = lab.vpc()
    zone = lab.zone("app.example", private=False)
    hc = lab.net.add(HealthCheck("hc-lz", type="HTTP", ip_address="127.0.0.1", port=port,
                                 resource_path="/health", request_interval=10,
                                 failure_threshold=threshold))
    lab.record(zone, "www.app.example", "A", "10.0.9.9", set_identifier="lz",
               failover="PRIMARY", health_check_id=hc.id)
    lab.record(zone, "www.app.example", "A", "10.0.1.1", set_identifier="region",
               failover="SECONDARY")
    return lab, vpc.id, hc


def answer(lab: Lab, vpc: str) -> list[str]:
    r = Resolver(lab.source)
    return r.resolve(r.origin_vpc(vpc), "www.app.example").values()


def test_http_failover_after_the_threshold_and_back(tmp_path: Path) -> None:
    port = free_port()
    lab, vpc, hc = failover_lab(port, threshold=2)
    clock = Clock()
    checker = HealthChecker(lab.source, clock=clock)
    with http_server(port):
        assert checker.tick() == ["hc-lz"] and hc.healthy is True
        assert hc.status_report.startswith("Success: HTTP Status Code 200")
        assert answer(lab, vpc) == ["10.0.9.9"]
    # the primary's server is gone: one failure is not enough ...
    clock.now += 10
    assert checker.tick() == [] and hc.healthy is True
    clock.now += 5  # ... and nothing is probed before the interval is up
    assert checker.tick() == []
    clock.now += 5
    assert checker.tick() == ["hc-lz"] and hc.healthy is False
    assert hc.status_report.startswith("Failure")
    assert answer(lab, vpc) == ["10.0.1.1"]
    with http_server(port):
        clock.now += 10
        checker.tick()
        assert hc.healthy is False  # one success is not enough either
        clock.now += 10
        assert checker.tick() == ["hc-lz"]
    assert answer(lab, vpc) == ["10.0.9.9"]
    checker.stop()


def test_status_codes_and_string_match() -> None:
    port = free_port()
    with http_server(port, body=b"<html>all systems go</html>", status=302):
        check = HealthCheck("h", type="HTTP_STR_MATCH", ip_address="127.0.0.1", port=port,
                            search_string="systems go")
        assert probe(check).ok
        check.search_string = "on fire"
        assert not probe(check).ok
    with http_server(port, status=503):
        result = probe(HealthCheck("h", type="HTTP", ip_address="127.0.0.1", port=port))
        assert not result.ok and "503" in result.report


def test_tcp_check() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    check = HealthCheck("t", type="TCP", ip_address="127.0.0.1", port=port)
    assert probe(check).ok
    listener.close()
    assert not probe(check).ok


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_https_check_does_not_verify_the_certificate(tmp_path: Path) -> None:
    from http.server import BaseHTTPRequestHandler, HTTPServer

    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=self-signed", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    srv = HTTPServer(("127.0.0.1", 0), Ok)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        check = HealthCheck("s", type="HTTPS", ip_address="127.0.0.1",
                            port=srv.server_address[1])
        result = probe(check)
        assert result.ok, result.report
    finally:
        srv.shutdown()
        srv.server_close()


def test_calculated_inverted_and_disabled() -> None:
    lab = Lab()
    down = free_port()
    clock = Clock()
    a = lab.net.add(HealthCheck("a", ip_address="127.0.0.1", port=down, failure_threshold=1))
    b = lab.net.add(HealthCheck("b", ip_address="127.0.0.1", port=down, failure_threshold=1,
                                inverted=True))
    c = lab.net.add(HealthCheck("c", ip_address="127.0.0.1", port=down, failure_threshold=1,
                                disabled=True))
    calc = lab.net.add(HealthCheck("calc", type="CALCULATED", child_health_checks=["a", "b"],
                                   health_threshold=2))
    calc1 = lab.net.add(HealthCheck("calc1", type="CALCULATED", child_health_checks=["a", "b"],
                                    health_threshold=1))
    checker = HealthChecker(lab.source, clock=clock)
    flipped = checker.tick()
    assert set(flipped) == {"a", "b", "calc", "calc1"}
    assert a.healthy is False and not a.effective_healthy
    assert b.healthy is False and b.effective_healthy  # inverted
    assert c.healthy is None and c.effective_healthy  # disabled: never probed, healthy
    assert calc.healthy is False and calc1.healthy is True  # 1 of 2 children healthy
    b.inverted = False  # a calculated check follows its children at the next tick
    assert checker.tick() == ["calc1"] and calc1.healthy is False
    checker.stop()


def test_checker_thread_with_dev_interval() -> None:
    port = free_port()
    lab, vpc, hc = failover_lab(port, threshold=1)
    checker = HealthChecker(lab.source, interval_override=0.1).start(step=0.05)
    try:
        with http_server(port):
            _wait(lambda: hc.healthy is True)
        _wait(lambda: hc.healthy is False)
        assert answer(lab, vpc) == ["10.0.1.1"]
    finally:
        checker.stop()


def _wait(cond: object, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")
