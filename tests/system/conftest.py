"""TLS fixtures for the system tests (see the TLS section of docs/reimage-flash.1.md).

Fixtures
--------
tls_pki     session: a throw-away PKI made with openssl in a temporary directory
            (.ca, .server_cert/.server_key for 127.0.0.1, .wrong_name_cert, .expired_cert,
            .client_ca, .client_cert/.client_key, .pin = sha256//BASE64 of the server key)
tls_nginx   session: a second nginx with one server block per case, all on 127.0.0.1:
            .url(case, name) for case in trusted, wrong_name, expired, client_auth (https)
            and plain (http); .data is the served image "disk.img" (and "SHA256SUMS" lists
            it); /downgrade/disk.img on the trusted server answers 302 to the plain-http
            copy, /moved/disk.img 302 to the https copy; .requests(case) the request lines
            that server logged. Stopped by its own PID on teardown.

Everything listens on 127.0.0.1 only; every key is generated for this run and deleted after.
"""

import hashlib
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from nginx_server import NGINX_BIN, nginx_conf, start_nginx, stop_nginx

TLS_CASES = ("trusted", "wrong_name", "expired", "client_auth", "plain")


def _openssl(*args, cwd, input=None):
    r = subprocess.run(["openssl"] + [str(a) for a in args], cwd=cwd, input=input,
                       capture_output=True)
    if r.returncode != 0:
        pytest.fail("openssl %s failed:\n%s" % (" ".join(map(str, args)),
                                               r.stderr.decode(errors="replace")))
    return r.stdout


# `openssl ca` is the one tool in OpenSSL 3.0 that sets arbitrary validity dates (for the
# expired certificate); the extension sections are shared with `openssl x509 -req`.
CA_CONF = """\
[ca]
default_ca = testca
[testca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[server_ip]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[server_wrong_name]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""


class PKI:
    def __init__(self, d):
        self.dir = Path(d)

    def p(self, name):
        return self.dir / name


def _make_ca(d, name, cn):
    _openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "30",
             "-subj", "/CN=" + cn, "-config", "ca.cnf", "-extensions", "v3_ca", cwd=d)


def _make_leaf(d, name, cn, ca, ext, expired=False):
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
    if expired:
        _openssl("ca", "-batch", "-config", "ca.cnf", "-name", "testca", "-cert", ca + ".crt",
                 "-keyfile", ca + ".key", "-in", name + ".csr", "-out", name + ".crt",
                 "-extensions", ext, "-startdate", "20200101000000Z",
                 "-enddate", "20200102000000Z", "-notext", cwd=d)
    else:
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
                 "-CAcreateserial", "-out", name + ".crt", "-days", "30",
                 "-extfile", "ca.cnf", "-extensions", ext, cwd=d)


def spki_pin(cert, cwd):
    """sha256//BASE64 of the certificate's public key, as curl's --pinnedpubkey wants it."""
    pub = _openssl("x509", "-in", cert, "-noout", "-pubkey", cwd=cwd)
    der = _openssl("pkey", "-pubin", "-outform", "der", cwd=cwd, input=pub)
    digest = _openssl("dgst", "-sha256", "-binary", cwd=cwd, input=der)
    return "sha256//" + _openssl("base64", "-A", cwd=cwd, input=digest).decode().strip()


@pytest.fixture(scope="session")
def tls_pki():
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    d = Path(tempfile.mkdtemp(prefix="reimage-tls-pki-"))
    try:
        (d / "newcerts").mkdir()
        (d / "index.txt").write_text("")
        (d / "serial").write_text("1000\n")
        (d / "ca.cnf").write_text(CA_CONF.format(dir=d))
        _make_ca(d, "ca", "reimage test CA")
        _make_ca(d, "client-ca", "reimage test client CA")
        _make_leaf(d, "server", "127.0.0.1", "ca", "server_ip")
        _make_leaf(d, "wrong-name", "wrong.example", "ca", "server_wrong_name")
        _make_leaf(d, "expired", "127.0.0.1", "ca", "server_ip", expired=True)
        _make_leaf(d, "client", "reimage test client", "client-ca", "client")
        for f in d.iterdir():
            if f.suffix == ".key":
                os.chmod(f, 0o600)
        pki = PKI(d)
        pki.ca = d / "ca.crt"
        pki.server_cert, pki.server_key = d / "server.crt", d / "server.key"
        pki.wrong_name_cert, pki.wrong_name_key = d / "wrong-name.crt", d / "wrong-name.key"
        pki.expired_cert, pki.expired_key = d / "expired.crt", d / "expired.key"
        pki.client_ca = d / "client-ca.crt"
        pki.client_cert, pki.client_key = d / "client.crt", d / "client.key"
        pki.pin = spki_pin("server.crt", d)
        pki.other_pin = spki_pin("wrong-name.crt", d)
        yield pki
    finally:
        shutil.rmtree(d, ignore_errors=True)


