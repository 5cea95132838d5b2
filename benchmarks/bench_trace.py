"""pytest-benchmark micro-benchmarks: one trace on the engine and on the naive evaluator.

Not part of the test suite (``testpaths`` is ``tests``, and this file's name does not match
``test_*.py``). Run it explicitly::

    pytest benchmarks/bench_trace.py --benchmark-only -p no:cacheprovider

Small and medium sizes only; ``python benchmarks/run.py`` covers the large one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.generate import SIZES, FlowCase, generate_network, sample_flows
from benchmarks.naive import NaiveEvaluator
from localvpc.dataplane import ForwardingPlane, Tracer, compile_network
from localvpc.model.network import Network

BENCH_SIZES = ("small", "medium")


@dataclass
class Setup:
    network: Network
    fp: ForwardingPlane
    tracer: Tracer
    naive: NaiveEvaluator
    case: FlowCase  # a cross-VPC flow through the transit gateway that is accepted


def _accepted_through_tgw(tracer: Tracer, case: FlowCase) -> bool:
    trace = tracer.trace(case.node, case.flow)[0]
    return trace.disposition.value == "ACCEPTED" and any(
        h.type == "transit-gateway" for h in trace.hops)


@pytest.fixture(scope="module", params=BENCH_SIZES)
def setup(request: pytest.FixtureRequest) -> Setup:
    network = generate_network(*SIZES[request.param])
    fp = compile_network(network)
    tracer = Tracer(fp)
    naive = NaiveEvaluator(network)
    cases = sample_flows(network, 200, seed=7, categories=((1.0, "cross-vpc"),))
    case = next(c for c in cases if _accepted_through_tgw(tracer, c))
    assert naive.disposition(case.node, case.flow) == "ACCEPTED"
    return Setup(network, fp, tracer, naive, case)


def test_engine_trace(benchmark: BenchmarkFixture, setup: Setup) -> None:
    case = setup.case
    traces = benchmark(setup.tracer.trace, case.node, case.flow)
    assert traces[0].disposition.value == "ACCEPTED"


def test_naive_trace(benchmark: BenchmarkFixture, setup: Setup) -> None:
    case = setup.case
    verdict = benchmark(setup.naive.disposition, case.node, case.flow)
    assert verdict == "ACCEPTED"


def test_compile(benchmark: BenchmarkFixture, setup: Setup) -> None:
    fp = benchmark.pedantic(  # type: ignore[no-untyped-call]
        compile_network, args=(setup.network,), rounds=3, iterations=1)
    assert len(fp.devices) == len(setup.network.network_interfaces)
