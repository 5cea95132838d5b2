"""Traffic on the live server: ``POST /_localvpc/traffic`` feeds the flow log subscriptions.

The route plays a traffic spec (docs/traffic-format.md) through the server's compiled
network, builds the records of every flow log in the state (every account and region; the
subscription's resource picks the ENIs or attachments, its format, traffic type and interval
shape the records) and delivers them through ``state.delivery`` to S3, CloudWatch Logs or
Firehose, as AWS would at the end of each aggregation interval. Traces and record building
hold the state lock (the model must not change under them); delivery to S3 and Firehose does
not (their stores have their own locks), CloudWatch Logs does (its events share the model's
database).

It also installs the built-in Firehose transformation ``localvpc-flowlogs-enricher`` (the
seed's tag enricher, ``flowlogs/enricher_lambda.py``), bound to the live network.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import yaml
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from localvpc.flowlogs.enrich import EnrichIndex, enrich_records
from localvpc.flowlogs.enricher_lambda import ENRICHER_NAME, make_enricher
from localvpc.flowlogs.firehose import FirehoseError, LambdaRegistry
from localvpc.flowlogs.format import FlowLogFormatError
from localvpc.flowlogs.live import run_for_subscriptions
from localvpc.flowlogs.publish import PublishError, fields_of
from localvpc.flowlogs.records import Subscription, SubscriptionError
from localvpc.flowlogs.traffic import TrafficSpecError
from localvpc.model.flow_logs import FlowLog
from localvpc.store.logstore import LogStoreError
from localvpc.store.objects import ObjectStoreError

if TYPE_CHECKING:
    from localvpc.api.state import ServerState

log = logging.getLogger("localvpc.traffic")


class TrafficRequestError(ValueError):
    """The request itself is wrong (not the spec): bad ``start``, bad JSON."""


def subscription_of(flow_log: FlowLog) -> Subscription:
    """The collector's view of a flow log: resource, traffic filter, interval, fields."""
    return Subscription(flow_log.resource_id, traffic_type=flow_log.traffic_type or "ALL",
                        interval=flow_log.max_aggregation_interval,
                        fields=tuple(fields_of(flow_log)),
                        resource_type=flow_log.resource_type, flow_log_id=flow_log.id)


