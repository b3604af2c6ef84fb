"""Fixtures shared by the system and end-to-end tests (see docs/reimage-flash.1.md).

Everything here runs on 127.0.0.1 and on loop devices / temporary files only.
Processes started here (nginx, reimage) are stopped by their own PID.

Fixtures
--------
reimage_bin   path of the binary (env REIMAGE_BIN, default build/reimage); skips if missing
run_reimage   run_reimage(*args, input=None, timeout=60) -> Result(rc, out, err)
flash         flash(*args, ...) == run_reimage("flash", *args, ...)
nginx         session nginx: .put(name, data|path) -> url, .url(name), .url_norange(name), .path(name)
proxy         per-test fault-injecting TCP proxy in front of nginx (see FaultProxy)
images        session test images and compressed variants built with the real tools
served        session: images put into the nginx docroot; fmt -> file name
loopdev       factory: loopdev(size, pattern=True, partitions=None) -> LoopDev; detached on teardown
mounter       factory to mkfs + mount a block device / tmpfs on a temp dir; unmounted on teardown
"""

import collections
import concurrent.futures
import fcntl
import hashlib
import os
import random
import re
import selectors
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from nginx_server import NGINX_BIN, nginx_conf, start_nginx, stop_nginx

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parents[1]
REIMAGE_BIN = os.environ.get("REIMAGE_BIN", str(REPO / "build" / "reimage"))

BLKFLSBUF = 0x1261  # _IO(0x12, 97)


# --------------------------------------------------------------------------
# generic helpers
# --------------------------------------------------------------------------

def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_dev(path, length=None, offset=0):
    """Read a block device (or file) after flushing the block device page cache."""
    with open(path, "rb", buffering=0) as f:
        try:
            fcntl.ioctl(f.fileno(), BLKFLSBUF)
        except OSError:
            pass  # not a block device
        f.seek(offset)
        if length is None:
            return f.read()
        out = bytearray()
        while len(out) < length:
            chunk = f.read(length - len(out))
            if not chunk:
                break
            out += chunk
        return bytes(out)