TLS_NGINX_SERVERS = """\
    root {docroot};
    server {{
        listen 127.0.0.1:{trusted} ssl;
        ssl_certificate {pki}/server.crt;
        ssl_certificate_key {pki}/server.key;
        location / {{ }}
        # a downgrade: https -> plain http (must be refused)
        location = /downgrade/disk.img {{ return 302 http://127.0.0.1:{plain}/disk.img; }}
        # https -> https (must be followed)
        location = /moved/disk.img {{ return 302 https://127.0.0.1:{trusted}/disk.img; }}
    }}
    server {{
        listen 127.0.0.1:{wrong_name} ssl;
        ssl_certificate {pki}/wrong-name.crt;
        ssl_certificate_key {pki}/wrong-name.key;
        location / {{ }}
    }}
    server {{
        listen 127.0.0.1:{expired} ssl;
        ssl_certificate {pki}/expired.crt;
        ssl_certificate_key {pki}/expired.key;
        location / {{ }}
    }}
    server {{
        listen 127.0.0.1:{client_auth} ssl;
        ssl_certificate {pki}/server.crt;
        ssl_certificate_key {pki}/server.key;
        ssl_verify_client on;
        ssl_client_certificate {pki}/client-ca.crt;
        location / {{ }}
    }}
    server {{
        listen 127.0.0.1:{plain};
        location / {{ }}
    }}
"""


class TLSNginx:
    def __init__(self, base):
        self.base = Path(base)
        self.docroot = self.base / "www"
        self.ports = {}
        self.data = b""

    def url(self, case, name="disk.img"):
        scheme = "http" if case == "plain" else "https"
        return "%s://127.0.0.1:%d/%s" % (scheme, self.ports[case], name.lstrip("/"))

    def requests(self, case):
        """Request lines ("GET /disk.img HTTP/1.1") the server of `case` has logged."""
        try:
            lines = (self.base / "access.log").read_text(errors="replace").splitlines()
        except OSError:
            return []
        port = str(self.ports[case])
        return [l.split('"')[1] for l in lines if l.split(" ", 1)[0] == port and '"' in l]

    def error_log(self):
        try:
            return (self.base / "error.log").read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture(scope="session")
def tls_nginx(tls_pki):
    if not os.access(NGINX_BIN, os.X_OK):
        pytest.skip("nginx not installed at %s" % NGINX_BIN)
    base = tempfile.mkdtemp(prefix="reimage-tls-nginx-")
    os.chmod(base, 0o755)  # workers run as www-data
    ng = TLSNginx(base)
    ng.docroot.mkdir()
    os.chmod(ng.docroot, 0o755)
    (ng.base / "tmp").mkdir()
    # 2.5 MiB: more than the held-back first MiB, so a success writes in two steps
    ng.data = random.Random(4242).randbytes(5 * 512 * 1024)
    img = ng.docroot / "disk.img"
    img.write_bytes(ng.data)
    sums = ng.docroot / "SHA256SUMS"
    sums.write_text("%s  disk.img\n" % hashlib.sha256(ng.data).hexdigest())
    for f in (img, sums):
        os.chmod(f, 0o644)
    proc = None

    def conf(ports):
        ng.ports = dict(zip(TLS_CASES, ports))
        return nginx_conf(ng.base, '$server_port "$request" $status',
                          TLS_NGINX_SERVERS.format(docroot=ng.docroot, pki=tls_pki.dir,
                                                   **ng.ports),
                          connections=64)
    try:
        try:
            proc, _ = start_nginx(ng.base, conf, len(TLS_CASES))
        except RuntimeError as e:
            pytest.fail("TLS " + str(e))
        yield ng
    finally:
        stop_nginx(proc)
        shutil.rmtree(base, ignore_errors=True)


def job_of_initrd(initrd):
    """The job file in a flasher initramfs: the last newc member named etc/reimage/job.conf
    (its own uncompressed archive at the end; the binary in the first one may hold the same
    name as a string)."""
    data = initrd.read_bytes()
    i = data.rindex(b"etc/reimage/job.conf\0")
    size = int(data[data.rindex(b"070701", 0, i):i][54:62], 16)
    start = (i + len("etc/reimage/job.conf") + 1 + 3) & ~3
    return data[start:start + size].decode()
