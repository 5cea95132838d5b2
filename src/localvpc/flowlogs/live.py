"""Play a traffic spec for a set of flow-log subscriptions: records per subscription.

The runner (``traffic.py``) and the collector (``records.py``) know nothing of who subscribed;
this is the one call a caller with subscriptions makes (the server's ``POST
/_localvpc/traffic``, scripts, tests): parse the spec against the network, play it once, and
answer every subscription from the same observations, so several flow logs on one VPC see
the same traffic.

``guard`` is entered around every use of the compiled network (parsing, tracing, building
records): a live server passes its state lock, so the model cannot change under a trace. In
real time the clock sleeps *outside* the guard, so a long real-time run does not stall the
API between connections.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from localvpc.dataplane.compiled import ForwardingPlane
from localvpc.flowlogs.records import FlowLogCollector, Subscription
from localvpc.flowlogs.traffic import (
    RunStats,
    TrafficRunner,
    TrafficSpec,
    connections,
    parse_traffic_spec,
)

Guard = Callable[[], AbstractContextManager[Any]]


@dataclass(slots=True)
class SubscribedRun:
    """What one run produced: the runner's counts and, per subscription (same order as
    given), its records (dicts keyed by AWS field names)."""

    stats: RunStats
    records: list[list[dict[str, Any]]] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0


def run_for_subscriptions(
    fp: ForwardingPlane | Callable[[], ForwardingPlane],
    spec: TrafficSpec | str,
    subscriptions: Sequence[Subscription],
    *,
    start: float | None = None,
    real_time: bool = False,
    guard: Guard | None = None,
    source: str = "<spec>",
) -> SubscribedRun:
    """Play ``spec`` (a parsed spec or its YAML text) through ``fp`` and build the records
    of every subscription. ``start`` (Unix seconds) replaces the spec's start time;
    ``real_time`` paces connections on the wall clock from now (``start`` is then ignored).

    ``fp`` may be a callable returning the plane, called inside the guard (a live server's
    plane is rebuilt after writes). Raises ``TrafficSpecError`` for a bad spec.
    """
    lock: Guard = guard or contextlib.nullcontext
    with lock():
        plane = fp() if callable(fp) else fp
        parsed = spec if isinstance(spec, TrafficSpec) else parse_traffic_spec(
            spec, plane, source)
        if start is not None:
            parsed.start = start
        collector = FlowLogCollector(plane)
        runner = TrafficRunner(plane, collector)
        if not real_time:
            stats = runner.run(parsed)
    if real_time:
        stats = _play_real_time(runner, parsed, lock)
    run = SubscribedRun(stats)
    with lock():
        for sub in subscriptions:
            run.records.append(list(collector.records(sub)))
    run.start = collector.span.start or parsed.start
    run.end = collector.span.end or parsed.start + parsed.duration
    return run


def _play_real_time(runner: TrafficRunner, spec: TrafficSpec, lock: Guard) -> RunStats:
    """``TrafficRunner.run(real_time=True)`` with the guard held per connection only."""
    stats = RunStats()
    began = time.perf_counter()
    offset = time.time() - spec.start
    runner.collector.span.cover(spec.start + offset, spec.start + offset + spec.duration)
    for c in connections(spec):
        c.time += offset
        delay = c.time - time.time()
        if delay > 0:
            time.sleep(delay)
        with lock():
            runner.play(c, stats)
    stats.traced = runner.traced
    stats.seconds = time.perf_counter() - began
    return stats
