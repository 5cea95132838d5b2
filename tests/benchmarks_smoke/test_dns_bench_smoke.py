"""Keeps the DNS benchmark honest at a tiny size: the servers it measures answer the zone's
records (and agree with each other when dnsmasq is there), the load tool counts answers,
and the firewall rows come from lookups whose verdicts were all checked."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.dns_bench import (  # noqa: E402
    DomainMatcher,
    agreement,
    firewall_row,
    load_python,
    main,
    names_and_addresses,
    probes,
    start_dnsmasq,
    start_localvpc,
    threat_list,
)


def test_localvpc_alone_small_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code = main(["--records", "50", "--duration", "0.5", "--sizes", "200,2000",
                 "--lookups", "400", "--sample", "20", "--load", "python", "--no-dnsmasq",
                 "--json", str(out)])
    assert code == 0
    results = json.loads(out.read_text())
    qps = results["qps"]
    assert not qps["dnsmasq"] and "--no-dnsmasq" in qps["dnsmasq_note"]
    assert [r["server"] for r in qps["rows"]] == ["localvpc", "localvpc (no answer cache)"]
    assert all(r["answered"] > 0 and r["qps"] > 0 for r in qps["rows"])
    agree = qps["agreement"]
    assert agree["checked"] == 22 and agree["disagreements"] == []
    assert [r["domains"] for r in results["firewall"]] == [200, 2000]
    assert all(r["correct"] and r["lookups"] == 400 for r in results["firewall"])
    table = capsys.readouterr().out
    assert "dnsmasq not measured" in table and "| localvpc |" in table
    assert "| 2,000 |" in table


def test_the_probes_know_their_verdicts() -> None:
    domains = threat_list(500, seed=1)
    assert sum(d.startswith("*.") for d in domains) == 50
    matcher = DomainMatcher(domains)
    checked = probes(domains, 400, seed=2)
    assert {expected for _, expected in checked} == {True, False}
    assert all(matcher.match(n.lower() + ".") == expected for n, expected in checked)


def test_firewall_row_checks_every_verdict() -> None:
    row = firewall_row(300, 200, seed=4)
    assert row.correct and row.errors == [] and row.lookups == 200
    assert row.matcher_mb > 0 and row.match_p50_ns > 0 and row.resolve_p50_us > 0


def test_python_load_generator_counts_answers() -> None:
    records = names_and_addresses(20)
    server = start_localvpc(20, cache=True)
    try:
        load = load_python(server.port, list(records), 0.3, sockets=2, window=4)
    finally:
        server.stop()
    assert load.answered > 0 and load.queries >= load.answered
    assert load.lost <= load.queries - load.answered + 8  # in flight at the deadline


@pytest.mark.skipif(shutil.which("dnsmasq") is None,
                    reason="dnsmasq is not installed (Debian package; CI installs only pip "
                           "packages, so the benchmark measures localvpc alone there)")
def test_dnsmasq_and_localvpc_agree(tmp_path: Path) -> None:
    records = names_and_addresses(40)
    servers = [start_dnsmasq(records, tmp_path), start_localvpc(40, cache=True)]
    try:
        agree = agreement(servers, records, 40, seed=3)
        load = load_python(servers[0].port, list(records), 0.3, sockets=2, window=4)
    finally:
        for server in servers:
            server.stop()
    assert agree["servers"] == ["dnsmasq", "localvpc"]
    assert agree["checked"] == 44 and agree["disagreements"] == []
    assert load.answered > 0
