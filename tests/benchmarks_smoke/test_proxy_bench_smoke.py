"""Keeps the proxy benchmark honest at a tiny size: every request through localvpc's
proxy succeeds, the paced run never runs ahead of its rate, and the table says why nginx
is missing when it is (CI installs only pip packages)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.proxy_bench import run, table  # noqa: E402


def test_tiny_run_without_nginx_or_wrk() -> None:
    results = run(duration=0.5, connections=4, rate=200.0, use_nginx=False, use_wrk=False)
    [one] = results["runs"]
    assert one["workers"] == 1
    for label in ("backend", "localvpc"):
        row = one[label]
        assert row["errors"] == 0
        assert row["rps"] > 0
        assert row["tool"] == "python"
        # The pacer sends on a fixed schedule, so it can fall behind a busy machine but
        # never run ahead of 200/s (a lower bound would be a timing assertion).
        assert 0 < row["paced_rps"] <= 210
    assert "nginx" not in one
    rows = [line for line in table(results).splitlines() if line.startswith("| ")]
    assert [r.split(" ")[1] for r in rows] == ["path", "backend", "localvpc"]
    assert "nginx comparison skipped: not requested (--no-nginx)" in table(results)


def test_two_proxy_processes_answer_every_request() -> None:
    results = run(duration=0.5, connections=4, rate=200.0, use_nginx=False, use_wrk=False,
                  rounds=1, workers=(2,))
    [two] = results["runs"]
    assert two["workers"] == 2
    assert two["localvpc"]["errors"] == 0 and two["localvpc"]["rps"] > 0
    assert "| localvpc (python) | 2 |" in table(results)


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (Debian package nginx): no comparison")
def test_tiny_run_with_nginx() -> None:
    results = run(duration=0.5, connections=4, rate=200.0, use_nginx=True, use_wrk=False)
    [one] = results["runs"]
    assert one["nginx"]["errors"] == 0 and one["nginx"]["rps"] > 0
    assert one["ratio"] == one["localvpc"]["rps"] / one["nginx"]["rps"]
    assert "1 process(es) each: localvpc / nginx requests/s" in table(results)
