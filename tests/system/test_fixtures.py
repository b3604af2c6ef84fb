"""Self-checks of the test fixtures (nginx, proxy, loop devices, images).

They do not need the reimage binary, so a failure here is a test-environment bug,
not a bug in reimage.
"""

import gzip
import shutil
import sys
from pathlib import Path
import http.client
import os
import socket
import subprocess

import pytest

MiB = 1024 * 1024


def http_get(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


def test_images_decompress_with_real_tools(images):
    tools = {"gzip": ["gzip", "-dc"], "xz": ["xz", "-dc"], "zstd": ["zstd", "-dcq"],
             "bzip2": ["bzip2", "-dc"]}
    assert images.data[:MiB].count(0) < MiB // 2  # non-zero first MiB
    assert images.data[3 * MiB:4 * MiB] == bytes(MiB)  # a zero run
    for fmt, p in images.paths.items():
        if fmt == "raw":
            assert p.read_bytes() == images.data
            continue
        tool = tools[fmt.split("-")[0]]
        out = subprocess.run(tool + [str(p)], capture_output=True, check=True).stdout
        assert out == images.data, fmt
    # the multi variants really consist of two streams
    assert images.bytes("gzip-multi")[10:].count(b"\x1f\x8b\x08") >= 1
    assert images.bytes("zstd-multi")[4:].count(b"\x28\xb5\x2f\xfd") >= 1
    assert images.bytes("xz-multi")[6:].count(b"\xfd7zXZ\x00") >= 1
    assert images.bytes("bzip2-multi")[4:].count(b"BZh9") >= 1


def test_nginx_range_and_norange(nginx, served, images):
    st, h, body = http_get(nginx.port, "/" + served["raw"])
    assert st == 200 and body == images.data and h.get("etag")
    st, h, body = http_get(nginx.port, "/" + served["raw"], {"Range": "bytes=100-"})
    assert st == 206 and body == images.data[100:]
    etag = http_get(nginx.port, "/" + served["raw"], method="HEAD")[1]["etag"]
    st, h, body = http_get(nginx.port, "/" + served["raw"],
                           {"Range": "bytes=100-", "If-Range": etag})
    assert st == 206
    st, h, body = http_get(nginx.port, "/" + served["raw"],
                           {"Range": "bytes=100-", "If-Range": '"other"'})
    assert st == 200 and len(body) == images.size
    st, h, body = http_get(nginx.port, "/norange/" + served["raw"], {"Range": "bytes=100-"})
    assert st == 200 and body == images.data
    st, _, _ = http_get(nginx.port, "/does-not-exist")
    assert st == 404
    url = nginx.put("fixture-check.bin", data=b"hello")
    assert url.endswith("/fixture-check.bin")
    assert http_get(nginx.port, "/fixture-check.bin")[2] == b"hello"


def test_proxy_passthrough_and_records_headers(proxy, served, images):
    st, h, body = http_get(proxy.port, "/" + served["gzip"], {"X-Test": "abc"})
    assert st == 200 and gzip.decompress(body) == images.data
    gets = proxy.gets()
    assert len(gets) == 1 and gets[0].headers["x-test"] == "abc"
    assert proxy.connections[0].resp_head.startswith(b"HTTP/1.1 200")


def test_proxy_cut(proxy, served):
    proxy.cut_after(100000)
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        http_get(proxy.port, "/" + served["raw"])
    assert proxy.cut_event.is_set()
    # second connection passes
    st, _, body = http_get(proxy.port, "/" + served["raw"], {"Range": "bytes=5-"})
    assert st == 206
    assert [c.outcome for c in proxy.connections][0] == "cut"
    assert proxy.gets()[1].headers["range"] == "bytes=5-"


def test_proxy_cut_at_zero_and_respond(proxy, served):
    Fault = proxy.Fault
    proxy.set_faults([Fault("cut", 0),
                      Fault("respond", response=b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n"
                                                b"Connection: close\r\n\r\n")])
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        http_get(proxy.port, "/" + served["raw"])
    st, _, _ = http_get(proxy.port, "/" + served["raw"])
    assert st == 503


def test_proxy_stall(proxy, served):
    proxy.stall_after(50000)
    s = socket.create_connection(("127.0.0.1", proxy.port))
    s.sendall(b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % served["raw"].encode())
    s.settimeout(1.0)
    got = 0
    with pytest.raises(socket.timeout):
        while True:
            d = s.recv(65536)
            assert d
            got += len(d)
    assert got == 50000
    assert proxy.stall_event.is_set()
    s.close()


@pytest.mark.loop
def test_loopdev_fixture(loopdev, mounter):
    d = loopdev(4 * MiB)
    assert os.path.exists(d.path)
    assert d.read(4096) == d.pattern[:4096]
    assert d.sha() == __import__("hashlib").sha256(d.pattern).hexdigest()
    p = loopdev(16 * MiB, partitions=[(2048, 30720, 0x83)])
    assert os.path.exists(p.part(1))
    mp = mounter.ext4(p.part(1))
    before = p.sha()
    assert os.path.ismount(mp)
    subprocess.run(["sync"], check=True)
    assert p.sha() == before  # a mounted idle fs does not change the device


INNER_LOOP_TESTS = """\
import subprocess


def test_attach(loopdev, request):
    d = loopdev(1 << 20)
    assert d.path.startswith("/dev/loop")
    request.config.attached = str(d.backing)


def test_detached_after_the_test(request):
    out = subprocess.run(["losetup", "-j", request.config.attached], capture_output=True,
                         text=True).stdout
    assert out.strip() == ""
"""


@pytest.mark.loop
def test_loopdev_is_detached_after_its_test(tmp_path):
    """The loopdev fixture detaches what a test attached, by the next test. Both run in a
    throw-away pytest session (_pytest_in, no xdist): here they could end up on two workers,
    and the check would have nothing to check."""
    rc, out = _pytest_in(tmp_path, INNER_LOOP_TESTS)
    assert rc == 0 and "2 passed" in out, out


# -- the suite's own rules: a skip or a sanitizer report fails (tests/conftest.py) -------------

SHARED_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _pytest_in(tmp_path, test_text, fake_bin=None):
    """Run pytest on one test file next to a copy of tests/conftest.py (and the module it
    imports); (rc, output)."""
    shutil.copy(SHARED_CONFTEST, tmp_path / "conftest.py")
    shutil.copy(SHARED_CONFTEST.parent / "nginx_server.py", tmp_path / "nginx_server.py")
    (tmp_path / "test_x.py").write_text(test_text)
    env = {k: v for k, v in os.environ.items() if k not in ("REIMAGE_ALLOW_SKIPS", "PYTEST_ADDOPTS")}
    if fake_bin:
        env["REIMAGE_BIN"] = str(fake_bin)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                        str(tmp_path / "test_x.py")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_a_skipped_test_fails_the_run(tmp_path):
    rc, out = _pytest_in(tmp_path, "import pytest\n\ndef test_a():\n    pass\n\n"
                                   "def test_b():\n    pytest.skip('no widget here')\n")
    assert rc == 1, out
    assert "skipped tests count as failures" in out and "no widget here" in out, out


def test_a_run_without_skips_passes(tmp_path):
    rc, out = _pytest_in(tmp_path, "def test_a():\n    pass\n")
    assert rc == 0, out


@pytest.mark.parametrize("script", [
    "echo 'x.c:1:2: runtime error: signed integer overflow' >&2; exit 1",
    "echo '==1==ERROR: AddressSanitizer: heap-use-after-free' >&2; exit 1",
    "exit 86",
    "exit 87",
], ids=["ubsan-text", "asan-text", "asan-exit", "ubsan-exit"])
def test_a_sanitizer_report_fails_a_test_that_expects_failure(tmp_path, script):
    fake = tmp_path / "fake-reimage"
    fake.write_text("#!/bin/sh\n" + script + "\n")
    fake.chmod(0o755)
    rc, out = _pytest_in(tmp_path, "def test_expects_status_1(run_reimage):\n"
                                   "    r = run_reimage('flash', 'a', 'b')\n"
                                   "    assert r.rc != 0\n", fake_bin=fake)
    assert rc == 1, out
    assert "sanitizer" in out.lower() and "1 failed" in out, out
