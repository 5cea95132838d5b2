"""Load and fault tests of ``localvpc serve``: concurrent clients, and ``kill -9`` mid-write.

* 8 boto3 clients, each in its own thread with its own VPC, mix creates, filtered describes,
  deletes, tags and security groups for 8 s against a real server subprocess; then no 5xx,
  and the server holds exactly what the clients believe they created and did not delete;
* the same mix in process, straight into ``Gateway.handle``, for 3 s;
* a writer is ``kill -9``-ed after 300 acknowledged creates: after a restart on the same state
  file every acknowledged subnet is there.

Bounded in time and count (about 20 s in all), loopback only. The server threads switch every
few microseconds instead of every 5 ms, so a data race between requests shows up in seconds.
Clients never retry (``total_max_attempts=1``; ``max_attempts=1`` would still retry once), so
a 5xx cannot be hidden by botocore and a retried create cannot duplicate a resource.
"""

from __future__ import annotations

import ipaddress
import random
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server, free_port, start_server, stop_server
from localvpc.api.protocols.request import HttpRequest
from localvpc.api.server import Gateway, default_registry
from localvpc.api.state import ServerState
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet, Vpc
from localvpc.store import Store

LOAD_SECONDS = 8.0
CLIENTS = 8
ACKED_BEFORE_KILL = 300
SWITCH_INTERVAL = 2e-5
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=30, max_pool_connections=2)


def _client(server: Server, account: str = "AKIDLOCALVPCTEST") -> Any:
    """An EC2 client of its own session (boto3's default session is not thread-safe),
    counting what it actually sends so the test can prove nothing was retried."""
    session = boto3.session.Session()
    client = session.client("ec2", endpoint_url=server.url, region_name="us-east-1",
                            aws_access_key_id=account, aws_secret_access_key="secret",
                            config=NO_RETRIES)
    client.sent = 0

    def count(**_: Any) -> None:
        client.sent += 1

    client.meta.events.register("before-send", count)
    return client


class _ServerLog:
    """The server's stderr, which ``start_server`` writes to a file beside the state, for
    failure messages and the no-traceback check."""

    def __init__(self, server: Server) -> None:
        assert server.log is not None
        self.path = server.log

    @property
    def lines(self) -> list[str]:
        return self.path.read_text(errors="replace").splitlines(keepends=True)

    def text(self) -> str:
        return "".join(self.lines[-200:])


PRELOADED = [f"vpc-{v:017x}" for v in range(2)]


def _preloaded(vpcs: int, subnets_per_vpc: int) -> Network:
    """VPCs ``10.100+v.0.0/16`` of /28 subnets in the test account: large tables make every
    scan of them long, so a thread switch inside one is likely."""
    network = Network()
    for v in range(vpcs):
        vpc = network.add(Vpc(f"vpc-{v:017x}", "000000000000", "us-east-1",
                              cidrs=[ipaddress.ip_network(f"10.{100 + v}.0.0/16")]))
        for i in range(subnets_per_vpc):
            network.add(Subnet(f"subnet-{v:02x}{i:015x}", vpc.account, vpc.region,
                               vpc_id=vpc.id, availability_zone="us-east-1a",
                               cidr=ipaddress.ip_network(
                                   f"10.{100 + v}.{i // 16}.{(i % 16) * 16}/28")))
    return network


def _start_switching(path: Path, interval: float) -> Server:
    """``localvpc serve`` as ``start_server`` runs it, but with the interpreter switching
    threads every ``interval`` seconds instead of every 5 ms: a race between the server's
    threads then shows within seconds instead of once in a while."""
    port = free_port()
    launch = (f"import runpy, sys; sys.setswitchinterval({interval}); "
              "sys.argv[0] = 'localvpc'; runpy.run_module('localvpc', run_name='__main__')")
    log_path = path.with_name(path.name + f".{port}.log")
    with open(log_path, "wb") as log:  # a file, as start_server does: never a full pipe
        proc = subprocess.Popen([sys.executable, "-c", launch, "serve", "--port", str(port),
                                 "--state", str(path)],
                                stdout=subprocess.DEVNULL, stderr=log)
    server = Server(f"http://127.0.0.1:{port}", path, proc, log_path)
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{server.url}/_localvpc/health", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait(timeout=10)
    raise RuntimeError(f"server did not start: {log_path.read_text(errors='replace')}")


