"""Keeps the Network Access Analyzer benchmark honest at its smallest size: the engine and
the naive peer find the same (source, destination) pairs, and the table has its columns."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.access_analyzer_bench import COLUMNS, Limits, main, run  # noqa: E402

UNCAPPED = Limits(max_ends=10**6, max_traces=10**8, max_findings=10**8,
                  max_flows_per_pair=10**6)


def test_engine_and_naive_find_the_same_pairs_with_every_port_tried() -> None:
    rows = run(100, naive=True, limits=UNCAPPED)
    assert [r["scope"] for r in rows] == ["IGW -> ENI", "VPC A -> VPC B"]
    for row in rows:
        assert row["findings"] > 0  # both scopes have paths to find in this network
        assert row["same pairs"] is True, (row["missed"], row["extra"])
        assert row["findings"] == row["naive findings"]


def test_engine_with_default_limits_finds_every_pair_the_naive_peer_finds() -> None:
    """The per-pair port cap once kept the first 6 ports in rule order and missed a web
    server's 443 behind 40 rules; the ports both ends' groups allow now come first."""
    rows = run(100, naive=True, limits=Limits(max_ends=10**6, max_traces=10**8,
                                              max_findings=10**8))
    assert all(r["same pairs"] is True for r in rows)


def test_table_has_the_expected_columns(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--sizes", "100", "--flows-per-pair", "1000000"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert "speed-up" in COLUMNS and "same pairs" in COLUMNS
    rows = [ln for ln in lines[2:] if ln.startswith("| ")]
    assert len(rows) == 2 and all(ln.endswith("| yes |") for ln in rows)
