"""The loop thread behind localvpc's own servers (the DNS server, the L7 proxies).

Each keeps a set of loopback listeners in line with the model: one asyncio loop in one
thread opens them at start, re-syncs whenever the model's generation changes, and closes
them on stop. The subclass says what it wants open (``_sync``) and how to close it
(``_close_all``); this class owns the thread, the loop and the watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any, cast

from localvpc.dns.source import ModelSource

log = logging.getLogger("localvpc.listeners")


class ListenerLoop:
    """Subclasses set ``label`` (thread name and log wording) and implement ``_sync`` and
    ``_close_all``; ``_quiet_errors`` are loop errors not worth logging."""

    label = "listener"
    _quiet_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, source: ModelSource, poll_interval: float) -> None:
        self.source = source
        self.poll_interval = poll_interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = False
        self._seen_generation: int | None = None
        self._table_lock = threading.Lock()

    async def _sync(self, force: bool = False) -> None:
        raise NotImplementedError

    def _close_all(self) -> None:
        """Close every listener (on the loop thread, as the loop stops)."""
        raise NotImplementedError

    def _start_thread(self, timeout: float) -> None:
        self._thread = threading.Thread(target=self._run, name=f"localvpc-{self.label}",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the {self.label} server did not start")

    def _stop_thread(self) -> None:
        self._stopping = True
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def sync_now(self, timeout: float = 10.0) -> None:
        """Bring the listeners in line with the model at once (tests, start-up)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("not started")
        asyncio.run_coroutine_threadsafe(self._sync(force=True), loop).result(timeout)

    def _run(self) -> None:
        loop = new_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._log_loop_error)
        try:
            loop.run_until_complete(self._sync(force=True))
        except Exception:
            log.exception("%s listeners could not be opened", self.label)
        self._ready.set()
        watcher = loop.create_task(self._watch())
        try:
            loop.run_forever()
        finally:
            watcher.cancel()
            self._close_all()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _watch(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.poll_interval)
            try:
                await self._sync()
            except Exception:  # keep watching whatever one sync did
                log.exception("%s listener sync failed", self.label)

    def _log_loop_error(self, loop: asyncio.AbstractEventLoop,
                        context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if self._quiet_errors and isinstance(exc, self._quiet_errors):
            return
        log.error("%s server: %s", self.label, context.get("message"), exc_info=exc)


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (it comes with ``uvicorn[standard]``): its socket paths cost a
    fraction of the default loop's per packet or request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return cast(asyncio.AbstractEventLoop, uvloop.new_event_loop())
