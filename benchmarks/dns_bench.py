"""Benchmark: localvpc's DNS server and DNS Firewall (issue 5, item 5).

1. Queries per second over UDP on loopback: localvpc's server (``localvpc.dns.server``, the
   listener ``localvpc serve`` opens for a VPC resolver, run here in a child process on a
   model holding one public hosted zone) against dnsmasq serving the same names from a
   hosts file, both asked the same names by the same load tool: dnsperf when installed,
   else a bounded Python load generator (dnspython-built packets, several UDP sockets on
   threads, a fixed window of queries in flight per socket). Before the load, both servers
   are asked a sample of names (and names that do not exist) and must agree. Without
   dnsmasq (CI installs only pip packages) only localvpc is measured, and the report says
   so. localvpc is measured twice: as it runs (an answer cache per model generation) and
   with the cache off, so every query is resolved.
2. DNS Firewall: domain lists of 1,000 / 100,000 / 1,000,000 names (10% wildcards):
   memory of the list and of the compiled matcher (tracemalloc), peak RSS, and per-query
   lookup time (p50/p99) of the matcher alone and of a whole resolution through a BLOCK
   rule; every listed name must be blocked and every other one answered.

Prints Markdown tables; ``--json FILE`` also writes the raw numbers.
Usage: python benchmarks/dns_bench.py [--records N] [--duration S] [--sizes 1000,100000]
[--load auto|dnsperf|python] [--no-dnsmasq] [--json FILE]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import pwd
import random
import re
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from localvpc.dns.firewall import DomainMatcher  # noqa: E402
from localvpc.dns.names import fqdn  # noqa: E402
from localvpc.dns.resolver import Resolver  # noqa: E402
from localvpc.dns.source import StaticSource  # noqa: E402
from localvpc.model.base import parse_cidr  # noqa: E402
from localvpc.model.dns import (  # noqa: E402
    FirewallDomainList,
    FirewallRule,
    FirewallRuleGroup,
    FirewallRuleGroupAssociation,
    HostedZone,
    ResourceRecordSet,
)
from localvpc.model.network import Network  # noqa: E402
from localvpc.model.vpc import Vpc  # noqa: E402

ZONE = "bench.example"
VPC_ID = "vpc-0be0c4000000000001"
SOA = "ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
TARGET_RATIO = 0.3  # localvpc qps / dnsmasq qps
TARGET_MB = 500  # 1,000,000 listed domains
TARGET_GROWTH = 2.0  # p50 at the largest list over p50 at the smallest


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the records
def names_and_addresses(records: int) -> dict[str, str]:
    """``host<i>.bench.example`` -> an address in 198.18.0.0/15 (RFC 2544, benchmarking)."""
    base = int(ipaddress.IPv4Address("198.18.0.0"))
    return {f"host{i}.{ZONE}": str(ipaddress.IPv4Address(base + 1 + i))
            for i in range(records)}


def zone_network(records: dict[str, str]) -> Network:
    """One VPC and one public hosted zone holding ``records``: what the VPC's resolver
    answers from public recursion, as for any name on the emulated internet."""
    net = Network()
    net.add(Vpc(VPC_ID, cidrs=[parse_cidr("10.0.0.0/16")], enable_dns_hostnames=True))
    apex = fqdn(ZONE)
    zone = HostedZone("ZBENCH0000000001", zone_name=apex, private=False)
    zone.records.append(ResourceRecordSet(apex, "SOA", 900, [SOA]))
    zone.records.append(ResourceRecordSet(apex, "NS", 172800, ["ns-1.awsdns-01.org."]))
    for name, address in records.items():
        zone.records.append(ResourceRecordSet(fqdn(name), "A", 300, [address]))
    net.add(zone)
    return net


def serve_localvpc(records: int, cache: bool) -> None:
    """Child process: serve the zone on a free loopback port, print it, run until killed."""
    from localvpc.dns.server import DnsServer

    source = StaticSource(zone_network(names_and_addresses(records)))
    server = DnsServer(source, cache_size=65536 if cache else 0).start()
    print(f"PORT {server.port_of('vpc', VPC_ID)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


# ------------------------------------------------------------------ the servers
@dataclass
class Running:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    version: str = ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_localvpc(records: int, cache: bool) -> Running:
    args = [sys.executable, str(Path(__file__).resolve()), "--serve-localvpc",
            "--records", str(records)] + ([] if cache else ["--no-cache"])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError("the localvpc DNS server did not start")
    return Running("localvpc" + ("" if cache else " (no answer cache)"),
                   int(line.split()[1]), proc)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return int(udp.getsockname()[1])


def start_dnsmasq(records: dict[str, str], workdir: Path) -> Running:
    """dnsmasq in the foreground on a loopback port: the names from a hosts file, nothing
    forwarded, NXDOMAIN for other names in the zone, no daemon, no pid file."""
    hosts = workdir / "bench.hosts"
    hosts.write_text("".join(f"{ip} {name}\n" for name, ip in records.items()))
    version = subprocess.run(["dnsmasq", "--version"], capture_output=True, text=True,
                             timeout=10).stdout.split("\n")[0]
    for _ in range(5):
        port = free_port()
        err = (workdir / "dnsmasq.err").open("wb")
        proc = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
             "--no-hosts", f"--addn-hosts={hosts}", f"--local=/{ZONE}/",
             "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}",
             "--pid-file=", "--cache-size=10000", "--log-facility=-",
             f"--user={pwd.getpwuid(os.getuid()).pw_name}"],  # keeps access to the file
            stdout=subprocess.DEVNULL, stderr=err)
        running = Running("dnsmasq", port, proc, version.replace("Dnsmasq version", "").split(
            "Copyright")[0].strip())
        first = next(iter(records))
        if _answers(port, first, records[first]):
            return running
        running.stop()
    raise RuntimeError(f"dnsmasq did not start: {(workdir / 'dnsmasq.err').read_text()}")


def _answers(port: int, name: str, address: str, timeout: float = 5.0) -> bool:
    """The server is up and has read its records."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ask(port, name, timeout=0.3) == ("NOERROR", [address]):
                return True
        except (OSError, dns.exception.Timeout):
            pass
        time.sleep(0.1)
    return False


