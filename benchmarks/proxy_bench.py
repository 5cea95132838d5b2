"""The VPC Lattice proxy against nginx as a reverse proxy to the same backend, on loopback.

A ``localvpc serve`` process gets a service network, a VPC association and a service with an
HTTP listener forwarding to an IP target mapped (address map) to the backend; nginx (Debian
package, unprivileged, foreground) proxies to the same backend with keep-alive upstream
connections. Each comparison uses as many processes on both sides: ``--proxy-workers N``
against ``worker_processes N`` with ``reuseport`` (N = 1 and 2 by default). Measured:
requests/s at saturation (wrk when installed, else a bounded Python load generator) and
the p99 latency each proxy adds at a fixed 1,000 requests/s (a paced Python client, the
direct backend latency subtracted). Prints a Markdown table.

    python benchmarks/proxy_bench.py [--duration 5] [--connections 32] [--rate 1000]
                                     [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
TARGET_IP = "10.0.1.10"
BACKEND = textwrap.dedent("""
    import asyncio, sys
    try:
        import uvloop; uvloop.install()
    except ImportError:
        pass
    BODY = b"hello from the backend\\n"
    RESP = (b"HTTP/1.1 200 OK\\r\\ncontent-type: text/plain\\r\\ncontent-length: %d\\r\\n\\r\\n"
            % len(BODY)) + BODY
    class P(asyncio.Protocol):
        def connection_made(self, t): self.t, self.buf = t, b""
        def data_received(self, d):
            self.buf += d
            while True:
                i = self.buf.find(b"\\r\\n\\r\\n")
                if i < 0: return
                self.buf = self.buf[i + 4:]
                self.t.write(RESP)
    async def main():
        s = await asyncio.get_running_loop().create_server(P, "127.0.0.1", int(sys.argv[1]),
                                                           backlog=1024)
        print("ready", flush=True)
        await s.serve_forever()
    asyncio.run(main())
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


