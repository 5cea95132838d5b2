"""The AWS-compatible endpoint against moto's server: the same EC2 calls, on loopback.

Usage::

    python benchmarks/api_vs_moto.py [--sizes 100,1000,10000] [--threads 1,4]
                                     [--describes 300] [--creates 200] [--driver raw|boto3]
                                     [--json out.json] [--logs DIR] [--only localvpc|moto]
                                     [--durability process|full]

Both servers run on loopback for the whole run: ``python -m localvpc serve`` on a temporary
SQLite state file (every write committed before it is acknowledged; ``--durability full``
also syncs it to disk) and
``python -m moto.server`` (in memory). They are measured one after the other, never at the
same time, and get the same sequence of calls. For each N (the subnets the benchmark has
created so far, ten per VPC):

* fill: CreateVpc and CreateSubnet up to N, from ``--fill-threads`` threads (timed, but only
  reported as a rate);
* DescribeSubnets with ``Filters=[vpc-id=<one VPC>]`` (10 matches) and with
  ``Filters=[subnet-id=<one subnet>]`` (1 match), ``--describes`` calls spread over 1 and
  over 4 client threads, targets drawn from the same seeded sequence for both servers; each
  answer is checked (the VPC's subnets, the one subnet);
* CreateSubnet: ``--creates`` calls from 1 thread, then as many from 4 threads, into a VPC of
  their own (these subnets count towards the next N);
* after the largest N, the Reachability Analyzer between two instances, where the server has
  it: CreateNetworkInsightsPath, then StartNetworkInsightsAnalysis (polled to completion)
  three times, the first after the network changed, the others not.

Latency is per call, measured in the client. By default (``--driver raw``) botocore
serializes and signs every request before the clock starts and the timed part is sending it
and reading the answer over a keep-alive connection, so the client's own work (about 1 ms of
CPU per boto3 call, on the same cores as the servers) does not blur the comparison;
``--driver boto3`` times whole boto3 calls. Requests/s is calls / wall time of the cell.
Clients never retry. Every answer is checked. The report (Markdown) goes to stdout, progress
to stderr; the exit status is 1 if any timed call failed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

SUBNETS_PER_VPC = 10
REGION = "us-east-1"
TARGET_RATIO = 3.0
X = "\N{MULTIPLICATION SIGN}"
ARROW = "\N{RIGHTWARDS ARROW}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Target:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    health: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, without its access-log lines."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join([t for t in text if '" 200 ' not in t][-lines:])

    def client(self) -> Any:
        """A client of its own session (boto3's default session is not thread-safe)."""
        return boto3.session.Session().client(
            "ec2", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id="AKIDLOCALVPCTEST", aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                          max_pool_connections=4, read_timeout=300,
                          parameter_validation=False))