@contextmanager
def _serve(path: Path, preload: Network | None = None, switch_interval: float | None = None
           ) -> Iterator[tuple[Server, _ServerLog]]:
    """A server of the test's own on ``path``, which first holds ``preload`` if given."""
    if preload is not None:
        state = ServerState(Store.open(path))
        state.reset(preload)
        state.store.close()
    if switch_interval is None:
        server = start_server(path)
    else:
        server = _start_switching(path, switch_interval)
    drain = _ServerLog(server)
    try:
        yield server, drain
    finally:
        if server.proc.poll() is None:
            stop_server(server)


# ---------------------------------------------------------------------------- (a) load
@dataclass
class _Worker:
    """One client thread: its own client and VPC, and what it believes exists in it."""

    index: int
    client: Any
    vpc_id: str = ""
    subnets: dict[str, str] = field(default_factory=dict)  # id -> CIDR
    groups: set[str] = field(default_factory=set)
    free_cidrs: list[str] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    crash: BaseException | None = None

    def call(self, op: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        self.ops[op] += 1
        try:
            return fn(**kwargs)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = e.response.get("Error", {}).get("Code", "?")
            (self.server_errors if status >= 500 else self.client_errors).append(
                f"{op}: HTTP {status} {code}")
            return None

    def run(self, deadline: float, rng: random.Random) -> None:
        try:
            self._run(deadline, rng)
        except BaseException as e:  # connection errors and the like: reported by the test
            self.crash = e

    def _run(self, deadline: float, rng: random.Random) -> None:
        ec2 = self.client
        out = self.call("CreateVpc", ec2.create_vpc, CidrBlock=f"10.{self.index}.0.0/16")
        assert out is not None, self.server_errors or self.client_errors
        self.vpc_id = out["Vpc"]["VpcId"]
        self.free_cidrs = [f"10.{self.index}.{i}.0/24" for i in range(256)]
        rng.shuffle(self.free_cidrs)
        n_group = 0
        while time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.35 or not self.subnets:
                if not self.free_cidrs:
                    continue
                cidr = self.free_cidrs.pop()
                out = self.call("CreateSubnet", ec2.create_subnet, VpcId=self.vpc_id,
                                CidrBlock=cidr)
                if out is not None:
                    self.subnets[out["Subnet"]["SubnetId"]] = cidr
            elif roll < 0.65:
                if rng.random() < 0.5:
                    out = self.call("DescribeSubnets", ec2.describe_subnets, Filters=[
                        {"Name": "vpc-id", "Values": [self.vpc_id]}])
                    expected = set(self.subnets)
                else:
                    sid = rng.choice(sorted(self.subnets))
                    out = self.call("DescribeSubnets", ec2.describe_subnets, Filters=[
                        {"Name": "subnet-id", "Values": [sid]}])
                    expected = {sid}
                if out is not None:
                    got = [s["SubnetId"] for s in out["Subnets"]]
                    # Only this thread changes its VPC: a read must see exactly its writes.
                    if len(got) != len(set(got)) or set(got) != expected:
                        self.mismatches.append(
                            f"DescribeSubnets: missing {sorted(expected - set(got))}, "
                            f"unexpected {sorted(set(got) - expected)}, {len(got)} rows")
            elif roll < 0.80:
                sid = rng.choice(sorted(self.subnets))
                out = self.call("DeleteSubnet", ec2.delete_subnet, SubnetId=sid)
                if out is not None:
                    self.free_cidrs.append(self.subnets.pop(sid))
            elif roll < 0.92:
                target = rng.choice([self.vpc_id, *sorted(self.subnets)])
                self.call("CreateTags", ec2.create_tags, Resources=[target],
                          Tags=[{"Key": f"k{rng.randrange(4)}", "Value": str(n_group)}])
            else:
                n_group += 1
                out = self.call("CreateSecurityGroup", ec2.create_security_group,
                                GroupName=f"load-{self.index}-{n_group}",
                                Description="load test", VpcId=self.vpc_id)
                if out is not None:
                    self.groups.add(out["GroupId"])


def _all_pages(fn: Callable[..., Any], key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = fn(**kwargs, **({"NextToken": token} if token else {}))
        items += page[key]
        token = page.get("NextToken")
        if not token:
            return items


def test_concurrent_clients_get_no_5xx_and_lose_or_duplicate_nothing(tmp_path: Path) -> None:
    # 2,000 subnets already there make every scan of the table long, and the server switches
    # threads every 20 µs: a handler reading a table another one changes is then caught.
    with _serve(tmp_path / "state.db", _preloaded(2, 1000), SWITCH_INTERVAL) as (server, drain):
        _load(server, drain)


def _load(server: Server, drain: _ServerLog) -> None:
    workers = [_Worker(i, _client(server)) for i in range(CLIENTS)]
    deadline = time.monotonic() + LOAD_SECONDS
    threads = [threading.Thread(target=w.run, args=(deadline, random.Random(i)))
               for i, w in enumerate(workers)]
    for t in threads:  # no warm-up request: the first calls race to make the default VPC
        t.start()
    for t in threads:
        t.join(timeout=LOAD_SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "a client thread hung"

    log = drain.lines
    crashes = [f"client {w.index}: {w.crash!r}" for w in workers if w.crash is not None]
    assert not crashes, "\n".join(crashes) + "\n" + "".join(log[-100:])
    server_errors = [e for w in workers for e in w.server_errors]
    assert not server_errors, f"{len(server_errors)} 5xx: {Counter(server_errors)}\n" + \
        "".join(log[-100:])
    # Every subnet is created in a free CIDR of the client's own VPC: none may fail.
    client_errors = [e for w in workers for e in w.client_errors]
    assert not client_errors, Counter(client_errors)
    mismatches = [m for w in workers for m in w.mismatches]
    assert not mismatches, mismatches[:10]
    calls = sum(sum(w.ops.values()) for w in workers)
    assert sum(w.client.sent for w in workers) == calls, "botocore retried a request"
    assert calls >= 100, f"only {calls} calls in {LOAD_SECONDS} s"

    ec2 = _client(server)
    vpcs = _all_pages(ec2.describe_vpcs, "Vpcs")
    subnets = _all_pages(ec2.describe_subnets, "Subnets", MaxResults=1000)
    defaults = [v["VpcId"] for v in vpcs if v["IsDefault"]]
    assert len(defaults) == 1, f"racing first requests made {len(defaults)} default VPCs"
    assert sorted(v["VpcId"] for v in vpcs if not v["IsDefault"]) == sorted(
        [*(w.vpc_id for w in workers), *PRELOADED])
    assert sum(s["VpcId"] in PRELOADED for s in subnets) == 2000

    mine = {w.vpc_id for w in workers}
    ids = [s["SubnetId"] for s in subnets if s["VpcId"] in mine]
    believed = {sid: w.vpc_id for w in workers for sid in w.subnets}
    assert len(ids) == len(set(ids)), "DescribeSubnets listed a subnet twice"
    assert set(ids) == set(believed), (
        f"lost: {sorted(set(believed) - set(ids))[:10]}, "
        f"extra: {sorted(set(ids) - set(believed))[:10]}")
    by_id = {s["SubnetId"]: s for s in subnets}
    for w in workers:
        for sid, cidr in w.subnets.items():
            assert (by_id[sid]["VpcId"], by_id[sid]["CidrBlock"]) == (w.vpc_id, cidr)

    groups = _all_pages(ec2.describe_security_groups, "SecurityGroups")
    for w in workers:
        in_vpc = [g for g in groups if g.get("VpcId") == w.vpc_id]
        assert sorted(g["GroupId"] for g in in_vpc if g["GroupName"] != "default") == sorted(
            w.groups)
        assert [g["GroupName"] for g in in_vpc].count("default") == 1

    # Every subnet is associated with its VPC's default NACL, and nothing else is.
    acls = _all_pages(ec2.describe_network_acls, "NetworkAcls")
    for w in workers:
        (acl,) = [a for a in acls if a["VpcId"] == w.vpc_id and a["IsDefault"]]
        associated = [a["SubnetId"] for a in acl["Associations"]]
        assert sorted(associated) == sorted(w.subnets)

    # What the server answered is what it has on disk.
    stop_server(server)
    with Store.open(server.state) as store:
        network = store.load_network()
    assert not network.warnings
    stored = {sid for sid, s in network.subnets.items() if s.vpc_id in mine}
    assert stored == set(believed)


# ------------------------------------------------------------- (a') the same, in process
class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def _in_process_client(gateway: Gateway) -> Any:
    """A boto3 EC2 client whose requests go straight to ``gateway.handle`` in the calling
    thread: the server's request path without HTTP, so races are many times likelier."""
    session = boto3.session.Session()
    client = session.client("ec2", endpoint_url="http://localvpc.invalid",
                            region_name="us-east-1", aws_access_key_id="AKIDLOCALVPCTEST",
                            aws_secret_access_key="secret", config=NO_RETRIES)

    def send(request: Any, **_: Any) -> AWSResponse:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        headers = [(k, v.decode() if isinstance(v, bytes) else v)
                   for k, v in request.headers.items()]
        resp = gateway.handle(HttpRequest.build(request.method, request.url, headers, body))
        return AWSResponse(request.url, resp.status, HeadersDict(resp.headers), _Body(resp.body))

    client.meta.events.register("before-send", send)
    return client


def test_reads_racing_writes_in_process_get_no_5xx(tmp_path: Path) -> None:
    """Describes iterate the model's tables while other threads' creates and deletes change
    them; 3,000 subnets make each scan long enough for the scheduler to switch inside it."""
    network = _preloaded(3, 1000)
    state = ServerState(Store.open(tmp_path / "state.db"))
    state.reset(network)
    gateway = Gateway(state, default_registry())
    workers = [_Worker(i, _in_process_client(gateway)) for i in range(6)]
    deadline = time.monotonic() + 3.0
    threads = [threading.Thread(target=w.run, args=(deadline, random.Random(i)))
               for i, w in enumerate(workers)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads every 10 µs, not 5 ms: races show up
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    crashes = [f"client {w.index}: {w.crash!r}" for w in workers if w.crash is not None]
    assert not crashes, crashes
    errors = [e for w in workers for e in w.server_errors]
    assert not errors, f"{len(errors)} 5xx: {Counter(errors).most_common(5)}"
    assert not [m for w in workers for m in w.mismatches]
    assert sum(sum(w.ops.values()) for w in workers) > 50
    defaults = [v for v in state.network.vpcs.values() if v.is_default]
    assert len(defaults) == 1, f"racing first requests made {len(defaults)} default VPCs"
    believed = {sid for w in workers for sid in w.subnets}
    mine = {w.vpc_id for w in workers}
    assert {s.id for s in state.network.subnets.values() if s.vpc_id in mine} == believed
    state.store.close()


# ---------------------------------------------------------------------------- (b) kill -9
def test_acknowledged_creates_survive_kill_9(tmp_path: Path) -> None:
    with _serve(tmp_path / "state.db") as (server, drain):
        _kill_during_writes(server, drain)


def _kill_during_writes(server: Server, drain: _ServerLog) -> None:
    ec2 = _client(server)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    writers = 2
    acked: list[str] = []
    stop = threading.Event()
    failures: list[str] = []

    def writer(k: int) -> None:
        client = _client(server)
        # Each writer has its own /28s in the VPC (4,096 in all, far more than needed).
        for i in range(k, 4096, writers):
            if stop.is_set():
                return
            cidr = f"10.0.{i // 16}.{(i % 16) * 16}/28"
            try:
                out = client.create_subnet(VpcId=vpc_id, CidrBlock=cidr)
            except Exception as e:  # the kill: connection reset or refused
                if not stop.is_set():
                    failures.append(repr(e))
                return
            acked.append(out["Subnet"]["SubnetId"])  # recorded only once acknowledged

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < ACKED_BEFORE_KILL and time.monotonic() < deadline and not failures:
        time.sleep(0.005)
    assert not failures, failures
    assert len(acked) >= ACKED_BEFORE_KILL, f"only {len(acked)} creates in 60 s"
    stop.set()
    server.proc.kill()  # SIGKILL, with the writers' next requests in flight
    server.proc.wait(timeout=10)
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert drain.text().count("Traceback") == 0, drain.text()
    acknowledged = list(acked)
    assert len(acknowledged) == len(set(acknowledged))

    # The store opens cleanly: an intact SQLite file, every row decodable.
    with sqlite3.connect(server.state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store.open(server.state) as store:
        network = store.load_network()
    assert not network.warnings

    again = start_server(server.state)
    try:
        client = _client(again)
        found = _all_pages(client.describe_subnets, "Subnets",
                           Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        ids = [s["SubnetId"] for s in found]
        acls = client.describe_network_acls(Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "default", "Values": ["true"]}])["NetworkAcls"]
    finally:
        stop_server(again)
    missing = set(acknowledged) - set(ids)
    assert not missing, f"{len(missing)} acknowledged subnets lost: {sorted(missing)[:10]}"
    assert len(ids) == len(set(ids))
    # At most the requests in flight at the kill (one per writer) may also have landed.
    assert len(set(ids) - set(acknowledged)) <= writers
    # The subnet and its NACL association were one transaction: both or neither survived.
    (acl,) = acls
    assert sorted(a["SubnetId"] for a in acl["Associations"]) == sorted(ids)