def parse_start(value: Any) -> float | None:
    """``start``: Unix seconds, an ISO 8601 time, ``now``, or absent (the spec's)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if text == "now":
        return time.time()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TrafficRequestError(f"start: expected Unix seconds, an ISO 8601 time or "
                                  f"'now', got {text!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


def _spec_sets_start(spec_text: str) -> bool:
    """Does the spec give its own ``start``? (A spec that does not parse is reported by the
    runner, with its line numbers.)"""
    try:
        top = yaml.safe_load(spec_text)
    except yaml.YAMLError:
        return True
    return isinstance(top, dict) and top.get("start") is not None


def run_traffic(state: ServerState, spec_text: str, *, start: float | None = None,
                real_time: bool = False, source: str = "<request>",
                include_records: bool = False) -> dict[str, Any]:
    """Play the spec on the live network and deliver every subscription's records; returns
    the JSON summary the route answers (with each subscription's records as ``items`` when
    ``include_records``). Raises TrafficSpecError for a bad spec."""
    with state.lock:
        flow_logs = sorted(state.network.flow_logs.values(), key=lambda f: f.id)
    subs: list[tuple[FlowLog, Subscription | None, str]] = []
    for fl in flow_logs:
        try:
            subs.append((fl, subscription_of(fl), ""))
        except (SubscriptionError, FlowLogFormatError) as exc:
            subs.append((fl, None, str(exc)))
    usable = [s for _, s, _ in subs if s is not None]
    if start is None and not real_time and not _spec_sets_start(spec_text):
        # On the live server the subscriptions were made just now: traffic without a start
        # of its own happens now too (offline runs keep the spec's reproducible default).
        start = time.time()
    run = run_for_subscriptions(state.plane, spec_text, usable, start=start,
                                real_time=real_time, guard=lambda: state.lock, source=source)
    produced = iter(run.records)
    summary: list[dict[str, Any]] = []
    destinations: dict[str, int] = {}
    failed: list[tuple[FlowLog, str]] = []
    for fl, sub, problem in subs:
        records = next(produced) if sub is not None else []
        entry: dict[str, Any] = {
            "flow_log_id": fl.id, "account": fl.account, "region": fl.region,
            "resource_id": fl.resource_id, "traffic_type": fl.traffic_type,
            "destination_type": fl.destination_type, "destination": fl.destination,
            "records": len(records), "delivered": 0,
            "by_status": _count(records, "log-status"), "by_action": _count(records, "action"),
        }
        if include_records:
            entry["items"] = records
        if problem:
            entry["error"] = problem
        else:
            try:
                entry["delivered"] = _deliver(state, fl, records)
            except (PublishError, FirehoseError, ObjectStoreError, LogStoreError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                entry["error"] = message
                failed.append((fl, message))
            else:
                destinations[fl.destination] = (destinations.get(fl.destination, 0)
                                                + entry["delivered"])
        summary.append(entry)
    if failed:
        _mark_failed(state, failed)
    stats = run.stats
    return {
        "connections": stats.connections, "traced": stats.traced,
        "accepted": stats.accepted, "rejected": stats.rejected, "errors": stats.errors,
        "error_messages": stats.error_messages, "seconds": round(stats.seconds, 3),
        "start": run.start, "end": run.end,
        "subscriptions": summary,
        "destinations": [{"destination": d, "records": n} for d, n in destinations.items()],
    }


def _count(records: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        value = r.get(key)
        if value is not None:
            out[value] = out.get(value, 0) + 1
    return out


def _deliver(state: ServerState, flow_log: FlowLog, records: list[dict[str, Any]]) -> int:
    if flow_log.destination_type == "cloud-watch-logs":
        with state.lock:  # log events live in the model's database
            return state.delivery.publish(flow_log, records)
    return state.delivery.publish(flow_log, records)


def _mark_failed(state: ServerState, failed: list[tuple[FlowLog, str]]) -> None:
    """DescribeFlowLogs shows a failed delivery as ``DeliverLogsStatus=FAILED`` with the
    reason (AWS's wording for each reason is not documented; ours names the problem)."""
    with state.write() as w:
        for fl, message in failed:
            current = state.network.flow_logs.get(fl.id)
            if current is None:
                continue
            current.deliver_logs_status = "FAILED"
            current.deliver_logs_error = message
            w.save(current)


async def traffic_route(request: Request, state: ServerState) -> Response:
    """``POST /_localvpc/traffic``: the body is the YAML spec (``start``, ``real_time`` and
    ``records`` as query parameters), or JSON ``{"spec": "...", "start": ..., ...}``."""
    body = (await request.body()).decode("utf-8", "replace")
    options: dict[str, Any] = dict(request.query_params)
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                doc = json.loads(body)
            except ValueError as exc:
                raise TrafficRequestError(f"the JSON body is not valid: {exc}") from None
            if not isinstance(doc, dict) or not isinstance(doc.get("spec"), str):
                raise TrafficRequestError('a JSON body is {"spec": "<YAML>", "start": ..., '
                                          '"real_time": ...}')
            body = doc["spec"]
            options.update({k: v for k, v in doc.items() if k != "spec"})
        start = parse_start(options.get("start"))
        real_time = str(options.get("real_time", "")).lower() in ("1", "true", "yes")
        source = str(options.get("source") or "<request>")
        include = str(options.get("records", "")).lower() in ("1", "true", "yes")
        result = await run_in_threadpool(run_traffic, state, body, start=start,
                                         real_time=real_time, source=source,
                                         include_records=include)
    except TrafficSpecError as exc:
        return JSONResponse({"error": "InvalidTrafficSpec", "problems": exc.problems},
                            status_code=400)
    except TrafficRequestError as exc:
        return JSONResponse({"error": "InvalidRequest", "problems": [str(exc)]},
                            status_code=400)
    return JSONResponse(result)


# ---------------------------------------------------------------------- built-in Lambda
def install_enricher(state: ServerState) -> None:
    """Register ``localvpc-flowlogs-enricher`` unless ``--lambda`` already gave that name
    a handler of the user's own."""
    if state.lambdas is None:
        state.lambdas = LambdaRegistry()
    if state.lambdas.has(ENRICHER_NAME):
        return

    def enrich(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with state.lock:  # the index and the network it was built from stay in step
            index = state.derived("flowlogs/enrich-index", EnrichIndex.build)
            return enrich_records(records, state.network, index=index)

    def formats(stream_arn: str) -> list[list[str]]:
        with state.lock:
            logs = [f for f in state.network.flow_logs.values()
                    if f.destination_type == "kinesis-data-firehose"
                    and f.destination == stream_arn]
        out = []
        for fl in logs:
            try:
                out.append(fields_of(fl))
            except FlowLogFormatError:
                continue
        return out

    state.lambdas.register(ENRICHER_NAME, make_enricher(enrich, formats))
