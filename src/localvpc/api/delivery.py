"""The delivery services' runtime beside the model: S3 objects, CloudWatch Logs, Firehose.

The S3, Logs and Firehose providers and the flow-log publisher share these three; the server
state creates them once (``state.delivery``). Objects live under ``<data dir>/s3``; log events
in the SQL store's database; delivery stream configurations in the store's meta table (key
``firehose/<account>/<region>/<name>``), loaded into the engine when it is first used.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from localvpc.flowlogs.firehose import FirehoseEngine, LambdaRegistry
from localvpc.store.logstore import LogStore
from localvpc.store.objects import ObjectStore

if TYPE_CHECKING:
    from localvpc.api.state import ServerState

FIREHOSE_META = "firehose/"


class Delivery:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.objects = ObjectStore(state.data_dir / "s3")
        self.logs = LogStore(state.store)
        self.lambdas = state.lambdas or LambdaRegistry()
        self._firehose: FirehoseEngine | None = None
        self._lock = threading.Lock()

    @property
    def firehose(self) -> FirehoseEngine:
        with self._lock:
            if self._firehose is None:
                from localvpc.api.providers.firehose import spec_of

                engine = FirehoseEngine(self.objects, self.lambdas)
                for stored in self.state.store.meta_items(FIREHOSE_META).values():
                    engine.add(spec_of(stored))
                self._firehose = engine
            return self._firehose

    def publish(self, flow_log: Any, records: list[dict[str, Any]]) -> int:
        """Deliver a flow log's records to its destination (see ``flowlogs/publish.py``)."""
        from localvpc.flowlogs.publish import Destinations, publish

        return publish(flow_log, records, Destinations(self.objects, self.logs, self.firehose))

    def reset(self) -> None:
        with self._lock:
            if self._firehose is not None:
                self._firehose.clear()
        self.objects.clear()
        self.logs.reset()

    def close(self) -> None:
        with self._lock:
            engine = self._firehose
        if engine is not None:
            engine.close()
