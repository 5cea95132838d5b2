"""CloudWatch Logs: log groups, streams and events (the flow-log ``cloud-watch-logs`` path).

Events live in the SQL store (``store/logstore.py``), where the flow-log publisher writes
too, so ``FilterLogEvents``/``GetLogEvents`` read what a flow log delivered.
"""

from __future__ import annotations

import base64
import itertools
import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.logs_patterns import PatternError, compile_pattern
from localvpc.api.registry import Provider
from localvpc.store.logstore import LogEvent, LogStore, LogStoreError, now_ms

_GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]+$")
_RETENTION = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
              2192, 2557, 2922, 3288, 3653)
DAY_MS = 86_400_000


def _err(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, status=400)


def _token(*parts: Any) -> str:
    return base64.urlsafe_b64encode("/".join(str(p) for p in parts).encode()).decode()


def _untoken(token: str) -> list[str]:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode().split("/")
    except (ValueError, UnicodeDecodeError):
        raise _err("InvalidParameterException", "The specified nextToken is not "
                   "valid.") from None


class LogsProvider(Provider):
    service = "logs"

    @staticmethod
    def _logs(ctx: RequestContext) -> LogStore:
        return ctx.state.delivery.logs

    def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LogStoreError as e:
            raise _err(e.code, e.message) from None

    def _arn(self, ctx: RequestContext, group: str) -> str:
        return f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{group}"

    @staticmethod
    def _group_param(params: dict[str, Any]) -> str:
        """``logGroupName`` or ``logGroupIdentifier`` (a name or an ARN)."""
        name = params.get("logGroupName")
        ident = params.get("logGroupIdentifier")
        if name and ident:
            raise _err("InvalidParameterException", "LogGroup name and LogGroup ARN are "
                       "mutually exclusive parameters.")
        value = name or ident
        if not value:
            raise _err("InvalidParameterException", "Should provide either name or "
                       "ARN of the log group.")
        if value.startswith("arn:"):
            value = value.split(":log-group:", 1)[-1].removesuffix(":*")
        return str(value)

    # ------------------------------------------------------------------ groups
    def CreateLogGroup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["logGroupName"]
        if not _GROUP_NAME.match(name):
            raise _err("InvalidParameterException", f"1 validation error detected: Value "
                       f"'{name}' at 'logGroupName' failed to satisfy constraint: Member must "
                       "satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")
        self._run(self._logs(ctx).create_group, ctx.account, ctx.region, name,
                  kms_key=params.get("kmsKeyId"),
                  log_class=params.get("logGroupClass") or "STANDARD")
        return {}

    def DescribeLogGroups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("logGroupNamePrefix") or ""
        pattern = params.get("logGroupNamePattern") or ""
        if prefix and pattern:
            raise _err("InvalidParameterException", "LogGroup name prefix and LogGroup name "
                       "pattern are mutually exclusive parameters.")
        groups = self._logs(ctx).groups(ctx.account, ctx.region, prefix, pattern)
        wanted = params.get("logGroupIdentifiers")
        if wanted:
            names = {w.split(":log-group:", 1)[-1].removesuffix(":*") for w in wanted}
            groups = [g for g in groups if g.name in names]
        if params.get("logGroupClass"):
            groups = [g for g in groups if g.log_class == params["logGroupClass"]]
        if params.get("nextToken"):
            after = _untoken(params["nextToken"])[0]
            groups = [g for g in groups if g.name > after]
        limit = params.get("limit") or 50
        page, more = groups[:limit], len(groups) > limit
        out: dict[str, Any] = {"logGroups": [{
            "logGroupName": g.name, "creationTime": g.created,
            "retentionInDays": g.retention, "metricFilterCount": 0,
            "arn": self._arn(ctx, g.name) + ":*", "logGroupArn": self._arn(ctx, g.name),
            "storedBytes": g.stored_bytes, "kmsKeyId": g.kms_key,
            "logGroupClass": g.log_class} for g in page]}
        if more:
            out["nextToken"] = _token(page[-1].name)
        return out

    def DeleteLogGroup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._run(self._logs(ctx).delete_group, ctx.account, ctx.region, params["logGroupName"])
        return {}

    def PutRetentionPolicy(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        days = params["retentionInDays"]
        if days not in _RETENTION:
            raise _err("InvalidParameterException", f"1 validation error detected: Value "
                       f"'{days}' at 'retentionInDays' failed to satisfy constraint: Member "
                       f"must satisfy enum value set: {list(_RETENTION)}")
        self._run(self._logs(ctx).set_retention, ctx.account, ctx.region,
                  params["logGroupName"], days)
        return {}

    def DeleteRetentionPolicy(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        self._run(self._logs(ctx).set_retention, ctx.account, ctx.region,
                  params["logGroupName"], None)
        return {}

    # ------------------------------------------------------------------ streams
    def CreateLogStream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["logStreamName"]
        if ":" in name or "*" in name:
            raise _err("InvalidParameterException", f"1 validation error detected: Value "
                       f"'{name}' at 'logStreamName' failed to satisfy constraint: Member must "
                       "satisfy regular expression pattern: [^:*]*")
        self._run(self._logs(ctx).create_stream, ctx.account, ctx.region,
                  params["logGroupName"], name)
        return {}

    def DeleteLogStream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._run(self._logs(ctx).delete_stream, ctx.account, ctx.region,
                  params["logGroupName"], params["logStreamName"])
        return {}

    def DescribeLogStreams(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        group = self._group_param(params)
        logs = self._logs(ctx)
        self._run(logs.require_group, ctx.account, ctx.region, group)
        order = params.get("orderBy") or "LogStreamName"
        prefix = params.get("logStreamNamePrefix") or ""
        if prefix and order == "LastEventTime":
            raise _err("InvalidParameterException", "Cannot order by LastEventTime with a "
                       "logStreamNamePrefix.")
        streams = logs.streams(ctx.account, ctx.region, group, prefix)
        if order == "LastEventTime":
            streams.sort(key=lambda s: (s.last_event or 0, s.name))
        if params.get("descending"):
            streams.reverse()
        start = 0
        if params.get("nextToken"):
            try:
                start = int(_untoken(params["nextToken"])[0])
            except ValueError:
                raise _err("InvalidParameterException", "The specified nextToken is not "
                           "valid.") from None
        limit = params.get("limit") or 50
        page = streams[start:start + limit]
        arn = self._arn(ctx, group)
        out: dict[str, Any] = {"logStreams": [{
            "logStreamName": s.name, "creationTime": s.created,
            "firstEventTimestamp": s.first_event, "lastEventTimestamp": s.last_event,
            "lastIngestionTime": s.last_ingestion, "storedBytes": s.stored_bytes,
            "arn": f"{arn}:log-stream:{s.name}"} for s in page]}
        if start + limit < len(streams):
            out["nextToken"] = _token(start + limit)
        return out

    # ------------------------------------------------------------------ events
    def PutLogEvents(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        events = params["logEvents"]
        stamps = [e["timestamp"] for e in events]
        if any(b < a for a, b in itertools.pairwise(stamps)):
            raise _err("InvalidParameterException", "Log events in a single PutLogEvents "
                       "request must be in chronological order.")
        if stamps[-1] - stamps[0] > DAY_MS:
            raise _err("InvalidParameterException", "The batch of log events in a single "
                       "PutLogEvents request cannot span more than 24 hours.")
        logs = self._logs(ctx)
        group = self._run(logs.require_group, ctx.account, ctx.region, params["logGroupName"])
        now = now_ms()
        too_old = now - 14 * DAY_MS
        expired = now - group.retention * DAY_MS if group.retention is not None else too_old
        newest = now + 2 * 3_600_000
        rejected: dict[str, int] = {}
        kept = []
        for i, event in enumerate(events):
            ts = event["timestamp"]
            if ts < too_old:  # end indexes are exclusive: one past the last rejected event
                rejected["tooOldLogEventEndIndex"] = i + 1
            elif ts < expired:
                rejected["expiredLogEventEndIndex"] = i + 1
            elif ts > newest:
                rejected.setdefault("tooNewLogEventStartIndex", i)
            else:
                kept.append((ts, event["message"]))
        self._run(logs.put_events, ctx.account, ctx.region, params["logGroupName"],
                  params["logStreamName"], kept)
        out: dict[str, Any] = {"nextSequenceToken": f"{now:056d}"}
        if rejected:
            out["rejectedLogEventsInfo"] = rejected
        return out

    def GetLogEvents(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group_param(params)
        logs = self._logs(ctx)
        self._run(logs.require_group, ctx.account, ctx.region, group)
        stream = params["logStreamName"]
        if not any(s.name == stream for s in logs.streams(ctx.account, ctx.region, group,
                                                            stream)):
            raise _err("ResourceNotFoundException", "The specified log stream does not exist.")
        limit = params.get("limit") or 10_000
        start, end = params.get("startTime"), params.get("endTime")
        token = params.get("nextToken")
        forward = bool(params.get("startFromHead"))
        position: tuple[int, int] | None = None
        if token:
            parts = _untoken(token)
            if len(parts) != 3 or parts[0] not in ("f", "b"):
                raise _err("InvalidParameterException", "The specified nextToken is not "
                           "valid.")
            forward = parts[0] == "f"
            position = (int(parts[1]), int(parts[2]))
        if forward:
            found = logs.events(ctx.account, ctx.region, group, [stream], after=position,
                                limit=limit, start=start, end=end)
        else:
            found = logs.events(ctx.account, ctx.region, group, [stream], before=position,
                                descending=True, limit=limit, start=start, end=end)
            found.reverse()
        if found:
            first, last = found[0], found[-1]
            next_forward = _token("f", last.timestamp, last.seq)
            next_backward = _token("b", first.timestamp, first.seq)
        else:
            # Nothing more this way: both tokens stay where the caller is (AWS returns the
            # same token again, which is how clients know they have reached the end).
            here = position or (-(2 ** 62), 0) if forward else position or (2 ** 62, 0)
            next_forward = token or _token("f", *here)
            next_backward = token or _token("b", *here)
        return {"events": [{"timestamp": e.timestamp, "message": e.message,
                            "ingestionTime": e.ingestion} for e in found],
                "nextForwardToken": next_forward, "nextBackwardToken": next_backward}

    def FilterLogEvents(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group_param(params)
        logs = self._logs(ctx)
        self._run(logs.require_group, ctx.account, ctx.region, group)
        if params.get("logStreamNames") and params.get("logStreamNamePrefix"):
            raise _err("InvalidParameterException", "logStreamNames and logStreamNamePrefix "
                       "are mutually exclusive parameters.")
        try:
            matcher = compile_pattern(params.get("filterPattern"))
        except PatternError as e:
            raise _err("InvalidParameterException", f"Invalid filter pattern: {e}") from None
        streams: list[str] | None = None
        if params.get("logStreamNames"):
            streams = list(params["logStreamNames"])
        elif params.get("logStreamNamePrefix"):
            streams = [s.name for s in logs.streams(ctx.account, ctx.region, group,
                                                    params["logStreamNamePrefix"])]
        after: tuple[int, int] | None = None
        if params.get("nextToken"):
            parts = _untoken(params["nextToken"])
            try:
                after = (int(parts[0]), int(parts[1]))
            except (ValueError, IndexError):
                raise _err("InvalidParameterException", "The specified nextToken is not "
                           "valid.") from None
        limit = params.get("limit") or 10_000
        matched: list[LogEvent] = []
        more = False
        batch = 5000
        while True:
            found = logs.events(ctx.account, ctx.region, group, streams,
                                start=params.get("startTime"), end=params.get("endTime"),
                                after=after, limit=batch)
            for event in found:
                if matcher(event.message):
                    if len(matched) == limit:
                        more = True
                        break
                    matched.append(event)
            if more or len(found) < batch:
                break
            after = (found[-1].timestamp, found[-1].seq)
        searched = streams if streams is not None else sorted({e.stream for e in matched})
        out: dict[str, Any] = {
            "events": [{"logStreamName": e.stream, "timestamp": e.timestamp,
                        "message": e.message, "ingestionTime": e.ingestion,
                        "eventId": f"{e.timestamp:020d}{e.seq:020d}"} for e in matched],
            "searchedLogStreams": [{"logStreamName": s, "searchedCompletely": not more}
                                   for s in searched]}
        if more:
            out["nextToken"] = _token(matched[-1].timestamp, matched[-1].seq)
        return out
