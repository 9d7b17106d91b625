"""A real HTTP server on 127.0.0.1 (a thread running http.server on a free port) that records every
request and answers as told: stands in for Slack, Teams and a customer's endpoint in the tests and in
`benchmark_relay`. Never reachable from outside this machine."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeServer:
    """`answers[path]` is a list of status codes to give in turn (then 200); `delay` seconds before
    each answer."""

    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    delay: float = 0.0
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]


def start() -> tuple[FakeServer, ThreadingHTTPServer]:
    fake = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            fake.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if fake.delay:
                time.sleep(fake.delay)
            queued = fake.answers.get(self.path) or []
            status = queued.pop(0) if queued else 200
            answer = b"ok" if status < 300 else b"no"
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # quiet tests
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads, server.block_on_close = True, False  # a slow answer never holds up the test's end
    fake.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