# ---------------------------------------------------------------------- processes
@contextlib.contextmanager
def backend() -> Iterator[int]:
    """A minimal keep-alive HTTP/1.1 backend (no GET parsing beyond the blank line)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BACKEND, str(port)],
                            stdout=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def localvpc_proxy(backend_port: int, workdir: Path, workers: int = 1
                   ) -> Iterator[tuple[int, str]]:
    """``localvpc serve --proxy-workers workers`` with one Lattice service whose HTTP
    listener forwards to the backend; yields (loopback proxy port, service DNS name) once
    every process serves the listener."""
    import boto3

    api = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "localvpc", "serve", "--port", str(api),
                             "--state", str(workdir / "state.db"), "--no-dns",
                             "--proxy-workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        url = f"http://127.0.0.1:{api}"
        wait_port(api)
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=REGION,
                           aws_access_key_id="AKIDBENCH", aws_secret_access_key="x")
        lattice = boto3.client("vpc-lattice", endpoint_url=url, region_name=REGION,
                               aws_access_key_id="AKIDBENCH", aws_secret_access_key="x")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        tg = lattice.create_target_group(name="bench", type="IP", config={
            "port": 80, "protocol": "HTTP", "vpcIdentifier": vpc,
            "healthCheck": {"enabled": False}})
        lattice.register_targets(targetGroupIdentifier=tg["id"],
                                 targets=[{"id": TARGET_IP, "port": 80}])
        svc = lattice.create_service(name="bench")
        lattice.create_listener(serviceIdentifier=svc["id"], name="http", protocol="HTTP",
                                port=80, defaultAction={"forward": {"targetGroups": [
                                    {"targetGroupIdentifier": tg["id"]}]}})
        sn = lattice.create_service_network(name="bench-net")
        lattice.create_service_network_service_association(
            serviceNetworkIdentifier=sn["id"], serviceIdentifier=svc["id"])
        lattice.create_service_network_vpc_association(serviceNetworkIdentifier=sn["id"],
                                                        vpcIdentifier=vpc)
        put = urllib.request.Request(
            f"{url}/_localvpc/lattice/targets", method="PUT",
            data=json.dumps({"targets": [{"address": f"{TARGET_IP}:80",
                                          "to": f"127.0.0.1:{backend_port}"}]}).encode())
        urllib.request.urlopen(put, timeout=10).read()
        port = 0
        deadline = time.monotonic() + 20
        while not port and time.monotonic() < deadline:
            with urllib.request.urlopen(f"{url}/_localvpc/proxy/endpoints", timeout=5) as r:
                rows = json.loads(r.read())["endpoints"]
            port = next((int(e["port"]) for e in rows if e["kind"] == "lattice"), 0)
            time.sleep(0.05)
        while time.monotonic() < deadline:  # every worker has the listener and the model
            with urllib.request.urlopen(f"{url}/_localvpc/proxy/endpoints", timeout=5) as r:
                table = json.loads(r.read())["workers"]
            if len(table) == workers and all(w["alive"] and w["listeners"] == 1 for w in table) \
                    and len({w["generation"] for w in table}) == 1:
                break
            time.sleep(0.1)
        if not port:
            raise RuntimeError("the proxy listener did not open")
        yield port, svc["dnsEntry"]["domainName"]
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def nginx_proxy(backend_port: int, workdir: Path, workers: int = 1) -> Iterator[int | None]:
    """nginx as a reverse proxy (``workers`` worker processes on ``reuseport`` sockets, as
    localvpc's proxy workers, keep-alive upstream); None without nginx."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                       else None)
    if binary is None:
        yield None
        return
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""
        worker_processes {workers};
        daemon off;
        pid {workdir}/nginx.pid;
        error_log {workdir}/nginx-error.log warn;
        events {{ worker_connections 4096; }}
        http {{
            access_log off;
            keepalive_requests 10000000;  # as the proxy: never close a busy client
            client_body_temp_path {workdir}/body;
            proxy_temp_path {workdir}/proxy;
            fastcgi_temp_path {workdir}/fastcgi;
            uwsgi_temp_path {workdir}/uwsgi;
            scgi_temp_path {workdir}/scgi;
            upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
            server {{
                listen 127.0.0.1:{port} reuseport;
                location / {{
                    proxy_pass http://backend;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_set_header X-Forwarded-For $remote_addr;
                }}
            }}
        }}
    """))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(workdir), "-e",
                             str(workdir / "nginx-error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


# ---------------------------------------------------------------------- load
@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str


def wrk_load(port: int, host: str, duration: float, connections: int) -> Load | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{max(1, int(duration))}s",
                          "--latency", "-H", f"Host: {host}", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        if m is None:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return Load(rps, pct("50"), pct("99"), errors, "wrk")


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
               request: bytes) -> bool:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    m = re.search(rb"content-length:\s*(\d+)", head, re.I)
    if m:
        await reader.readexactly(int(m.group(1)))
    return head.startswith(b"HTTP/1.1 200")


async def _py_load(port: int, host: str, duration: float, connections: int,
                   rate: float | None) -> Load:
    request = (f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: proxy_bench\r\n\r\n"
               ).encode()
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    queue: asyncio.Queue[float] = asyncio.Queue()

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal errors
        while True:
            if rate is not None:
                await queue.get()
            elif loop.time() >= end:
                return
            t0 = time.perf_counter()
            try:
                ok = await _one(reader, writer, request)
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                return
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    tasks = [asyncio.create_task(worker(r, w)) for r, w in conns]
    began = loop.time()
    if rate is not None:  # pace: one request every 1/rate seconds
        n = 0
        while loop.time() < end:
            due = began + n / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(due)
            n += 1
        while not queue.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
    else:
        await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = loop.time() - began
    for _, w in conns:
        w.close()
    latencies.sort()
    if not latencies:
        return Load(0.0, float("nan"), float("nan"), errors, "python")

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return Load(len(latencies) / elapsed, pct(0.50), pct(0.99), errors, "python")


def py_load(port: int, host: str, duration: float, connections: int,
            rate: float | None = None) -> Load:
    return asyncio.run(_py_load(port, host, duration, connections, rate))


# ---------------------------------------------------------------------- the run
def run(duration: float = 5.0, connections: int = 32, rate: float = 1000.0,
        use_nginx: bool = True, use_wrk: bool = True, rounds: int = 3,
        workers: tuple[int, ...] = (1,)) -> dict[str, Any]:
    """One measurement per process count in ``workers``: localvpc with that many proxy
    processes against nginx with that many worker processes, the backend alone beside."""
    results: dict[str, Any] = {"duration": duration, "connections": connections,
                               "rate": rate, "runs": []}
    with tempfile.TemporaryDirectory(prefix="proxy-bench-") as tmp, backend() as bport:
        for n in workers:
            work = Path(tmp) / f"w{n}"
            (work / "nginx").mkdir(parents=True)
            results["runs"].append(_measure(bport, work, n, duration, connections, rate,
                                            use_nginx, use_wrk, rounds, results))
    return results


def _measure(bport: int, work: Path, n: int, duration: float, connections: int, rate: float,
             use_nginx: bool, use_wrk: bool, rounds: int, results: dict[str, Any]
             ) -> dict[str, Any]:
    out: dict[str, Any] = {"workers": n}
    with localvpc_proxy(bport, work, n) as (lport, name), \
            nginx_proxy(bport, work / "nginx", n) if use_nginx else _none() as nport:
        targets = {"backend": (bport, "backend"), "localvpc": (lport, name)}
        if nport is not None:
            targets["nginx"] = (nport, "backend")
        else:
            results["nginx_skipped"] = ("nginx is not installed (apt-get install nginx)"
                                        if use_nginx else "not requested (--no-nginx)")
        py_load(lport, name, 0.3, 4 * n)  # warm every process's upstream pool
        for label, (port, host) in targets.items():
            load = wrk_load(port, host, duration, connections) if use_wrk else None
            if load is None:
                load = py_load(port, host, duration, min(connections, 16))
            out[label] = {"rps": load.rps, "p50_ms": load.p50_ms, "p99_ms": load.p99_ms,
                          "errors": load.errors, "tool": load.tool, "paced": []}
        # The paced runs take turns (rounds), so a burst of other work on the machine hits
        # every path alike; each path's p99 is its median over the rounds.
        for _ in range(rounds):
            for label, (port, host) in targets.items():
                out[label]["paced"].append(py_load(port, host, duration / rounds, 16, rate))
        for label in targets:
            runs: list[Load] = out[label].pop("paced")
            out[label]["errors"] += sum(r.errors for r in runs)
            out[label]["paced_p50_ms"] = statistics.median(r.p50_ms for r in runs)
            out[label]["paced_p99_ms"] = statistics.median(r.p99_ms for r in runs)
            out[label]["paced_rps"] = statistics.mean(r.rps for r in runs)
    base = out["backend"]["paced_p99_ms"]
    for label in ("localvpc", "nginx"):
        if label in out:
            out[label]["added_p99_ms"] = out[label]["paced_p99_ms"] - base
    if "nginx" in out:
        out["ratio"] = out["localvpc"]["rps"] / out["nginx"]["rps"]
    return out


@contextlib.contextmanager
def _none() -> Iterator[None]:
    yield None


def table(results: dict[str, Any]) -> str:
    rate = int(results["rate"])
    lines = [f"| path | processes | requests/s | p50 ms | p99 ms | p99 at {rate:,} rps | "
             f"added p99 at {rate:,} rps | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for i, run_ in enumerate(results["runs"]):
        for label in ("backend", "nginx", "localvpc"):
            r = run_.get(label)
            if r is None or (label == "backend" and i > 0):
                continue
            added = f"{r['added_p99_ms']:.2f} ms" if "added_p99_ms" in r else "-"
            procs = "1" if label == "backend" else str(run_["workers"])
            lines.append(f"| {label} ({r['tool']}) | {procs} | {r['rps']:,.0f} | "
                         f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['paced_p99_ms']:.2f} ms"
                         f" | {added} | {r['errors']} |")
    lines.append("")
    for run_ in results["runs"]:
        if "ratio" in run_:
            lines.append(f"{run_['workers']} process(es) each: localvpc / nginx requests/s: "
                         f"{run_['ratio']:.2f}x (target >= 0.25x); added p99 at {rate:,} "
                         f"rps: {run_['localvpc']['added_p99_ms']:.2f} ms (target < 2 ms)")
    if "nginx_skipped" in results:
        lines.append(f"nginx comparison skipped: {results['nginx_skipped']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="paced runs per path")
    parser.add_argument("--workers", default="1,2", help="process counts to compare, "
                        "comma-separated (localvpc --proxy-workers N vs nginx "
                        "worker_processes N)")
    args = parser.parse_args(argv)
    counts = tuple(int(x) for x in args.workers.split(",") if x.strip())
    results = run(args.duration, args.connections, args.rate, not args.no_nginx,
                  not args.no_wrk, args.rounds, counts)
    print(table(results))
    return results


if __name__ == "__main__":
    main()
