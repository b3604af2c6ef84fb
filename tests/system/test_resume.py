"""Resuming only what is provably the same file (issue 10): a small Python HTTP server on
127.0.0.1 whose validators and Range handling each test chooses, and which cuts its first
answer part way, so that reimage must resume.

- only Last-Modified (no ETag): the resume sends If-Range with it and completes;
- a server that ignores If-Range and answers 206 for a file that changed: refused, the
  changed validator is seen;
- no validator at all: resuming is refused (never a blind splice), with a message that says
  what to give for it to resume; with --sha256 the resume goes on and the digest checks it.
"""

import hashlib
import http.server
import os
import re
import socket
import threading

import pytest

DATA1 = os.urandom(3 * 1024 * 1024)
DATA2 = os.urandom(3 * 1024 * 1024)
CUT = 1024 * 1024 + 12345
LAST_MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT"


class Behaviour:
    def __init__(self, etag=None, last_modified=None, honor_if_range=True, change_after_first=False,
                 drop_validators_after_first=False):
        self.etag, self.last_modified = etag, last_modified
        self.honor_if_range = honor_if_range
        self.change_after_first = change_after_first
        self.drop_validators_after_first = drop_validators_after_first
        self.requests = []  # dicts of the request headers (lower-case names)
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        b = self.server.behaviour
        with b.lock:
            n = len(b.requests)
            b.requests.append({k.lower(): v for k, v in self.headers.items()})
        data = DATA2 if (b.change_after_first and n > 0) else DATA1
        etag = b.etag if not (b.change_after_first and n > 0) else (b.etag and b.etag[:-1] + '2"')
        lm = b.last_modified if not (b.change_after_first and n > 0) else (
            b.last_modified and "Wed, 02 Dec 2026 10:00:00 GMT")
        if b.drop_validators_after_first and n > 0:
            etag = lm = None
        start = 0
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-", rng)
            start = int(m.group(1))
            ifr = self.headers.get("If-Range")
            if ifr is not None and b.honor_if_range and ifr not in (etag, lm):
                start = 0  # RFC 9110 13.1.5: the whole new representation
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        if etag:
            self.send_header("ETag", etag)
        if lm:
            self.send_header("Last-Modified", lm)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Connection", "close")
        self.end_headers()
        body = data[start:]
        if n == 0:
            self.wfile.write(body[:CUT])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # cut: the client must resume
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    started = []

    def start(behaviour):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        srv.behaviour = behaviour
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        started.append(srv)
        return "http://127.0.0.1:%d/disk.img" % srv.server_address[1]

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def flash_args(url, dst, *extra):
    return ("--retries", "3", "--progress", "line", *extra, url, dst)


def test_only_last_modified_resumes_with_it(flash, server, tmp_path):
    b = Behaviour(last_modified=LAST_MODIFIED)
    dst = tmp_path / "out.img"
    r = flash(*flash_args(server(b), dst))
    assert r.rc == 0, r.err
    assert dst.read_bytes() == DATA1
    assert len(b.requests) == 2, b.requests
    assert b.requests[1].get("if-range") == LAST_MODIFIED, b.requests[1]
    assert re.fullmatch(r"bytes=[1-9]\d*-", b.requests[1].get("range", "")), b.requests[1]


@pytest.mark.parametrize("validator", ["etag", "last-modified"])
def test_server_ignoring_if_range_is_caught(flash, server, tmp_path, validator):
    b = Behaviour(etag='"v1"' if validator == "etag" else None,
                  last_modified=LAST_MODIFIED if validator == "last-modified" else None,
                  honor_if_range=False, change_after_first=True)
    dst = tmp_path / "out.img"
    r = flash(*flash_args(server(b), dst))
    assert r.rc != 0, r.err
    assert "changed on the server" in r.err, r.err
    assert DATA2[CUT:CUT + 4096] not in dst.read_bytes() if dst.exists() else True


def test_validator_gone_on_resume_is_refused(flash, server, tmp_path):
    b = Behaviour(etag='"v1"', drop_validators_after_first=True)
    dst = tmp_path / "out.img"
    r = flash(*flash_args(server(b), dst))
    assert r.rc != 0, r.err
    assert "resuming refused" in r.err, r.err


def test_no_validator_resume_refused_without_digest(flash, server, tmp_path):
    b = Behaviour()
    dst = tmp_path / "out.img"
    r = flash(*flash_args(server(b), dst))
    assert r.rc != 0, r.err
    assert "no ETag or Last-Modified" in r.err and "--sha256" in r.err, r.err
    assert len(b.requests) == 1, "a resume request was sent: %r" % b.requests


@pytest.mark.parametrize("check", ["--sha256", "--image-sha256"])
def test_no_validator_resume_allowed_with_a_digest(flash, server, tmp_path, check):
    """Without validators a resume cannot be shown to continue the same version; with a
    digest checked at the end it may go on (a splice would fail that check, and the head is
    committed only after it)."""
    import hashlib
    b = Behaviour()
    dst = tmp_path / "out.img"
    r = flash(*flash_args(server(b), dst, check, hashlib.sha256(DATA1).hexdigest()))
    assert r.rc == 0, r.err
    assert dst.read_bytes() == DATA1
    assert len(b.requests) == 2, b.requests
    assert re.fullmatch(r"bytes=[1-9]\d*-", b.requests[1].get("range", "")), b.requests[1]
