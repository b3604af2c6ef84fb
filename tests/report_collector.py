"""A small collector for --report tests (reimage ships none): a threaded HTTP server on
127.0.0.1 that records every POSTed JSON event. Used by tests/system/test_report.py and
tests/e2e/test_fleet.py."""

import http.server
import json
import threading
import time

import pytest


class Collector:
    """Records every POST: (path, headers, parsed body). mode: "ok" (204), "slow" (sleeps
    `delay` s before answering), "fail-first" (503 for the first `n_fail` requests)."""

    def __init__(self, mode="ok", delay=0, n_fail=0, host="127.0.0.1"):
        self.mode, self.delay, self.n_fail = mode, delay, n_fail
        self.requests, self.lock, self.seen = [], threading.Lock(), 0
        coll = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with coll.lock:
                    coll.seen += 1
                    k = coll.seen
                if coll.mode == "slow":
                    time.sleep(coll.delay)
                if coll.mode == "fail-first" and k <= coll.n_fail:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with coll.lock:
                    coll.requests.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/events" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        with self.lock:
            return [b for _p, _h, b in self.requests]

    def wait_for(self, name, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e["event"] == name for e in self.events()):
                return
            time.sleep(0.1)
        pytest.fail("no %r event within %d s: %r" % (name, timeout, self.events()))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
