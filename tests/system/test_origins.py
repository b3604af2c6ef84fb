"""Secrets go only to their own server (issue 10): the user's --header values and the
credentials in SRC reach SRC's origin (scheme, host, port) and no other, whether another server
is named by a redirect, by --sums-sig or by --minisig; every URL printed is redacted.

Two origins: one nginx with two server blocks on two loopback ports ("a" and "b"); "a" answers
/to-b/NAME with a 302 to b, /self/NAME with a relative 302 to /NAME, /self-abs/NAME with an
absolute 302 to its own origin. Each server logs the X-Secret and Authorization headers it got.
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from nginx_server import NGINX_BIN, nginx_conf, start_nginx, stop_nginx

SECRET = "S3cretHeaderValue42"
PASSWORD = "pa55wordInUrl77"
TOKEN = "t0kenInQuery99"
IMAGE = os.urandom(256 * 1024)
DATA = Path(__file__).resolve().parents[1] / "data" / "minisign"

# what each origin received: the secret header and the credentials
LOG = '"$request" $status xs="$http_x_secret" auth="$http_authorization"'
SERVERS = """\
    absolute_redirect off;
    server {{
        listen 127.0.0.1:{pa};
        access_log {base}/a.log main;
        root {www};
        location ~ ^/to-b/(.*)$ {{ return 302 http://127.0.0.1:{pb}/$1; }}
        location ~ ^/self/(.*)$ {{ return 302 /$1; }}
        location ~ ^/self-abs/(.*)$ {{ return 302 http://127.0.0.1:{pa}/$1; }}
        location / {{ }}
    }}
    server {{
        listen 127.0.0.1:{pb};
        access_log {base}/b.log main;
        root {www};
        location / {{ }}
    }}
"""


class Origins:
    def __init__(self, base):
        self.base = Path(base)
        self.www = self.base / "www"

    def url(self, server, path, userinfo=""):
        port = self.pa if server == "a" else self.pb
        return "http://%s127.0.0.1:%d/%s" % (userinfo + "@" if userinfo else "", port, path)

    def log(self, server):
        """The lines logged so far by server a or b (nginx writes them as requests end)."""
        try:
            return (self.base / ("%s.log" % server)).read_text()
        except FileNotFoundError:
            return ""

    def clear_logs(self):
        for s in "ab":
            p = self.base / ("%s.log" % s)
            if p.exists():
                p.write_text("")


@pytest.fixture(scope="module")
def origins():
    if not os.access(NGINX_BIN, os.X_OK):
        pytest.fail("nginx is needed (scripts/install-deps installs it)")
    base = tempfile.mkdtemp(prefix="reimage-origins-")
    os.chmod(base, 0o755)
    o = Origins(base)
    o.www.mkdir()
    (o.base / "tmp").mkdir()
    (o.www / "disk.img").write_bytes(IMAGE)
    (o.www / "SHA256SUMS").write_text("%s  disk.img\n" % hashlib.sha256(IMAGE).hexdigest())
    (o.www / "SHA256SUMS.gpg").write_bytes(b"not a signature")
    (o.www / "disk.img.minisig").write_bytes((DATA / "data.bin.minisig").read_bytes())
    for p in o.www.iterdir():
        os.chmod(p, 0o644)
    os.chmod(o.www, 0o755)
    proc = None

    def conf(ports):
        o.pa, o.pb = ports
        return nginx_conf(base, LOG, SERVERS.format(base=base, www=o.www, pa=o.pa, pb=o.pb),
                          connections=64)
    try:
        try:
            proc, _ = start_nginx(base, conf, 2)
        except RuntimeError as e:
            pytest.fail(str(e))
        yield o
    finally:
        stop_nginx(proc)
        shutil.rmtree(base, ignore_errors=True)


def wait_log(origins, server, needle, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in origins.log(server):
            return origins.log(server)
        time.sleep(0.05)
    return origins.log(server)


def lines_for(log, path):
    return [line for line in log.splitlines() if ('"GET /%s ' % path) in line]


def test_header_and_credentials_dropped_on_redirect_to_another_origin(flash, origins, tmp_path):
    origins.clear_logs()
    dst = tmp_path / "out.img"
    src = origins.url("a", "to-b/disk.img", userinfo="alice:" + PASSWORD)
    r = flash("--header", "X-Secret: " + SECRET, src, dst)
    assert r.rc == 0, r.err
    assert dst.read_bytes() == IMAGE
    a = lines_for(wait_log(origins, "a", "to-b/disk.img"), "to-b/disk.img")
    b = lines_for(wait_log(origins, "b", "/disk.img"), "disk.img")
    assert a and b, (origins.log("a"), origins.log("b"))
    # SRC's own server got the header and the credentials ...
    assert all(('xs="%s"' % SECRET) in line and 'auth="Basic ' in line for line in a), a
    # ... the server the redirect named got neither
    assert all('xs="-"' in line and 'auth="-"' in line for line in b), b
    assert SECRET not in origins.log("b")
    assert PASSWORD not in r.err + r.out


@pytest.mark.parametrize("path", ["self/disk.img", "self-abs/disk.img"], ids=["relative", "absolute"])
def test_header_and_credentials_kept_on_redirect_within_the_origin(flash, origins, tmp_path, path):
    origins.clear_logs()
    dst = tmp_path / "out.img"
    src = origins.url("a", path, userinfo="alice:" + PASSWORD)
    r = flash("--header", "X-Secret: " + SECRET, src, dst)
    assert r.rc == 0, r.err
    assert dst.read_bytes() == IMAGE
    log = wait_log(origins, "a", '"GET /disk.img ')
    hops = lines_for(log, path) + lines_for(log, "disk.img")
    assert len(hops) == 2, log
    assert all(('xs="%s"' % SECRET) in line and 'auth="Basic ' in line for line in hops), hops


def test_sums_sig_on_another_origin_gets_no_header(flash, origins, tmp_path):
    origins.clear_logs()
    keyring = tmp_path / "keyring.gpg"
    keyring.write_bytes(b"\x99\x00\x00")  # read before the signature is fetched; never trusted
    r = flash("--header", "X-Secret: " + SECRET, "--sums", origins.url("a", "SHA256SUMS"),
              "--sums-sig", origins.url("b", "SHA256SUMS.gpg"), "--keyring", keyring,
              origins.url("a", "disk.img"), tmp_path / "out.img")
    assert r.rc != 0  # not a real signature
    a = lines_for(wait_log(origins, "a", "SHA256SUMS"), "SHA256SUMS")
    b = lines_for(wait_log(origins, "b", "SHA256SUMS.gpg"), "SHA256SUMS.gpg")
    assert a and b, (origins.log("a"), origins.log("b"))
    assert ('xs="%s"' % SECRET) in a[0], a  # the list is on SRC's server
    assert all('xs="-"' in line for line in b), b


def test_sums_sig_on_the_same_origin_gets_the_header(flash, origins, tmp_path):
    origins.clear_logs()
    keyring = tmp_path / "keyring.gpg"
    keyring.write_bytes(b"\x99\x00\x00")
    r = flash("--header", "X-Secret: " + SECRET, "--sums", origins.url("a", "SHA256SUMS"),
              "--sums-sig", origins.url("a", "SHA256SUMS.gpg"), "--keyring", keyring,
              origins.url("a", "disk.img"), tmp_path / "out.img")
    assert r.rc != 0
    a = lines_for(wait_log(origins, "a", "SHA256SUMS.gpg"), "SHA256SUMS.gpg")
    assert a and ('xs="%s"' % SECRET) in a[0], origins.log("a")


@pytest.mark.parametrize("server", ["a", "b"])
def test_minisig_gets_the_header_only_on_the_same_origin(flash, origins, tmp_path, server):
    origins.clear_logs()
    r = flash("--header", "X-Secret: " + SECRET, "--minisig", origins.url(server, "disk.img.minisig"),
              "--pubkey", DATA / "test.pub", origins.url("a", "disk.img"), tmp_path / "out.img")
    assert r.rc != 0  # the signature is for other data
    lines = lines_for(wait_log(origins, server, "disk.img.minisig"), "disk.img.minisig")
    assert lines, origins.log(server)
    if server == "a":
        assert ('xs="%s"' % SECRET) in lines[0], lines
    else:
        assert 'xs="-"' in lines[0], lines


@pytest.mark.parametrize("json_out", [False, True], ids=["stderr", "json"])
def test_minisig_url_is_redacted(flash, origins, tmp_path, json_out):
    sig = origins.url("b", "missing.minisig?token=" + TOKEN, userinfo="bob:" + PASSWORD)
    r = flash(*(["--json"] if json_out else []), "--minisig", sig, "--pubkey", DATA / "test.pub",
              origins.url("a", "disk.img"), tmp_path / "out.img")
    assert r.rc == 3, r.err
    both = r.out + r.err
    assert PASSWORD not in both and TOKEN not in both, both
    assert "missing.minisig" in r.err  # the message still names the file
    if json_out:
        errors = [json.loads(l) for l in r.out.splitlines() if '"event":"error"' in l]
        assert errors and "missing.minisig" in errors[0]["message"], r.out