def pattern_bytes(size):
    """Recognisable non-zero pattern: every 512-byte sector names its number."""
    sectors = []
    for n in range((size + 511) // 512):
        s = ("<REIMAGE-TEST-PATTERN sector %010d>" % n).encode()
        sectors.append((s * (512 // len(s) + 1))[:512])
    return b"".join(sectors)[:size]


Result = collections.namedtuple("Result", "rc out err")

# A sanitizer report fails the test that caused it, whatever exit status that test expects:
# ASan and UBSan exit with codes of their own (set here for every process the tests start, and
# in tests/run), and their reports are looked for in stderr too (UBSan without halt_on_error
# goes on after "runtime error:").
ASAN_EXIT, UBSAN_EXIT = 86, 87
SANITIZER_EXITS = {ASAN_EXIT: "AddressSanitizer", UBSAN_EXIT: "UndefinedBehaviorSanitizer"}
SANITIZER_RE = re.compile(r"runtime error:|(Address|Leak|UndefinedBehavior|Memory|Thread)Sanitizer")


def _with_exitcode(var, code, default):
    opts = os.environ.get(var, default)
    if "exitcode=" not in opts:
        opts = (opts + ":" if opts else "") + "exitcode=%d" % code
    os.environ[var] = opts


_with_exitcode("ASAN_OPTIONS", ASAN_EXIT, "detect_leaks=1:abort_on_error=0")
_with_exitcode("UBSAN_OPTIONS", UBSAN_EXIT, "halt_on_error=1:print_stacktrace=1")


def sanitizer_report(rc, err):
    """Why a finished process counts as a sanitizer failure, or None."""
    if rc in SANITIZER_EXITS:
        return "%s exit status %d" % (SANITIZER_EXITS[rc], rc)
    m = SANITIZER_RE.search(err)
    if m:
        return "a sanitizer report (%r) in stderr" % m.group(0)
    return None


_BIN = [REIMAGE_BIN]  # replaced by the session snapshot (see reimage_bin)


def _run_reimage(*args, input=None, timeout=60, env=None):
    cmd = [_BIN[0]] + [str(a) for a in args]
    kw = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if env is not None:
        kw["env"] = env
    f = None
    if input is None:
        kw["stdin"] = subprocess.DEVNULL
    elif isinstance(input, (bytes, bytearray)):
        kw["input"] = bytes(input)  # a pipe
    else:
        f = open(input, "rb")  # a regular file as stdin
        kw["stdin"] = f
    try:
        p = subprocess.run(cmd, **kw)
    except subprocess.TimeoutExpired as e:  # subprocess.run has killed the child
        pytest.fail("reimage timed out after %ss: %s\nstdout: %r\nstderr: %r"
                    % (timeout, cmd, e.stdout, e.stderr))
    finally:
        if f:
            f.close()
    res = Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                 p.stderr.decode("utf-8", "replace"))
    why = sanitizer_report(res.rc, res.err)
    if why:
        pytest.fail("%s: %s\n--- stderr:\n%s" % (why, " ".join(cmd), res.err[-8000:]))
    # shown by pytest for failing tests (and with -rA)
    print("$ %s\n-> rc=%d\n--- stdout:\n%s--- stderr:\n%s" % (
        " ".join(cmd), res.rc, res.out[-4000:], res.err[-4000:]))
    return res


# --------------------------------------------------------------------------
# markers
# --------------------------------------------------------------------------

def loop_unavailable_reason():
    if not os.path.exists("/dev/loop-control"):
        return "loop devices unavailable: /dev/loop-control is missing"
    if os.geteuid() != 0:
        return "loop devices need root"
    if not shutil.which("losetup"):
        return "losetup not installed"
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "loop: test needs loop devices (/dev/loop-control, root)")
    config._reimage_skips = []


# A skipped test is a failed test: what it checks was not checked. The reasons are printed and
# the run fails (REIMAGE_ALLOW_SKIPS=1 lets a developer on a machine without root look around).
def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPS.append((report.nodeid, reason))


_SKIPS = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _SKIPS:
        terminalreporter.section("skipped tests count as failures")
        for nodeid, reason in _SKIPS:
            terminalreporter.line("SKIPPED %s: %s" % (nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if _SKIPS and os.environ.get("REIMAGE_ALLOW_SKIPS") != "1" and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_runtest_setup(item):
    if item.get_closest_marker("loop"):
        reason = loop_unavailable_reason()
        if reason:
            pytest.skip(reason)


# --------------------------------------------------------------------------
# the binary
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def reimage_bin(tmp_path_factory):
    """A private copy of the binary, so a rebuild during the run cannot break tests."""
    if not os.access(REIMAGE_BIN, os.X_OK):
        pytest.skip("reimage binary not found at %s (set REIMAGE_BIN)" % REIMAGE_BIN)
    snap = tmp_path_factory.mktemp("bin") / "reimage"
    for _ in range(20):  # wait out a linker that is still writing it
        st1 = os.stat(REIMAGE_BIN)
        time.sleep(0.1)
        st2 = os.stat(REIMAGE_BIN)
        if (st1.st_size, st1.st_mtime_ns) == (st2.st_size, st2.st_mtime_ns) and st1.st_size:
            break
    shutil.copy2(REIMAGE_BIN, snap)
    # reimage bundle finds its static loader next to the binary, as in the build tree
    loader = Path(REIMAGE_BIN).parent / "reimage-bundle-loader"
    if loader.exists():
        shutil.copy2(loader, snap.parent / loader.name)
    _BIN[0] = str(snap)
    return str(snap)


@pytest.fixture
def run_reimage(reimage_bin):
    return _run_reimage


@pytest.fixture
def flash(reimage_bin):
    def _flash(*args, **kw):
        return _run_reimage("flash", *args, **kw)
    return _flash


# --------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------

# the Authorization header is logged so that tests can see it arrived (test secrets only)
NGINX_LOG = ('$remote_addr "$request" $status "$http_range" "$http_if_range" '
             '"$http_authorization"')
NGINX_HTTP = """\
    sendfile on;
    etag on;
    keepalive_timeout 30s;
    send_timeout 120s;
"""
NGINX_SERVER = """\
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {docroot};
        location / {{ }}
        # same files, but Range is ignored (always 200 with the whole body)
        location /norange/ {{
            alias {docroot}/;
            max_ranges 0;
        }}
        # same files at 4 MB/s per connection: a write that is still going on when a test
        # pulls the plug or kills the writer
        location /slow/ {{
            alias {docroot}/;
            limit_rate 4m;
        }}
    }}
"""


class Nginx:
    def __init__(self, base, port):
        self.base = Path(base)
        self.docroot = self.base / "www"
        self.port = port
        self.proc = None

    def path(self, name):
        return self.docroot / name

    def url(self, name, host="127.0.0.1"):
        return "http://%s:%d/%s" % (host, self.port, name)

    def url_slow(self, name, host="127.0.0.1"):
        return "http://%s:%d/slow/%s" % (host, self.port, name)

    def url_norange(self, name):
        return "http://127.0.0.1:%d/norange/%s" % (self.port, name)

    def put(self, name, data=None, src=None):
        """Put bytes (data) or a copy of file src into the docroot; return its URL."""
        dst = self.docroot / name
        tmp = dst.with_name(dst.name + ".tmp-put")
        if src is not None:
            shutil.copyfile(src, tmp)
        else:
            tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
        return self.url(name)

    def remove(self, name):
        try:
            (self.docroot / name).unlink()
        except FileNotFoundError:
            pass

    def error_log(self):
        try:
            return (self.base / "error.log").read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture(scope="session")
def nginx():
    if not os.access(NGINX_BIN, os.X_OK):
        pytest.skip("nginx not installed at %s" % NGINX_BIN)
    base = tempfile.mkdtemp(prefix="reimage-nginx-")
    os.chmod(base, 0o755)  # workers run as www-data
    ng = Nginx(base, 0)
    ng.docroot.mkdir()
    os.chmod(ng.docroot, 0o755)
    (ng.base / "tmp").mkdir()
    proc = None
    try:
        try:
            proc, (ng.port,) = start_nginx(ng.base, lambda ports: nginx_conf(
                ng.base, NGINX_LOG, NGINX_SERVER.format(docroot=ng.docroot, port=ports[0]),
                http_extra=NGINX_HTTP))
        except RuntimeError as e:
            pytest.fail(str(e))
        ng.proc = proc
        yield ng
    finally:
        stop_nginx(proc)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------
# fault-injecting proxy
# --------------------------------------------------------------------------

class Fault:
    """What the proxy does on one data connection (one that carries a GET).

    kind:
      "cut"     forward `after` response bytes (counted from the GET), then abort
                both sockets (RST if rst=True, plain close otherwise); after=0 aborts
                as soon as the request arrives, without forwarding it.
      "stall"   forward `after` response bytes, then forward nothing more but keep
                the connection open until the client closes it.
      "respond" do not forward; answer with the raw bytes `response` and close.
    callback: called (no arguments) just before a cut happens.
    """

    def __init__(self, kind, after=0, rst=True, response=None, callback=None):
        assert kind in ("cut", "stall", "respond")
        self.kind, self.after, self.rst = kind, after, rst
        self.response, self.callback = response, callback

    def __repr__(self):
        return "Fault(%s, after=%d)" % (self.kind, self.after)


class ProxyRequest:
    def __init__(self, conn, method, target, headers, raw):
        self.conn, self.method, self.target = conn, method, target
        self.headers = headers  # dict: lower-case name -> value (last wins)
        self.header_list = []  # [(name, value)] as sent
        self.raw = raw

    def __repr__(self):
        return "<%s %s conn=%d %r>" % (self.method, self.target, self.conn, self.headers)


class ProxyConn:
    def __init__(self, idx):
        self.idx = idx
        self.requests = []
        self.fault = None
        self.resp_bytes = 0  # bytes forwarded to the client after the GET
        self.resp_head = b""  # head of the response to the first GET
        self.outcome = "open"  # open, closed, cut, stalled, responded


class FaultProxy:
    """TCP proxy on 127.0.0.1 in front of nginx that records and breaks connections.

    set_faults([Fault, ...], default=None): the i-th data connection (the i-th
    connection carrying a GET request) gets faults[i]; later ones get `default`
    (None = plain forwarding). Connections with only HEAD requests get no fault.
    """

    Fault = Fault  # so tests can build faults without importing conftest

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.cut_event = threading.Event()
        self.stall_event = threading.Event()
        self.faults = []
        self.default_fault = None
        self._data_conns = 0
        self.connections = []
        self._socks = set()
        self._threads = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    # -- configuration / inspection --------------------------------------
    def set_faults(self, faults, default=None):
        with self.lock:
            self.faults = list(faults)
            self.default_fault = default

    def cut_after(self, n, times=1, rst=True, callback=None):
        self.set_faults([Fault("cut", n, rst=rst, callback=callback) for _ in range(times)])

    def stall_after(self, n, times=1):
        self.set_faults([Fault("stall", n) for _ in range(times)])

    def url(self, path, userinfo=None):
        path = path.lstrip("/")
        auth = (userinfo + "@") if userinfo else ""
        return "http://%s127.0.0.1:%d/%s" % (auth, self.port, path)

    @property
    def requests(self):
        with self.lock:
            return [r for c in self.connections for r in c.requests]

    def gets(self):
        return [r for r in self.requests if r.method == "GET"]

    # -- machinery ---------------------------------------------------------
    def _next_fault(self):
        with self.lock:
            i = self._data_conns
            self._data_conns += 1
            return self.faults[i] if i < len(self.faults) else self.default_fault

    def _accept_loop(self):
        while not self.stop_event.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self.lock:
                conn = ProxyConn(len(self.connections))
                self.connections.append(conn)
                self._socks.add(client)
            t = threading.Thread(target=self._handle, args=(client, conn), daemon=True)
            t.start()
            self._threads.append(t)

    @staticmethod
    def _abort(sock, rst=True):
        if sock is None:
            return
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass

    def _parse_requests(self, conn, buf):
        """Extract complete request heads from buf; return (rest, [ProxyRequest])."""
        out = []
        while b"\r\n\r\n" in buf:
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            method = parts[0] if parts else ""
            target = parts[1] if len(parts) > 1 else ""
            req = ProxyRequest(conn.idx, method, target, {}, head)
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    req.headers[k.strip().lower()] = v.strip()
                    req.header_list.append((k.strip(), v.strip()))
            out.append(req)
        return buf, out

    def _handle(self, client, conn):
        upstream = None
        sel = selectors.DefaultSelector()
        cbuf = b""
        fault = None
        stalled = False
        rst_on_close = False
        try:
            client.settimeout(120)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            upstream.settimeout(120)
            with self.lock:
                self._socks.add(upstream)
            sel.register(client, selectors.EVENT_READ, "c")
            sel.register(upstream, selectors.EVENT_READ, "u")
            while not self.stop_event.is_set():
                for key, _ in sel.select(0.2):
                    if key.data == "c":
                        data = client.recv(65536)
                        if not data:
                            conn.outcome = "stalled" if stalled else "closed"
                            return
                        cbuf, reqs = self._parse_requests(conn, cbuf + data)
                        for req in reqs:
                            with self.lock:
                                conn.requests.append(req)
                            if req.method == "GET" and conn.fault is None and fault is None:
                                fault = self._next_fault()
                                conn.fault = fault or "none"
                                conn.resp_bytes = 0
                                if fault is not None and fault.kind == "cut" and fault.after == 0:
                                    if fault.callback:
                                        fault.callback()
                                    conn.outcome = "cut"
                                    rst_on_close = fault.rst
                                    self.cut_event.set()
                                    return
                                if fault is not None and fault.kind == "respond":
                                    client.sendall(fault.response)
                                    conn.outcome = "responded"
                                    return
                        upstream.sendall(data)
                    else:
                        if stalled:
                            continue
                        data = upstream.recv(65536)
                        if not data:
                            conn.outcome = "closed"
                            return
                        if conn.fault is not None and len(conn.resp_head) < 16384 \
                                and b"\r\n\r\n" not in conn.resp_head:
                            conn.resp_head += data[:16384]
                        if fault is not None and fault.kind in ("cut", "stall"):
                            allowed = fault.after - conn.resp_bytes
                            if len(data) >= allowed:
                                if allowed > 0:
                                    client.sendall(data[:allowed])
                                    conn.resp_bytes += allowed
                                if fault.kind == "cut":
                                    if fault.callback:
                                        fault.callback()
                                    conn.outcome = "cut"
                                    rst_on_close = fault.rst
                                    self.cut_event.set()
                                    return
                                stalled = True
                                conn.outcome = "stalled"
                                sel.unregister(upstream)
                                self.stall_event.set()
                                continue
                        client.sendall(data)
                        if conn.fault is not None:
                            conn.resp_bytes += len(data)
        except OSError:
            if conn.outcome == "open":
                conn.outcome = "error"
        finally:
            sel.close()
            self._abort(client, rst=rst_on_close)
            self._abort(upstream, rst=rst_on_close)
            with self.lock:
                self._socks.discard(client)
                self._socks.discard(upstream)

    def stop(self):
        self.stop_event.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(5)
        for t in self._threads:
            t.join(5)


@pytest.fixture
def proxy(nginx):
    p = FaultProxy(nginx.port)
    try:
        yield p
    finally:
        p.stop()


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------

def make_image_bytes(size=12 * MiB, seed=1234):
    """Test image: non-zero first MiB, random regions, long zero runs (also
    unaligned ones), a lone non-zero byte inside a zero run, short zero runs inside
    data, compressible text, and a zero tail."""
    rnd = random.Random(seed)
    img = bytearray(size)
    def fill_random(a, b):
        img[a:b] = rnd.randbytes(b - a)
    fill_random(0, 3 * MiB)                       # first MiB + data
    img[510:512] = b"\x55\xaa"                    # looks like an MBR
    img[2 * MiB + 5000: 2 * MiB + 7000] = bytes(2000)  # short zero run inside data
    # 3 MiB .. 6 MiB: zeros, with one lone non-zero byte in the middle of a 4K block
    img[4 * MiB + 3 * 4096 + 17] = 0x01
    text = b"".join(b"line %08d of compressible text in the test image\n" % i
                    for i in range(MiB // 40))
    img[6 * MiB: 7 * MiB] = text[:MiB]
    fill_random(7 * MiB, 7 * MiB + 512 * 1024 + 1000)   # ends unaligned
    # zero run from 7.5 MiB + 1000 to 9.5 MiB (unaligned start)
    fill_random(9 * MiB + 512 * 1024, min(size, 11 * MiB))
    # 11 MiB .. end: zeros (tail)
    return bytes(img[:size])


def _compress(tool_argv, src, dst):
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        subprocess.run(tool_argv, stdin=fi, stdout=fo, check=True)


COMPRESSORS = {
    "gzip": ["gzip", "-c", "-6", "-n"],
    "xz": ["xz", "-c", "-1", "-T2"],
    "zstd": ["zstd", "-c", "-q", "-3"],
    "bzip2": ["bzip2", "-c", "-9"],
}

# fmt -> (file name, format name expected in the JSON start event)
FORMATS = {
    "raw": ("disk.img", "raw"),
    "gzip": ("disk.img.gz", "gzip"),
    "xz": ("disk.img.xz", "xz"),
    "zstd": ("disk.img.zst", "zstd"),
    "bzip2": ("disk.img.bz2", "bzip2"),
    "gzip-multi": ("disk-multi.img.gz", "gzip"),
    "zstd-multi": ("disk-multi.img.zst", "zstd"),
    "xz-multi": ("disk-multi.img.xz", "xz"),
    "bzip2-multi": ("disk-multi.img.bz2", "bzip2"),
}


class Images:
    def __init__(self, directory, data):
        self.dir = Path(directory)
        self.data = data
        self.size = len(data)
        self.sha256 = sha256_bytes(data)
        self.paths = {}

    def path(self, fmt):
        return self.paths[fmt]

    def name(self, fmt):
        return FORMATS[fmt][0]

    def bytes(self, fmt):
        return self.paths[fmt].read_bytes()

    def sha(self, fmt):
        return sha256_file(self.paths[fmt])

    def make_variant(self, fmt, data, name):
        """Write `data` (an image) compressed as fmt into a new file `name`."""
        raw = self.dir / (name + ".src")
        raw.write_bytes(data)
        out = self.dir / name
        if fmt == "raw":
            shutil.copyfile(raw, out)
        else:
            _compress(COMPRESSORS[fmt], raw, out)
        raw.unlink()
        return out


def build_images(directory, data):
    """Raw image plus every compressed variant (compressors run in parallel)."""
    im = Images(directory, data)
    raw = im.dir / FORMATS["raw"][0]
    raw.write_bytes(data)
    im.paths["raw"] = raw
    # multi-member / multi-frame / concatenated streams: split at an odd offset
    split = 5 * MiB + 12345
    p1, p2 = im.dir / "part1", im.dir / "part2"
    p1.write_bytes(data[:split])
    p2.write_bytes(data[split:])
    jobs = []  # (src, dst, argv)
    for fmt, argv in COMPRESSORS.items():
        im.paths[fmt] = im.dir / FORMATS[fmt][0]
        jobs.append((raw, im.paths[fmt], argv))
        jobs.append((p1, im.dir / (fmt + ".part1"), argv))
        jobs.append((p2, im.dir / (fmt + ".part2"), argv))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for f in [ex.submit(_compress, a, s, d) for s, d, a in jobs]:
            f.result()
    for fmt in COMPRESSORS:
        multi = im.dir / FORMATS[fmt + "-multi"][0]
        c1, c2 = im.dir / (fmt + ".part1"), im.dir / (fmt + ".part2")
        multi.write_bytes(c1.read_bytes() + c2.read_bytes())
        im.paths[fmt + "-multi"] = multi
        c1.unlink()
        c2.unlink()
    p1.unlink()
    p2.unlink()
    return im


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    return build_images(d, make_image_bytes())


@pytest.fixture(scope="session")
def served(nginx, images):
    """Put every variant into the nginx docroot; fmt -> file name (relative URL path)."""
    names = {}
    for fmt, p in images.paths.items():
        name = FORMATS[fmt][0]
        nginx.put(name, src=p)
        names[fmt] = name
    return names


# --------------------------------------------------------------------------
# loop devices and mounts
# --------------------------------------------------------------------------

_ALL_LOOPS = []  # (dev, backing) of every loop device created, for a last-resort cleanup


def _mounts():
    """[(source, mountpoint)] from /proc/self/mounts."""
    out = []
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2:
                out.append((fields[0], fields[1].replace("\\040", " ")))
    return out


def _umount(mountpoint):
    for _ in range(10):
        r = subprocess.run(["umount", mountpoint], capture_output=True)
        if r.returncode == 0:
            return True
        time.sleep(0.2)
    return subprocess.run(["umount", "-l", mountpoint], capture_output=True).returncode == 0


def _backing_of(dev):
    try:
        return Path("/sys/block/%s/loop/backing_file" % os.path.basename(dev)).read_text().strip()
    except OSError:
        return None


def _detach_loop(dev, backing):
    """Unmount everything on dev and its partitions, drop partitions, detach."""
    if _backing_of(dev) != str(backing):
        return  # already detached (and maybe reused by someone else): do not touch
    for src, mp in reversed(_mounts()):
        if src == dev or src.startswith(dev + "p"):
            _umount(mp)
    subprocess.run(["partx", "-d", dev], capture_output=True)
    for _ in range(20):
        r = subprocess.run(["losetup", "-d", dev], capture_output=True, text=True)
        if r.returncode == 0 or _backing_of(dev) != str(backing):
            return
        time.sleep(0.25)
    import warnings
    warnings.warn("could not detach %s: %s" % (dev, r.stderr))


class LoopDev:
    def __init__(self, path, backing, size, pattern):
        self.path, self.backing, self.size, self.pattern = path, backing, size, pattern

    def read(self, length=None, offset=0):
        return read_dev(self.path, length, offset)

    def sha(self):
        return sha256_bytes(self.read())

    def part(self, n):
        return "%sp%d" % (self.path, n)

    def __str__(self):
        return self.path

    def __fspath__(self):
        return self.path


def _mbr(partitions):
    """partitions: [(start_sector, n_sectors, type_byte)] -> 66 bytes at offset 446."""
    out = b""
    for start, count, ptype in partitions:
        out += bytes([0, 0xFE, 0xFF, 0xFF, ptype, 0xFE, 0xFF, 0xFF]) + struct.pack("<II", start, count)
    out = out.ljust(64, b"\0")
    return out + b"\x55\xaa"


@pytest.fixture
def loopdev(tmp_path):
    """Factory: loopdev(size, pattern=True, partitions=None) -> LoopDev.

    The backing file is sparse; with pattern=True it is filled with pattern_bytes()
    first. partitions=[(start_sector, n_sectors, type)] writes an MBR and attaches
    with -P (plus `partx -a`, for kernels without the msdos partition parser).
    Everything is unmounted and detached on teardown.
    """
    reason = loop_unavailable_reason()
    if reason:
        pytest.skip(reason)
    created = []

    def make(size, pattern=True, partitions=None):
        backing = tmp_path / ("loop-backing-%d.img" % len(created))
        with open(backing, "wb") as f:
            f.truncate(size)
            if pattern:
                f.seek(0)
                f.write(pattern_bytes(size))
            if partitions:
                f.seek(446)
                f.write(_mbr(partitions))
        argv = ["losetup", "-f", "--show"] + (["-P"] if partitions else []) + [str(backing)]
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            pytest.fail("losetup failed: %s" % r.stderr)
        dev = r.stdout.strip()
        assert dev.startswith("/dev/loop"), dev
        created.append((dev, backing))
        _ALL_LOOPS.append((dev, backing))
        if partitions:
            deadline = time.monotonic() + 5
            while not os.path.exists(dev + "p1") and time.monotonic() < deadline:
                subprocess.run(["partx", "-a", dev], capture_output=True)
                if not os.path.exists(dev + "p1"):
                    time.sleep(0.1)
            if not os.path.exists(dev + "p1"):
                pytest.fail("partition %sp1 did not appear" % dev)
        return LoopDev(dev, backing, size, pattern_bytes(size) if pattern else None)

    try:
        yield make
    finally:
        for dev, backing in reversed(created):
            _detach_loop(dev, backing)


@pytest.fixture
def mounter(tmp_path):
    """mounter.ext4(dev) -> mountpoint (mkfs.ext4 + mount); mounter.tmpfs(size) -> dir.
    Everything mounted here is unmounted on teardown (before loop devices are detached,
    as this fixture is torn down first when requested after loopdev)."""
    mounted = []

    class M:
        @staticmethod
        def ext4(dev):
            subprocess.run(["mkfs.ext4", "-q", "-F", "-E",
                            "lazy_itable_init=0,lazy_journal_init=0", str(dev)],
                           check=True, capture_output=True)
            mp = Path(tempfile.mkdtemp(prefix="mnt-", dir=tmp_path))
            subprocess.run(["mount", "-t", "ext4", str(dev), str(mp)], check=True,
                           capture_output=True)
            mounted.append(str(mp))
            (mp / "hello.txt").write_text("a file on the mounted fs\n")
            subprocess.run(["sync", "-f", str(mp)], check=True)
            return mp

        @staticmethod
        def tmpfs(size):
            mp = Path(tempfile.mkdtemp(prefix="tmpfs-", dir=tmp_path))
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", str(mp)],
                           check=True, capture_output=True)
            mounted.append(str(mp))
            return mp

    try:
        yield M
    finally:
        for mp in reversed(mounted):
            if any(m == mp for _, m in _mounts()):
                _umount(mp)


@pytest.fixture(scope="session", autouse=True)
def _last_resort_loop_cleanup():
    yield
    for dev, backing in _ALL_LOOPS:
        _detach_loop(dev, backing)


# --------------------------------------------------------------------------
# a forward HTTP proxy (for the proxy settings that go carries into the job)
# --------------------------------------------------------------------------

class ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1 (listen_host): it takes absolute-URI requests
    ("GET http://any.host/path HTTP/1.1") for any host name and sends them to nginx on
    127.0.0.1, so a host name that only the proxy "knows" proves that the proxy was used. It
    records (method, absolute URI, Proxy-Authorization) per request."""

    def __init__(self, upstream_port, listen_host="127.0.0.1"):
        import socketserver
        self.upstream_port = upstream_port
        self.requests = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    proxy._serve(self.rfile, self.connection)
                except (OSError, ValueError):
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((listen_host, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _serve(self, rfile, conn):
        while True:
            line = rfile.readline(8192)
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers, auth = [], None
            while True:
                h = rfile.readline(8192)
                if h in (b"\r\n", b"\n", b""):
                    break
                name = h.split(b":", 1)[0].strip().lower()
                if name == b"proxy-authorization":
                    auth = h.split(b":", 1)[1].strip().decode("latin-1")
                    continue
                if name in (b"proxy-connection", b"connection", b"host"):
                    continue
                headers.append(h)
            self.requests.append((method, target, auth))
            if not target.startswith("http://"):
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            path = "/" + target[len("http://"):].split("/", 1)[1] if "/" in \
                target[len("http://"):] else "/"
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
            with up:
                up.sendall(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" %
                            (method, path)).encode() + b"".join(headers) + b"\r\n")
                while True:
                    data = up.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
            return  # one request per connection (the upstream said close)

    def url(self, userinfo=None, host="127.0.0.1"):
        return "http://%s%s:%d" % (userinfo + "@" if userinfo else "", host, self.port)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def forward_proxy(nginx):
    p = ForwardProxy(nginx.port)
    try:
        yield p
    finally:
        p.stop()
