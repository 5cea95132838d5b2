"""The seed's enricher as a Firehose transformation "Lambda": the record contract around
``enrich_records``.

AWS's sample function (ENRICHER.md) decodes each record's base64 ``data``, reads the JSON
``message`` (one flow-log line), splits it positionally into the 29 fields of the article's
all-fields format, adds ``src-tag-*``/``dst-*`` keys, and answers ``Ok`` with
``json.dumps(record) + "\\n"`` (values kept as the strings they were) or ``ProcessingFailed``
with the original data. This handler keeps that output byte for byte in shape, with two
differences users would want: the lookups are one vectorised pass over the whole batch
(``enrich.py``) instead of three EC2 calls per record, and a line whose token count matches
the format of a flow log delivering to the stream is read with that format (the article's
code breaks on any format but its own).

Nothing here knows about the API: the caller supplies ``enrich`` (records -> enriched
records, typically ``enrich_records`` on the live network under its lock) and ``formats``
(the formats of the flow logs that deliver to a stream ARN).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from localvpc.flowlogs.enrich import DST_FIELDS
from localvpc.flowlogs.format import SEED_FIELDS
from localvpc.flowlogs.reader import convert

ENRICHER_NAME = "localvpc-flowlogs-enricher"
"""The built-in function name: ``arn:aws:lambda:<region>:<account>:function:`` + this."""

Enrich = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
Formats = Callable[[str], Sequence[Sequence[str]]]


def _layout(tokens: int, candidates: Sequence[Sequence[str]]) -> Sequence[str] | None:
    for fields in candidates:
        if len(fields) == tokens:
            return fields
    return SEED_FIELDS if tokens == len(SEED_FIELDS) else None


def _added(key: str) -> bool:
    return key.startswith(("src-tag-", "dst-tag-")) or key in DST_FIELDS


def make_enricher(enrich: Enrich, formats: Formats | None = None) -> Callable[..., Any]:
    """A Lambda-style ``handler(event, context)`` for Firehose's transformation step."""

    def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        stream = str(event.get("deliveryStreamArn") or "")
        candidates = list(formats(stream)) if formats is not None else []
        parsed: list[tuple[str, dict[str, str] | None, dict[str, Any] | None]] = []
        for item in event.get("records", []):
            record_id, raw = item["recordId"], item.get("data", "")
            try:
                message = json.loads(base64.b64decode(raw))["message"]
                tokens = str(message).split(" ")
                fields = _layout(len(tokens), candidates)
                if fields is None:
                    raise ValueError(f"{len(tokens)} fields match no flow-log format")
                text = dict(zip(fields, tokens, strict=True))
                typed = {k: convert(k, v) for k, v in text.items()}
            except (ValueError, KeyError, TypeError) as exc:
                # The article's function answers ProcessingFailed with the original data.
                print(f"{ENRICHER_NAME}: record {record_id[:16]}...: {exc}")
                parsed.append((record_id, None, None))
                continue
            parsed.append((record_id, text, typed))
        good = [values for _, _, values in parsed if values is not None]
        enriched = iter(enrich(good) if good else [])
        out: list[dict[str, Any]] = []
        originals = {item["recordId"]: item.get("data", "") for item in event.get("records", [])}
        for record_id, words, values in parsed:
            if words is None or values is None:
                out.append({"recordId": record_id, "result": "ProcessingFailed",
                            "data": originals[record_id]})
                continue
            extra = {k: str(v) for k, v in next(enriched).items() if _added(k) and v is not None}
            line = json.dumps({**words, **extra}) + "\n"
            out.append({"recordId": record_id, "result": "Ok",
                        "data": base64.b64encode(line.encode()).decode()})
        return {"records": out}

    return handler