def ask(port: int, name: str, timeout: float = 2.0) -> tuple[str, list[str]]:
    q = dns.message.make_query(name, dns.rdatatype.A)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    values = sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.A
                    for rd in rrset)
    return dns.rcode.to_text(r.rcode()), values


def agreement(servers: list[Running], records: dict[str, str], sample: int, seed: int
              ) -> dict[str, Any]:
    """Every server's answer to a sample of names and to names that do not exist,
    compared with the records (so a lone localvpc is checked too)."""
    rng = random.Random(seed)
    names = rng.sample(sorted(records), min(sample, len(records)))
    missing = [f"absent{i}.{ZONE}" for i in range(max(2, sample // 10))]
    wrong: list[str] = []
    for server in servers:
        for name in names:
            got = ask(server.port, name)
            if got != ("NOERROR", [records[name]]):
                wrong.append(f"{server.name}: {name} -> {got}")
        for name in missing:
            got = ask(server.port, name)
            if got[0] != "NXDOMAIN":
                wrong.append(f"{server.name}: {name} -> {got}")
    return {"checked": len(names) + len(missing), "servers": [s.name for s in servers],
            "disagreements": wrong}


# ------------------------------------------------------------------ load
@dataclass
class Load:
    tool: str
    queries: int = 0
    answered: int = 0
    lost: int = 0
    seconds: float = 0.0

    @property
    def qps(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def load_dnsperf(port: int, names: list[str], duration: float, workdir: Path) -> Load:
    data = workdir / "dnsperf.txt"
    data.write_text("".join(f"{n} A\n" for n in names))
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(data),
                          "-l", str(duration), "-c", "4", "-T", "1", "-q", "200", "-t", "2"],
                         capture_output=True, text=True, timeout=duration + 60)
    text = out.stdout

    def number(label: str) -> float:
        m = re.search(rf"{label}:\s+([0-9.]+)", text)
        if m is None:
            raise RuntimeError(f"dnsperf printed no '{label}': {text}{out.stderr}")
        return float(m.group(1))

    sent, done = int(number("Queries sent")), int(number("Queries completed"))
    return Load("dnsperf", sent, done, int(number("Queries lost")), number("Run time \\(s\\)"))


def load_python(port: int, names: list[str], duration: float, sockets: int = 4,
                window: int = 32, timeout: float = 1.0) -> Load:
    """Closed loop: each socket (one thread each) keeps ``window`` queries in flight,
    sends a new one per answer, and counts a query lost after ``timeout``. Bounded by
    ``duration``."""
    wires = [dns.message.make_query(n, dns.rdatatype.A).to_wire() for n in names]
    totals = Load(f"python ({sockets} sockets x {window} in flight)")
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration

    def worker(offset: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(("127.0.0.1", port))
        sock.settimeout(0.05)
        pending: dict[int, float] = {}
        sent = answered = lost = 0
        qid = offset * 16384
        i = offset
        try:
            while True:
                now = time.perf_counter()
                if now >= deadline:
                    break
                while len(pending) < window:
                    qid = (qid + 1) & 0xFFFF
                    if qid in pending:
                        break
                    wire = wires[i % len(wires)]
                    i += 1
                    sock.send(struct.pack("!H", qid) + wire[2:])
                    pending[qid] = now
                    sent += 1
                try:
                    reply = sock.recv(4096)
                except TimeoutError:
                    stale = [k for k, t in pending.items() if now - t > timeout]
                    for k in stale:
                        del pending[k]
                    lost += len(stale)
                    continue
                if pending.pop(struct.unpack("!H", reply[:2])[0], None) is not None:
                    answered += 1
        finally:
            sock.close()
        with lock:
            totals.queries += sent
            totals.answered += answered
            totals.lost += lost + len(pending)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(sockets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    totals.seconds = time.perf_counter() - start
    return totals


def measure(server: Running, names: list[str], duration: float, tool: str,
            workdir: Path) -> Load:
    log(f"load: {server.name} for {duration:g} s with {tool}")
    if tool == "dnsperf":
        return load_dnsperf(server.port, names, duration, workdir)
    return load_python(server.port, names, duration)


# ------------------------------------------------------------------ the firewall
@dataclass
class FirewallRow:
    domains: int
    list_mb: float
    matcher_mb: float
    peak_rss_mb: float
    build_s: float
    match_p50_ns: float
    match_p99_ns: float
    resolve_p50_us: float
    resolve_p99_us: float
    lookups: int
    correct: bool
    errors: list[str] = field(default_factory=list)


def threat_list(size: int, seed: int) -> list[str]:
    """``size`` names as a threat feed has them: 90% exact, 10% ``*.`` wildcards."""
    rng = random.Random(seed)
    out = []
    for i in range(size):
        word = f"{rng.getrandbits(40):010x}"
        if i % 10 == 9:
            out.append(f"*.w{i}-{word}.bad{i % 89}.example")
        else:
            out.append(f"d{i}-{word}.threat{i % 997}.example")
    return out


def probes(domains: list[str], count: int, seed: int) -> list[tuple[str, bool]]:
    """Queries with the expected verdict: listed names, names under listed wildcards, a
    wildcard's own parent (not matched) and names nobody listed."""
    rng = random.Random(seed)
    out: list[tuple[str, bool]] = []
    for k in range(count):
        d = domains[rng.randrange(len(domains))]
        kind = k % 4
        if kind == 0:
            out.append((f"clean{k}.threat{k % 997}.example", False))
        elif d.startswith("*."):
            out.append((f"x{k}.{d[2:]}", True) if kind != 3 else (d[2:], False))
        else:
            out.append((d, True) if kind != 3 else (f"sub.{d}", False))
    return out


def firewall_network(domains: list[str]) -> tuple[Network, FirewallDomainList]:
    net = zone_network({})
    # every name under example. exists: an unlisted name answers NOERROR with this address
    wild = HostedZone("ZBENCH0000000002", zone_name="example.", private=False)
    wild.records.append(ResourceRecordSet("example.", "SOA", 900, [SOA]))
    wild.records.append(ResourceRecordSet("*.example.", "A", 60, ["192.0.2.1"]))
    net.add(wild)
    lst = FirewallDomainList("rslvr-fdl-bench00000001", domains=domains)
    net.add(lst)
    rule = FirewallRule(lst.id, 1, "BLOCK", rule_name="threats", block_response="NXDOMAIN")
    net.add(FirewallRuleGroup("rslvr-frg-bench00000001", rules=[rule]))
    net.add(FirewallRuleGroupAssociation("rslvr-frgassoc-bench0001",
                                         firewall_rule_group_id="rslvr-frg-bench00000001",
                                         vpc_id=VPC_ID, priority=101))
    return net, lst


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def firewall_row(size: int, lookups: int, seed: int) -> FirewallRow:
    """First the server's own state (the model's list, the resolver's compiled matcher) and
    its peak RSS; then timings on it; then, apart, tracemalloc's count of the list's and
    the matcher's bytes (tracemalloc's own bookkeeping would inflate the RSS)."""
    log(f"firewall: {size:,} domains")
    domains = threat_list(size, seed)
    net, lst = firewall_network(domains)
    resolver = Resolver(StaticSource(net))
    t0 = time.perf_counter()
    origin = resolver.origin_vpc(VPC_ID)  # builds the index: compiles the list once
    resolver.resolve(origin, "warm.example")
    build_s = time.perf_counter() - t0
    matcher = resolver.index().matchers[lst.id]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queries = probes(domains, lookups, seed + 1)
    errors: list[str] = []
    match_ns: list[float] = []
    clock = time.perf_counter_ns
    for name, expected in queries:
        q = fqdn(name)
        t = clock()
        got = matcher.match(q)
        match_ns.append(clock() - t)
        if got != expected:
            errors.append(f"match {name}: {got}, expected {expected}")
    resolve_us: list[float] = []
    for name, expected in queries[: max(1, lookups // 4)]:
        t = clock()
        answer = resolver.resolve(origin, name)
        resolve_us.append((clock() - t) / 1000)
        blocked = answer.rcode == "NXDOMAIN"
        if blocked != expected or (not expected and answer.values("A") != ["192.0.2.1"]):
            errors.append(f"resolve {name}: {answer.rcode} {answer.values()}")
    del net, lst, resolver, matcher, domains
    tracemalloc.start()
    fresh = threat_list(size, seed)
    list_bytes = tracemalloc.get_traced_memory()[0]
    compiled = DomainMatcher(fresh)
    matcher_bytes = tracemalloc.get_traced_memory()[0] - list_bytes
    tracemalloc.stop()
    del compiled, fresh
    return FirewallRow(size, list_bytes / 2**20, matcher_bytes / 2**20, peak, build_s,
                       statistics.median(match_ns), percentile(match_ns, 0.99),
                       statistics.median(resolve_us), percentile(resolve_us, 0.99),
                       len(queries), not errors, errors[:5])


def firewall_child(size: int, lookups: int, seed: int) -> None:
    """One size in a fresh process, so peak RSS belongs to that size alone."""
    print(json.dumps(asdict(firewall_row(size, lookups, seed))), flush=True)


def run_firewall(size: int, lookups: int, seed: int) -> FirewallRow:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--firewall-child",
                          str(size), "--lookups", str(lookups), "--seed", str(seed)],
                         capture_output=True, text=True, timeout=3600,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    if out.returncode != 0:
        raise RuntimeError(f"firewall benchmark for {size} failed: {out.stderr}")
    return FirewallRow(**json.loads(out.stdout.strip().splitlines()[-1]))


# ------------------------------------------------------------------ report
def report(results: dict[str, Any]) -> str:
    lines: list[str] = []
    q = results["qps"]
    lines.append(f"#### Queries per second (UDP on loopback, {q['records']:,} names, "
                 f"{q['duration']:g} s each, load: {q['tool']})")
    lines.append("")
    if not q["dnsmasq"]:
        lines.append(f"dnsmasq not measured: {q['dnsmasq_note']}. Only localvpc is measured.")
        lines.append("")
    lines.append("| server | answered qps | queries | lost | vs dnsmasq |")
    lines.append("|---|---|---|---|---|")
    base = next((r["qps"] for r in q["rows"] if r["server"].startswith("dnsmasq")), None)
    for r in q["rows"]:
        ratio = f"{r['qps'] / base:.2f}x" if base else "n/a"
        lines.append(f"| {r['server']} | {r['qps']:,.0f} | {r['queries']:,} | {r['lost']:,} "
                     f"| {ratio} |")
    agree = q["agreement"]
    lines.append("")
    lines.append(f"Answers checked before the load: {agree['checked']} names per server "
                 f"({', '.join(agree['servers'])}), "
                 f"{len(agree['disagreements'])} disagreements with the records.")
    lines.append("")
    lines.append("#### DNS Firewall lookups (one BLOCK rule, 10% wildcards)")
    lines.append("")
    lines.append("| listed domains | list MB | matcher MB | peak RSS MB | build s | match "
                 "p50 / p99 ns | resolve p50 / p99 µs | verdicts |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in results["firewall"]:
        lines.append(f"| {r['domains']:,} | {r['list_mb']:.1f} | {r['matcher_mb']:.1f} | "
                     f"{r['peak_rss_mb']:.0f} | {r['build_s']:.2f} | {r['match_p50_ns']:,.0f}"
                     f" / {r['match_p99_ns']:,.0f} | {r['resolve_p50_us']:.1f} / "
                     f"{r['resolve_p99_us']:.1f} | "
                     f"{'all correct' if r['correct'] else 'WRONG'} ({r['lookups']:,}) |")
    lines.append("")
    lines.append("Targets: " + "; ".join(f"{t['target']}: {t['result']}"
                                         for t in results["targets"]))
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    rows = {r["server"]: r["qps"] for r in results["qps"]["rows"]}
    dnsmasq = next((v for k, v in rows.items() if k.startswith("dnsmasq")), None)
    if dnsmasq:
        ratio = rows["localvpc"] / dnsmasq
        out.append({"target": f">= {TARGET_RATIO}x dnsmasq's qps",
                    "result": f"{ratio:.2f}x, {'met' if ratio >= TARGET_RATIO else 'MISSED'}"})
    else:
        out.append({"target": f">= {TARGET_RATIO}x dnsmasq's qps",
                    "result": "not measured (no dnsmasq)"})
    fw = results["firewall"]
    if len(fw) >= 2:
        growth = fw[-1]["match_p50_ns"] / fw[0]["match_p50_ns"]
        out.append({"target": "lookup cost independent of list size",
                    "result": f"p50 x{growth:.2f} from {fw[0]['domains']:,} to "
                              f"{fw[-1]['domains']:,}, "
                              f"{'met' if growth <= TARGET_GROWTH else 'MISSED'}"})
    big = [r for r in fw if r["domains"] >= 1_000_000]
    if big:
        mb = big[0]["peak_rss_mb"]
        out.append({"target": f"1,000,000 domains under {TARGET_MB} MB",
                    "result": f"{mb:.0f} MB peak RSS, {'met' if mb < TARGET_MB else 'MISSED'}"})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1000, help="names in the zone")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds of load per server")
    ap.add_argument("--sizes", default="1000,100000,1000000",
                    help="firewall list sizes, comma-separated")
    ap.add_argument("--lookups", type=int, default=20000, help="firewall queries per size")
    ap.add_argument("--load", choices=("auto", "dnsperf", "python"), default="auto")
    ap.add_argument("--no-dnsmasq", action="store_true", help="measure localvpc only")
    ap.add_argument("--sample", type=int, default=200, help="names checked for agreement")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--json", help="also write the raw numbers here")
    ap.add_argument("--serve-localvpc", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-cache", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--firewall-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_localvpc:
        serve_localvpc(args.records, cache=not args.no_cache)
        return 0
    if args.firewall_child is not None:
        firewall_child(args.firewall_child, args.lookups, args.seed)
        return 0

    tool = args.load
    if tool == "auto":
        tool = "dnsperf" if shutil.which("dnsperf") else "python"
    elif tool == "dnsperf" and not shutil.which("dnsperf"):
        ap.error("dnsperf is not installed")
    records = names_and_addresses(args.records)
    names = list(records)
    random.Random(args.seed).shuffle(names)
    note = ("--no-dnsmasq given" if args.no_dnsmasq else
            "dnsmasq is not installed (apt-get install dnsmasq)"
            if not shutil.which("dnsmasq") else "")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dns-bench-") as tmp:
        workdir = Path(tmp)
        servers: list[Running] = []
        try:
            if not note:
                servers.append(start_dnsmasq(records, workdir))
            servers.append(start_localvpc(args.records, cache=True))
            servers.append(start_localvpc(args.records, cache=False))
            agree = agreement(servers, records, args.sample, args.seed)
            for server in servers:
                load = measure(server, names, args.duration, tool, workdir)
                label = (f"dnsmasq {server.version}" if server.name == "dnsmasq"
                         else server.name)
                rows.append({"server": label, "qps": load.qps, "queries": load.queries,
                             "answered": load.answered, "lost": load.lost,
                             "seconds": load.seconds})
        finally:
            for server in servers:
                server.stop()
    results: dict[str, Any] = {
        "qps": {"records": args.records, "duration": args.duration,
                "tool": tool if tool == "dnsperf" else "python load generator",
                "dnsmasq": not note, "dnsmasq_note": note, "rows": rows, "agreement": agree},
        "firewall": [asdict(run_firewall(int(s), args.lookups, args.seed))
                     for s in args.sizes.split(",") if s.strip()],
    }
    results["targets"] = targets(results)
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    wrong = agree["disagreements"] or any(not r["correct"] for r in results["firewall"])
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
