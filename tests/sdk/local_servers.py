"""Local HTTP servers for the tracker's browser tests: a collector standing in for the gateway's
`POST /collect` (and serving the built scripts, as the gateway does), and a site serving test pages.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from traytic.core.events import Beacon, Vital, decode_beacon


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Collector:
    """Records what reaches it and answers `/collect` like the gateway: 204 with CORS headers.

    Each `clear()` moves it to a new host name (`c<n>.collector.test`), and only requests to the
    current one are recorded: a page of an earlier test that reports its vitals as its context
    closes cannot land in the next test's requests.
    """

    port: int = 0
    generation: int = 0
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def host(self) -> str:
        return f"c{self.generation}.collector.test:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    def clear(self) -> None:
        with self.lock:
            self.generation += 1
            self.requests.clear()

    def record(self, request: Request) -> None:
        with self.lock:
            if request.headers.get("host") == self.host:
                self.requests.append(request)

    def posts(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def beacons(self) -> list[Beacon]:
        return [decode_beacon(r.body) for r in self.posts()]

    def events(self) -> list[Any]:
        return [event for beacon in self.beacons() for event in beacon.events]

    def page_events(self) -> list[Any]:
        """Everything but vitals, whose timing is the browser's (TTFB and FCP ride early beacons)."""
        return [event for event in self.events() if not isinstance(event, Vital)]

    def wait_for(self, ready: Callable[[Collector], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"collector timed out; got {self.raw_bodies()}")
            time.sleep(0.05)

    def wait_for_events(self, count: int, timeout: float = 10.0) -> list[Any]:
        """Wait for `count` page events (not vitals) and return them all."""
        self.wait_for(lambda c: len(c.page_events()) >= count, timeout)
        return self.page_events()

    def raw_bodies(self) -> list[Any]:
        return [json.loads(r.body) for r in self.posts()]


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Site:
    """Serves the HTML registered per path (query strings ignored) on any host name."""

    port: int = 0
    pages: dict[str, str] = field(default_factory=dict)

    def page(self, path: str, html: str, host: str = "site.test") -> str:
        self.pages[path] = html
        return f"http://{host}:{self.port}{path}"
