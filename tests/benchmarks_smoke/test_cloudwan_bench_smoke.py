"""Keeps the Cloud WAN benchmark honest at a tiny size: the generated policy is valid, every
attachment is mapped by its tag, the route count is the sum over every table, and the table
prints one row per size."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.cloudwan_bench import main, make_estate, run  # noqa: E402


def test_tiny_run_maps_everything_and_counts_routes() -> None:
    row = run(40, 3, 6)
    assert row["mapped"] == 40  # tag segment=<existing segment>, no acceptance needed
    assert row["routes"] > 40 * 1  # every attachment's CIDRs are in at least its own tables
    assert row["forwarded"] > 0


def test_estate_generation_is_deterministic() -> None:
    _, a = make_estate(10, ["us-east-1", "eu-west-1"], 4)
    _, b = make_estate(10, ["us-east-1", "eu-west-1"], 4)
    assert [(x.region, x.tags) for x in a] == [(x.region, x.tags) for x in b]


def test_main_prints_a_markdown_row_per_size(capsys: pytest.CaptureFixture[str]) -> None:
    rows = main(["--sizes", "20,30", "--edges", "2", "--segments", "4"])
    out = capsys.readouterr().out
    assert [r["attachments"] for r in rows] == [20, 30]
    assert out.count("\n| 2 | 4 |") == 2
