"""A small Learning Record Store on loopback for the tests: xAPI 1.0.3's statement resource.

It keeps statements by id as an LRS must: the same id with the same content again changes
nothing; the same id with other content is "409 Conflict"; a batch with one statement it refuses
stores none of it ("400"). It can be told to fail: ``mode`` "error" (500), "busy" (503 with
Retry-After), "slow" (answers after ``delay`` seconds, having stored the batch first), or "down"
(the port is closed).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

USER, PASSWORD = "elearn", "lrs-secret"


def _canonical(statement: dict[str, Any]) -> str:
    return json.dumps(statement, sort_keys=True)


@dataclass
class StandIn:
    mode: str = "ok"
    delay: float = 0.0
    refuse: Callable[[dict[str, Any]], bool] = lambda s: False
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, list[str]]] = field(default_factory=list)  # (method, ids)
    repeats: list[dict[str, Any]] = field(default_factory=list)  # a known id sent again
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi/"

    def verbs(self) -> list[str]:
        return [s["verb"]["id"].rsplit("/", 1)[-1] for s in self.stored.values()]

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any, dict]:
        parts = urlsplit(path)
        if parts.path != "/xapi/statements":
            return 404, {"error": "no such resource"}, {}
        if not str(headers.get("X-Experience-API-Version", "")).startswith("1.0."):
            return 400, {"error": "X-Experience-API-Version missing"}, {}
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "unauthorised"}, {}
        if self.mode == "error":
            return 500, {"error": "internal error"}, {}
        if self.mode == "busy":
            return 503, {"error": "busy"}, {"Retry-After": "120"}
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"error": "not JSON"}, {}
        statements = payload if isinstance(payload, list) else [payload]
        ids = [s.get("id", "") for s in statements]
        with self.lock:
            self.requests.append((method, ids))
            if method == "PUT":
                wanted = parse_qs(parts.query).get("statementId", [""])[0]
                if len(statements) != 1 or wanted != ids[0]:
                    return 400, {"error": "statementId does not match"}, {}
            if len(set(ids)) != len(ids) or any(self.refuse(s) for s in statements):
                return 400, {"error": "a statement is not valid"}, {}
            for statement in statements:
                known = self.stored.get(statement["id"])
                if known is not None and _canonical(known) != _canonical(statement):
                    return 409, {"error": "a different statement has this id"}, {}
            for statement in statements:
                if statement["id"] in self.stored:
                    self.repeats.append(statement)
                else:
                    self.stored[statement["id"]] = statement
        if self.mode == "slow":
            time.sleep(self.delay)
        return (200, ids, {}) if method == "POST" else (204, None, {})


@contextmanager
def serve(lrs: StandIn | None = None) -> Iterator[StandIn]:
    lrs = lrs or StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload, extra = lrs.handle(method, self.path, self.headers, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            try:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_POST(self) -> None:
            self._answer("POST")

        def do_PUT(self) -> None:
            self._answer("PUT")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", lrs.port), Handler)
    server.daemon_threads = True
    lrs.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lrs
    finally:
        server.shutdown()
        server.server_close()
