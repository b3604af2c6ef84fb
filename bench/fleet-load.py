#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A fleet against one image server: N `reimage flash` clients start at once against one nginx
that serves at most CONNS connections (the rest get 503 with Retry-After, nginx's limit_conn)
at RATE bytes per second each (limit_rate; CONNS * RATE is the server's total). Every client
writes to its own file, which must be byte-identical to the image; none may give up.

Prints, and returns from run(): clients, image size, wall time, aggregate MB/s (bytes delivered
to all clients / wall time), retries (the clients' "retry" events), 503s answered by nginx,
slowest and fastest client, the least Retry-After honoured (the shortest retry delay after a
503 carrying Retry-After).

  bench/fleet-load.py [--clients 50] [--conns 8] [--rate 4m] [--size 8m] [--retry-after 2]
                      [--reimage build/reimage]

Used by tests/system/test_load.py with the same defaults; docs/performance.md has the figures.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
# the tests' nginx helpers
from nginx_server import nginx_conf, start_nginx, stop_nginx  # noqa: E402

NGINX_SERVER = """\
    sendfile on;
    keepalive_timeout 0;
    limit_conn_zone $server_port zone=image_server:1m;
    server {{
        listen 127.0.0.1:{port} sndbuf=64k;
        root {docroot};
        location / {{
            limit_conn image_server {conns};
            limit_conn_status 503;
            limit_rate {rate};
            error_page 503 @busy;
        }}
        location @busy {{
            add_header Retry-After {retry_after} always;
            return 503 "busy: at most {conns} connections\\n";
        }}
    }}
"""


def parse_size(s):
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    s = s.strip().lower()
    return int(float(s[:-1]) * mult[s[-1]]) if s[-1] in mult else int(s)


def make_image(size, seed=7):
    """Half random, half compressible text: a zstd stream about half the image's size."""
    rnd = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += rnd.randbytes(64 << 10)
        out += (b"reimage fleet load test %08d\n" % len(out)) * 2048
    return bytes(out[:size])


class Server:
    def __init__(self, base, conns, rate, retry_after):
        self.base = base
        self.docroot = os.path.join(base, "www")
        os.makedirs(self.docroot)
        os.makedirs(os.path.join(base, "tmp"))
        os.chmod(base, 0o755)
        os.chmod(self.docroot, 0o755)
        self.proc, (self.port,) = start_nginx(base, lambda ports: nginx_conf(
            base, "$status $body_bytes_sent",
            NGINX_SERVER.format(docroot=self.docroot, port=ports[0], conns=conns, rate=rate,
                                retry_after=retry_after),
            connections=1024, error_level="warn"))

    def statuses(self):
        out = {}
        with open(os.path.join(self.base, "access.log")) as f:
            for line in f:
                st = line.split()[0]
                out[st] = out.get(st, 0) + 1
        return out

    def stop(self):
        stop_nginx(self.proc)


def run(reimage, clients=50, conns=8, rate="4m", size=8 << 20, retry_after=2, workdir=None,
        timeout=600):
    base = tempfile.mkdtemp(prefix="reimage-fleet-load-", dir=workdir)
    server = None
    procs = []
    try:
        image = make_image(size)
        comp = subprocess.run(["zstd", "-q", "-3", "-c"], input=image, capture_output=True,
                              check=True).stdout
        server = Server(base, conns, rate, retry_after)
        with open(os.path.join(server.docroot, "img.zst"), "wb") as f:
            f.write(comp)
        os.chmod(os.path.join(server.docroot, "img.zst"), 0o644)
        sha = hashlib.sha256(comp).hexdigest()
        url = "http://127.0.0.1:%d/img.zst" % server.port
        outdir = os.path.join(base, "out")
        os.makedirs(outdir)
        t0 = time.monotonic()
        for i in range(clients):
            out = os.path.join(outdir, "client-%02d.img" % i)
            log = open(os.path.join(outdir, "client-%02d.json" % i), "wb")
            p = subprocess.Popen([reimage, "flash", "--json", "--sha256", sha, url, out],
                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()
            procs.append((i, p, out, t0))
        ends, rcs = {}, {}
        deadline = t0 + timeout
        while len(ends) < clients:
            for i, p, _out, _t in procs:
                if i not in ends and p.poll() is not None:
                    ends[i] = time.monotonic() - t0
                    rcs[i] = p.returncode
            if time.monotonic() > deadline:
                raise RuntimeError("clients still running after %d s" % timeout)
            time.sleep(0.02)
        wall = max(ends.values())
        retries, min_delay, identical, failures = 0, None, 0, []
        for i, _p, out, _t in procs:
            events = []
            with open(os.path.join(outdir, "client-%02d.json" % i), errors="replace") as f:
                for line in f:
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        pass  # stderr lines (none expected)
            for e in events:
                if e.get("event") == "retry":
                    retries += 1
                    if "503" in e.get("reason", ""):
                        d = e["delay_ms"]
                        min_delay = d if min_delay is None else min(min_delay, d)
            ok = os.path.exists(out) and open(out, "rb").read() == image
            identical += ok
            if rcs[i] != 0 or not ok:
                failures.append((i, rcs[i], ok, events[-3:]))
        st = server.statuses()
        return dict(clients=clients, conns=conns, rate=rate, image_bytes=size,
                    compressed_bytes=len(comp), wall_s=round(wall, 2),
                    aggregate_MBps=round(clients * len(comp) / wall / 1e6, 1),
                    retries=retries, http_503=st.get("503", 0), http_200=st.get("200", 0),
                    slowest_s=round(max(ends.values()), 2), fastest_s=round(min(ends.values()), 2),
                    min_retry_delay_ms=min_delay, retry_after_s=retry_after,
                    identical=identical, failures=failures)
    finally:
        for _i, p, _o, _t in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if server:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--rate", default="4m", help="nginx limit_rate per connection")
    ap.add_argument("--size", default="8m", help="image size")
    ap.add_argument("--retry-after", type=int, default=2)
    ap.add_argument("--reimage", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                      "reimage"))
    a = ap.parse_args()
    res = run(os.path.abspath(a.reimage), a.clients, a.conns, a.rate, parse_size(a.size),
              a.retry_after)
    print(json.dumps(res, indent=1))
    return 0 if not res["failures"] and res["identical"] == res["clients"] else 1


if __name__ == "__main__":
    sys.exit(main())
