"""What the proxy tests share: reading the server's control routes, pointing VPC addresses
at local processes (the address map) and finding a proxy listener's loopback port."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conftest import Server


def get_json(server: Server, path: str) -> Any:
    with urllib.request.urlopen(f"{server.url}{path}", timeout=10) as r:
        return json.loads(r.read())


def set_targets(server: Server, rows: list[dict[str, Any]]) -> None:
    """Replace the address map (``localvpc lattice targets set``)."""
    req = urllib.request.Request(f"{server.url}/_localvpc/lattice/targets", method="PUT",
                                 data=json.dumps({"targets": rows}).encode())
    urllib.request.urlopen(req, timeout=10).read()


def endpoint(server: Server, match: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
    """The proxy table row whose fields include ``match``, with the local CA's path as
    ``ca`` (listeners open a moment after the API call that made them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = get_json(server, "/_localvpc/proxy/endpoints")
        for row in table["endpoints"]:
            if all(row.get(k) == v for k, v in match.items()):
                return {**row, "ca": table.get("ca")}
        time.sleep(0.1)
    raise AssertionError(f"no proxy listener like {match}")


class JsonTarget(BaseHTTPRequestHandler):
    """A target process that answers GET with JSON saying who it is (``label``), the path
    and the headers it got, so a test sees where the proxy sent a request and how."""

    protocol_version = "HTTP/1.1"
    label = "target"

    def page(self) -> dict[str, Any]:
        return {"app": self.label, "path": self.path, "version": "HTTP/1.1",
                "headers": {k.lower(): v for k, v in self.headers.items()}}

    def extra_headers(self) -> list[tuple[str, str]]:
        return []

    def do_GET(self) -> None:
        body = json.dumps(self.page()).encode()
        self.send_response(200)
        for name, value in self.extra_headers():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def json_target(label: str, handler: type[JsonTarget] = JsonTarget) -> ThreadingHTTPServer:
    """``handler`` serving on a free loopback port, labelled ``label``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 type(f"{handler.__name__}_{label}", (handler,),
                                      {"label": label}))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