@contextmanager
def serve(name: str, command: list[str], url: str, health: str, log_path: Path
          ) -> Iterator[Target]:
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    target = Target(name, url, proc, health, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {log_path.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(url + health, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.1)
        yield target
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("localvpc", "moto", "boto3", "uvicorn", "flask"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "?"
    return out


# ---------------------------------------------------------------------------- measuring
@dataclass
class Cell:
    """One measurement: ``calls`` latencies (ns) over ``wall`` seconds."""

    latencies: list[int] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        rank = max(1, min(len(values), round(fraction * len(values) + 0.5)))
        return values[rank - 1] / 1e6

    def summary(self) -> dict[str, Any]:
        return {"calls": len(self.latencies), "wall_s": round(self.wall, 3),
                "req_per_s": round(self.rate, 1), "p50_ms": round(self.percentile(0.5), 3),
                "p99_ms": round(self.percentile(0.99), 3), "errors": self.errors[:5],
                "error_count": len(self.errors)}


@dataclass(frozen=True)
class Job:
    """One call: a boto3 operation and its parameters, and for a describe the subnet ids
    the answer must hold (exactly). A CreateSubnet answer must hold one subnet."""

    operation: str
    params: dict[str, Any]
    expect: frozenset[str] | None = None


_SUBNET_ID = re.compile(rb"<subnetId>([^<]+)</subnetId>")


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


class RawDriver:
    """Sends requests botocore serialized and signed beforehand over a keep-alive
    ``http.client`` connection: the timed part is the server's (and the network's) alone.
    Neither server checks signatures, so a request may be sent after its signing time."""

    name = "raw HTTP"
    summary = ("requests serialized and signed by botocore before the clock starts, sent "
               "over keep-alive http.client connections: client work is not timed")

    def __init__(self, target: Target) -> None:
        self.target = target
        url = urlsplit(target.url)
        self.conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port,
                                               timeout=300)
        self._maker: Any = None

    def prepare(self, jobs: list[Job]) -> list[Any]:
        if self._maker is None:
            self._maker = self.target.client()

            def grab(request: Any, **_: Any) -> None:
                raise _Captured(request)

            self._maker.meta.events.register("before-send", grab)
        out = []
        for job in jobs:
            try:
                getattr(self._maker, job.operation)(**job.params)
            except _Captured as c:
                r = c.request
                url = urlsplit(r.url)
                body = r.body or b""
                body = body.encode() if isinstance(body, str) else body
                headers = {k: (v.decode() if isinstance(v, bytes) else v)
                           for k, v in r.headers.items()}
                path = url.path + (f"?{url.query}" if url.query else "")
                out.append((r.method, path or "/", headers, body, job))
            else:
                raise RuntimeError("botocore sent a request past the capture hook")
        return out

    def call(self, prepared: Any) -> None:
        method, path, headers, body, job = prepared
        self.conn.request(method, path, body, headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
        ids = _SUBNET_ID.findall(data)
        if job.operation == "create_subnet":
            if len(ids) != 1:
                raise RuntimeError("no subnet in the CreateSubnet answer")
        elif job.expect is None:
            return
        elif len(ids) != len(job.expect) or {i.decode() for i in ids} != job.expect:
            raise RuntimeError(f"wrong answer to {job.params}: {len(ids)} subnets")

    def close(self) -> None:
        self.conn.close()


class BotoDriver:
    """Calls boto3 in the timed part (its serializing, signing and parsing included)."""

    name = "boto3"
    summary = "boto3 calls: botocore's serializing, signing and parsing are timed too"

    def __init__(self, target: Target) -> None:
        self.client = target.client()

    def prepare(self, jobs: list[Job]) -> list[Any]:
        return list(jobs)

    def call(self, job: Any) -> None:
        out = getattr(self.client, job.operation)(**job.params)
        if job.expect is not None:
            got = [s["SubnetId"] for s in out["Subnets"]]
            if len(got) != len(job.expect) or set(got) != job.expect:
                raise RuntimeError(f"wrong answer to {job.params}: {len(got)} subnets")

    def close(self) -> None:
        self.client.close()


DRIVERS = {"raw": RawDriver, "boto3": BotoDriver}


def run_threads(target: Target, driver: str, jobs: list[Job], threads: int,
                deadline_s: float) -> Cell:
    """``jobs`` dealt round-robin to ``threads`` threads, each with its own connection,
    all starting together; each call timed; every thread stops once ``deadline_s`` has
    passed. One warm-up call (the first job of the thread, repeated) per connection."""
    cell = Cell()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    stop_at: list[float] = [0.0]
    drivers = [DRIVERS[driver](target) for _ in range(threads)]
    work = [d.prepare(part) for d, part in zip(drivers, split(jobs, threads), strict=True)]
    warm = [d.prepare([Job("describe_vpcs", {"MaxResults": 5})])[0] for d in drivers]

    def worker(d: Any, calls: list[Any], first: Any) -> None:
        times: list[int] = []
        errors: list[str] = []
        try:
            d.call(first)
        except Exception as e:
            errors.append(f"warm-up: {type(e).__name__}: {e}")
        start.wait()
        for call in calls:
            t0 = time.perf_counter_ns()
            try:
                d.call(call)
            except ClientError as e:
                status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                errors.append(f"HTTP {status} {e.response.get('Error', {}).get('Code')}")
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}")
            else:
                times.append(time.perf_counter_ns() - t0)
            if time.monotonic() > stop_at[0]:
                break
        with lock:
            cell.latencies += times
            cell.errors += errors

    pool = [threading.Thread(target=worker, args=args)
            for args in zip(drivers, work, warm, strict=True)]
    for t in pool:
        t.start()
    stop_at[0] = time.monotonic() + deadline_s
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    cell.wall = time.perf_counter() - t0
    for d in drivers:
        d.close()
    return cell


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


# ---------------------------------------------------------------------------- the workload
@dataclass
class Estate:
    """What the benchmark created on one server: VPC ids in creation order and their
    subnets (for the fill VPCs, exactly ``SUBNETS_PER_VPC`` each)."""

    vpcs: list[str] = field(default_factory=list)
    subnets: dict[str, list[str]] = field(default_factory=dict)
    created: int = 0  # subnets created by the benchmark, fill and create samples
    sample_vpcs: int = 0

    def fill_vpc_cidr(self, k: int) -> str:
        return f"10.{k // 256}.{k % 256}.0/24"


def _server_error(e: Exception) -> bool:
    if isinstance(e, ClientError):
        return int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500
    return isinstance(e, ResponseParserError)  # moto's 500 is an HTML page


def _create_subnet(client: Any, vpc: str, cidr: str) -> str:
    return str(client.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"])


def _subnets_with_cidr(client: Any, vpc: str, cidr: str) -> list[str]:
    return [s["SubnetId"] for s in client.describe_subnets(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "cidr-block", "Values": [cidr]}])
        ["Subnets"]]


def fill(target: Target, estate: Estate, n: int, threads: int
         ) -> tuple[int, float, list[str]]:
    """Create ten-subnet VPCs until the benchmark has created ``n`` subnets; returns the
    number of creates (VPCs and subnets), the wall time and the server errors met.

    A create answered with a server error is looked up (by its CIDR) before it is sent
    again, so the estate is the same on both servers whatever they answered."""
    need = max(0, n - estate.created)
    vpcs = -(-need // SUBNETS_PER_VPC)
    first = len(estate.vpcs)
    plan = [(first + i, min(SUBNETS_PER_VPC, need - i * SUBNETS_PER_VPC)) for i in range(vpcs)]
    results: dict[int, tuple[str, list[str]]] = {}
    errors: list[str] = []
    incidents: list[str] = []
    lock = threading.Lock()
    work = iter(plan)

    def create(what: str, call: Any, lookup: Any) -> str:
        for _ in range(3):
            try:
                return str(call())
            except Exception as e:
                if not _server_error(e):
                    raise
                incidents.append(f"{what}: {str(e).splitlines()[0][:120]}")
                found = lookup()
                if found:
                    return str(found[0])
        raise RuntimeError(f"{what} failed three times")

    def one_vpc(client: Any, cidr: str, count: int) -> tuple[str, list[str]]:
        def vpcs_with_cidr() -> list[str]:
            return [v["VpcId"] for v in client.describe_vpcs(Filters=[
                {"Name": "cidr-block-association.cidr-block", "Values": [cidr]}])["Vpcs"]]

        vpc = create("CreateVpc", lambda: client.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"],
                     vpcs_with_cidr)
        base = cidr.rsplit(".", 1)[0]
        ids = []
        for i in range(count):
            sub = f"{base}.{16 * i}/28"
            ids.append(create("CreateSubnet", partial(_create_subnet, client, vpc, sub),
                              partial(_subnets_with_cidr, client, vpc, sub)))
        return vpc, ids

    def worker(client: Any) -> None:
        while True:
            with lock:
                item = next(work, None)
            if item is None or errors:
                return
            k, count = item
            try:
                vpc, ids = one_vpc(client, estate.fill_vpc_cidr(k), count)
            except Exception as e:
                errors.append(repr(e))
                return
            with lock:
                results[k] = (vpc, ids)

    clients = [target.client() for _ in range(threads)]
    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{target.name}: fill failed: {errors[:3]}\n{target.log_tail()}")
    for k in sorted(results):
        vpc, ids = results[k]
        estate.vpcs.append(vpc)
        estate.subnets[vpc] = ids
        estate.created += len(ids)
    return vpcs + need, wall, incidents


def describe_cells(target: Target, estate: Estate, n: int, thread_counts: list[int],
                   calls: int, seed: int, cell_seconds: float, driver: str
                   ) -> dict[str, Cell]:
    """Filtered DescribeSubnets, by VPC and by subnet id, at each thread count."""
    full = [v for v in estate.vpcs if len(estate.subnets[v]) == SUBNETS_PER_VPC]
    cells: dict[str, Cell] = {}
    for kind in ("vpc-id", "subnet-id"):
        for threads in thread_counts:
            # The same targets, by creation index, on both servers.
            rng = random.Random(f"{seed}/{n}/{kind}/{threads}")
            jobs = []
            for _ in range(calls):
                p = rng.randrange(len(full))
                vpc = full[p]
                value = vpc if kind == "vpc-id" else estate.subnets[vpc][p % SUBNETS_PER_VPC]
                expect = estate.subnets[vpc] if kind == "vpc-id" else [value]
                jobs.append(Job("describe_subnets",
                                {"Filters": [{"Name": kind, "Values": [value]}]},
                                frozenset(expect)))
            cells[f"{kind}/{threads}"] = run_threads(target, driver, jobs, threads,
                                                     cell_seconds)
    return cells


def create_cells(target: Target, estate: Estate, thread_counts: list[int], calls: int,
                 cell_seconds: float, driver: str) -> dict[str, Cell]:
    """CreateSubnet into a VPC of the cell's own (a /16 cut into /28s)."""
    cells: dict[str, Cell] = {}
    for threads in thread_counts:
        second = 100 + estate.sample_vpcs
        estate.sample_vpcs += 1
        vpc = target.client().create_vpc(CidrBlock=f"10.{second}.0.0/16")["Vpc"]["VpcId"]
        jobs = [Job("create_subnet", {"VpcId": vpc,
                                      "CidrBlock": f"10.{second}.{i // 16}.{(i % 16) * 16}/28"})
                for i in range(calls)]
        cell = run_threads(target, driver, jobs, threads, cell_seconds)
        estate.created += len(cell.latencies)
        cells[f"create/{threads}"] = cell
    return cells


def reachability(target: Target, estate: Estate) -> dict[str, Any]:
    """Time CreateNetworkInsightsPath + StartNetworkInsightsAnalysis (polled until done)
    between instances in two subnets of one fill VPC, if the server has the operations."""
    client = target.client()
    try:
        client.describe_network_insights_paths()
    except ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = e.response.get("Error", {}).get("Code")
        return {"skipped": f"DescribeNetworkInsightsPaths answers HTTP {status} {code}"}
    except ResponseParserError:
        return {"skipped": "DescribeNetworkInsightsPaths answers HTTP 500 with an HTML "
                           "error page"}
    vpc = next(v for v in estate.vpcs if len(estate.subnets[v]) == SUBNETS_PER_VPC)
    a, b = estate.subnets[vpc][:2]
    try:
        instances = [client.run_instances(ImageId="ami-12345678", InstanceType="t3.micro",
                                          MinCount=1, MaxCount=1, SubnetId=s)
                     ["Instances"][0]["InstanceId"] for s in (a, b)]
        t0 = time.perf_counter()
        path = client.create_network_insights_path(
            Source=instances[0], Destination=instances[1], Protocol="tcp",
            DestinationPort=22)["NetworkInsightsPath"]["NetworkInsightsPathId"]
        path_ms = (time.perf_counter() - t0) * 1e3
        # The first analysis after a change of the network pays for compiling it.
        runs = [_analysis(client, path) for _ in range(3)]
    except ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = e.response.get("Error", {}).get("Code")
        return {"skipped": f"the analysis failed: HTTP {status} {code}"}
    return {"path_ms": path_ms, "analysis_ms": [ms for ms, _, _ in runs],
            "status": runs[-1][1], "reachable": runs[-1][2]}


def _analysis(client: Any, path: str) -> tuple[float, str, Any]:
    """StartNetworkInsightsAnalysis, polled until it is no longer running."""
    t0 = time.perf_counter()
    found = client.start_network_insights_analysis(
        NetworkInsightsPathId=path)["NetworkInsightsAnalysis"]
    deadline = time.monotonic() + 300
    while found.get("Status") == "running" and time.monotonic() < deadline:
        time.sleep(0.01)
        found = client.describe_network_insights_analyses(NetworkInsightsAnalysisIds=[
            found["NetworkInsightsAnalysisId"]])["NetworkInsightsAnalyses"][0]
    return (time.perf_counter() - t0) * 1e3, found.get("Status"), found.get("NetworkPathFound")


# ---------------------------------------------------------------------------- report
def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def fmt_n(n: int) -> str:
    return f"{n:,}"


def metric_table(title: str, key: str, results: dict[str, dict[int, dict[str, Cell]]],
                 sizes: list[int], thread_counts: list[int], names: list[str]) -> list[str]:
    lines = [f"### {title}", ""]
    header = "| N | threads |"
    rule = "|---|---|"
    for name in names:
        header += f" {name} req/s | p50 ms | p99 ms |"
        rule += "---|---|---|"
    if len(names) == 2:
        header += f" {names[0]}/{names[1]} req/s |"
        rule += "---|"
    lines += [header, rule]
    for n in sizes:
        for threads in thread_counts:
            row = f"| {fmt_n(n)} | {threads} |"
            rates = []
            for name in names:
                cell = results[name][n][f"{key}/{threads}"]
                rates.append(cell.rate)
                note = f" ({len(cell.errors)} errors)" if cell.errors else ""
                row += (f" {fmt_rate(cell.rate)}{note} | {fmt_ms(cell.percentile(0.5))} |"
                        f" {fmt_ms(cell.percentile(0.99))} |")
            if len(names) == 2:
                row += f" {rates[0] / rates[1]:.1f}{X} |" if rates[1] else " - |"
            lines.append(row)
    return [*lines, ""]


def growth_table(results: dict[str, dict[int, dict[str, Cell]]], sizes: list[int],
                 thread_counts: list[int], names: list[str]) -> list[str]:
    lines = ["### How cost grows with N (p50 latency, later size / earlier size)", ""]
    header = "| metric | threads | N |" + "".join(f" {name} p50 {X} |" for name in names)
    lines += [header, "|---|---|---|" + "---|" * len(names)]
    labels = {"vpc-id": "DescribeSubnets vpc-id", "subnet-id": "DescribeSubnets subnet-id",
              "create": "CreateSubnet"}
    for key, label in labels.items():
        for threads in thread_counts:
            for lo, hi in itertools.pairwise(sizes):
                row = f"| {label} | {threads} | {fmt_n(lo)} {ARROW} {fmt_n(hi)} |"
                for name in names:
                    a = results[name][lo][f"{key}/{threads}"].percentile(0.5)
                    b = results[name][hi][f"{key}/{threads}"].percentile(0.5)
                    row += f" {b / a:.2f} |"
                lines.append(row)
    return [*lines, ""]


def fill_table(fills: dict[str, dict[int, tuple[int, float, list[str]]]], sizes: list[int],
               names: list[str], threads: int) -> list[str]:
    lines = [f"### Filling up to N (CreateVpc + CreateSubnet, {threads} threads)", "",
             "| N |" + "".join(f" {name} creates | s | creates/s |" for name in names),
             "|---|" + "---|---|---|" * len(names)]
    for n in sizes:
        row = f"| {fmt_n(n)} |"
        for name in names:
            count, wall, incidents = fills[name][n]
            rate = count / wall if wall else 0.0
            note = f" ({len(incidents)} 5xx)" if incidents else ""
            row += f" {fmt_n(count)} | {wall:.1f} | {fmt_rate(rate)}{note} |"
        lines.append(row)
    lines.append("")
    for name in names:
        seen = [i for n in sizes for i in fills[name][n][2]]
        if seen:
            lines.append(f"* {name} answered {len(seen)} fill creates with a server error "
                         f"(then looked up, and sent again if missing): "
                         f"{sorted(set(seen))[:3]}")
    return [*lines, ""]


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="subnet counts, ascending (default 100,1000,10000)")
    parser.add_argument("--threads", default="1,4", help="client thread counts (default 1,4)")
    parser.add_argument("--describes", type=int, default=300,
                        help="DescribeSubnets calls per cell (default 300)")
    parser.add_argument("--creates", type=int, default=200,
                        help="CreateSubnet calls per cell (default 200)")
    parser.add_argument("--fill-threads", type=int, default=4,
                        help="threads creating the estate (default 4)")
    parser.add_argument("--cell-seconds", type=float, default=20.0,
                        help="stop a cell early after this long (default 20)")
    parser.add_argument("--driver", choices=sorted(DRIVERS), default="raw",
                        help="raw: requests botocore signed beforehand, sent over http.client "
                             "(the default); boto3: boto3 calls, client work included")
    parser.add_argument("--only", choices=["localvpc", "moto"], help="one server only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--durability", choices=("process", "full"), default="process",
                        help="localvpc's --durability (default: the server's default, "
                             "process)")
    parser.add_argument("--logs", type=Path,
                        help="keep the servers' logs and localvpc's state file here")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args(argv)
    sizes = sorted(int(s.replace(",", "").replace("_", "")) for s in args.sizes.split(","))
    thread_counts = [int(t) for t in args.threads.split(",")]
    names = [args.only] if args.only else ["localvpc", "moto"]

    results: dict[str, dict[int, dict[str, Cell]]] = {name: {} for name in names}
    fills: dict[str, dict[int, tuple[int, float, list[str]]]] = {name: {} for name in names}
    estates = {name: Estate() for name in names}
    extra: dict[str, Any] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="localvpc-bench-") as tmp:
        work = args.logs or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        targets: dict[str, Target] = {}
        servers = []
        if "localvpc" in names:
            port = free_port()
            servers.append(serve("localvpc", [
                sys.executable, "-m", "localvpc", "serve", "--port", str(port), "--state",
                str(work / "state.db"), "--durability", args.durability],
                f"http://127.0.0.1:{port}", "/_localvpc/health",
                work / "localvpc.log"))
        if "moto" in names:
            port = free_port()
            servers.append(serve("moto", [
                sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                f"http://127.0.0.1:{port}", "/moto-api/", work / "moto.log"))
        with contextlib_nest(servers) as running:
            targets = {t.name: t for t in running}
            for n in sizes:
                for name in names:
                    target, estate = targets[name], estates[name]
                    log(f"{name}: filling to N={n:,} ...")
                    fills[name][n] = fill(target, estate, n, args.fill_threads)
                    log(f"{name}: N={n:,}: describes ...")
                    cells = describe_cells(target, estate, n, thread_counts, args.describes,
                                           args.seed, args.cell_seconds, args.driver)
                    log(f"{name}: N={n:,}: creates ...")
                    cells.update(create_cells(target, estate, thread_counts, args.creates,
                                              args.cell_seconds, args.driver))
                    results[name][n] = cells
            for name in names:
                log(f"{name}: reachability analysis ...")
                extra[f"reachability/{name}"] = reachability(targets[name], estates[name])
    elapsed = time.perf_counter() - started

    out = [f"## localvpc vs moto: EC2 API on loopback (N up to {fmt_n(sizes[-1])} subnets)",
           "",
           f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
           f"{os.cpu_count()} CPUs; " + ", ".join(f"{k} {v}" for k, v in versions().items())
           + f". Servers and the client share the machine; total run {elapsed:.0f} s.",
           "localvpc commits every write to SQLite before answering (WAL, "
           + ("synchronous=FULL: synced to disk, survives power loss"
              if args.durability == "full" else
              "synchronous=NORMAL, the default: survives kill -9, not power loss")
           + "); moto keeps everything in memory.",
           f"Driver: {DRIVERS[args.driver].name} ({DRIVERS[args.driver].summary}); "
           f"{args.describes} describes and {args.creates} creates per cell, each cell's "
           "calls dealt round-robin to its threads; latencies in ms, measured in the client.",
           ""]
    for key, title in (("create", "CreateSubnet (N = subnets when the cell starts)"),
                       ("vpc-id", "DescribeSubnets, Filters vpc-id = one VPC (10 matches)"),
                       ("subnet-id", "DescribeSubnets, Filters subnet-id = one subnet "
                                     "(1 match)")):
        out += metric_table(title, key, results, sizes, thread_counts, names)
    if len(sizes) > 1:
        out += growth_table(results, sizes, thread_counts, names)
    out += fill_table(fills, sizes, names, args.fill_threads)
    out += ["### Reachability Analyzer on the largest network", ""]
    for name in names:
        r = extra[f"reachability/{name}"]
        if "skipped" in r:
            out.append(f"* {name}: not measured ({r['skipped']}).")
        else:
            first, *again = r["analysis_ms"]
            out.append(f"* {name}: CreateNetworkInsightsPath {r['path_ms']:.1f} ms; "
                       f"StartNetworkInsightsAnalysis until `{r['status']}`: {first:.0f} ms "
                       f"the first time (the network compiled after the last change), then "
                       + ", ".join(f"{ms:.0f} ms" for ms in again)
                       + f" (path found: {r['reachable']}).")
    out.append("")
    if len(names) == 2:
        out += targets_summary(results, sizes, thread_counts)
    print("\n".join(out))
    if args.json:
        raw = {name: {str(n): {k: c.summary() for k, c in cells.items()}
                      for n, cells in per.items()} for name, per in results.items()}
        args.json.write_text(json.dumps({
            "results": raw, "fills": {k: {str(n): v for n, v in f.items()}
                                      for k, f in fills.items()},
            "extra": extra, "versions": versions(), "elapsed_s": elapsed}, indent=1))
    errors = sum(len(c.errors) for per in results.values() for cells in per.values()
                 for c in cells.values())
    return 1 if errors else 0


def targets_summary(results: dict[str, dict[int, dict[str, Cell]]], sizes: list[int],
                    thread_counts: list[int]) -> list[str]:
    """The issue's targets: at least 3x moto's throughput, filtered describes whose cost
    follows the matches rather than the total."""
    lines = ["### Targets", ""]
    for key, label in (("create", "CreateSubnet"), ("vpc-id", "DescribeSubnets vpc-id"),
                       ("subnet-id", "DescribeSubnets subnet-id")):
        ratios = [results["localvpc"][n][f"{key}/{t}"].rate /
                  max(results["moto"][n][f"{key}/{t}"].rate, 1e-9)
                  for n in sizes for t in thread_counts]
        verdict = "met" if min(ratios) >= TARGET_RATIO else "NOT met"
        lines.append(f"* {label}: localvpc/moto throughput {min(ratios):.1f}{X} to "
                     f"{max(ratios):.1f}{X} (target {TARGET_RATIO:g}{X}: {verdict}).")
    for key in ("vpc-id", "subnet-id"):
        lo = results["localvpc"][sizes[0]][f"{key}/1"].percentile(0.5)
        hi = results["localvpc"][sizes[-1]][f"{key}/1"].percentile(0.5)
        grows = sizes[-1] / sizes[0]
        verdict = "follows the matches" if hi / lo < 1.5 else "grows with the total"
        lines.append(f"* DescribeSubnets {key}: localvpc p50 {lo:.2f} ms at "
                     f"{fmt_n(sizes[0])}, {hi:.2f} ms at {fmt_n(sizes[-1])} "
                     f"({hi / lo:.2f}{X} for {grows:,.0f}{X} the subnets: {verdict}).")
    return [*lines, ""]


@contextmanager
def contextlib_nest(managers: list[Any]) -> Iterator[list[Target]]:
    """Enter every server's context; leave them all, whatever happens."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield [stack.enter_context(m) for m in managers]


if __name__ == "__main__":
    sys.exit(main())
