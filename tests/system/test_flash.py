"""System tests of `reimage flash SRC DST` against docs/reimage-flash.1.md.

Sources are served by a private nginx on 127.0.0.1 (optionally through a
fault-injecting proxy); targets are temporary files and loop devices.
"""

import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import time

import pytest

MiB = 1024 * 1024

# fmt (fixture key) -> format name expected in the JSON "done" event
FORMAT_NAMES = {
    "raw": "raw",
    "gzip": "gzip",
    "xz": "xz",
    "zstd": "zstd",
    "bzip2": "bzip2",
    "gzip-multi": "gzip",
    "zstd-multi": "zstd",
    "xz-multi": "xz",
    "bzip2-multi": "bzip2",
}
COMPRESSED = ["gzip", "xz", "zstd", "bzip2"]

ZEROED_RE = re.compile(r"first and last MiB of .*were zeroed", re.I | re.S)
NOTHING_RE = re.compile(r"nothing was written", re.I)
LOOP_SIZE = 16 * MiB


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def sha256(data):
    return hashlib.sha256(data).hexdigest()


def msg(r):
    """Everything the program printed (human messages go to stderr)."""
    return r.out + r.err


def events(out):
    evs = []
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            pytest.fail("stdout line is not JSON with --json: %r" % line)
        assert isinstance(ev, dict) and "event" in ev, line
        evs.append(ev)
    return evs


def by_kind(evs, kind):
    return [e for e in evs if e["event"] == kind]


def fail_closed_kind(r):
    """Which of the two fail-closed messages the run printed (exactly one)."""
    text = msg(r)
    zeroed, nothing = bool(ZEROED_RE.search(text)), bool(NOTHING_RE.search(text))
    assert zeroed != nothing, (
        "message must say either 'the first and last MiB of DST were zeroed' or "
        "'nothing was written to DST' (exactly one); got: %r" % text)
    return "zeroed" if zeroed else "nothing"


def assert_fail_closed_file(path, r):
    """A new file target after a failure agrees with the message."""
    kind = fail_closed_kind(r)
    if kind == "zeroed":
        assert path.exists(), "message says zeroed but %s does not exist" % path
        head = path.read_bytes()[:MiB]
        assert head == bytes(len(head)), "first MiB of %s is not all zeros" % path
    else:
        assert not path.exists() or path.stat().st_size == 0, (
            "message says nothing was written but %s has %d bytes" % (path, path.stat().st_size))
    return kind


def assert_fail_closed_dev(dev, before, r):
    """A pattern-filled loop device after a failure agrees with the message."""
    kind = fail_closed_kind(r)
    after = dev.read()
    if kind == "zeroed":
        assert after[:MiB] == bytes(MiB), "message says zeroed but first MiB is not zero"
        assert after[-MiB:] == bytes(MiB), "message says zeroed but the last MiB is not zero"
    else:
        assert after == before, "message says nothing was written but the device changed"
    return kind


def assert_same_as_image(path, images):
    data = open(path, "rb").read()
    assert len(data) == images.size, "size %d != image size %d" % (len(data), images.size)
    assert data == images.data, "content differs from the image"


def assert_sparse(path, images):
    st = os.stat(path)
    # the image has ~6 MiB in long zero runs; they must be holes
    assert st.st_blocks * 512 < images.size - 4 * MiB, (
        "file not sparse: %d bytes allocated for a %d byte image" % (st.st_blocks * 512, images.size))


def head(nginx, name):
    c = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
    c.request("HEAD", "/" + name)
    resp = c.getresponse()
    resp.read()
    h = {k.lower(): v for k, v in resp.getheaders()}
    c.close()
    return h


def no_error_words(r):
    assert "error" not in msg(r).lower(), msg(r)


# --------------------------------------------------------------------------
# formats over HTTP
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(FORMAT_NAMES))
def test_http_to_new_file(fmt, flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--json", nginx.url(served[fmt]), dst)
    assert r.rc == 0, msg(r)
    evs = events(r.out)
    assert by_kind(evs, "start") and by_kind(evs, "done")[0]["format"] == FORMAT_NAMES[fmt]
    assert by_kind(evs, "done") and by_kind(evs, "done")[-1]["out"] == images.size
    assert_same_as_image(dst, images)
    assert_sparse(dst, images)


@pytest.mark.loop
@pytest.mark.parametrize("fmt", list(FORMAT_NAMES))
def test_http_to_loop_device(fmt, flash, nginx, served, images, loopdev):
    dev = loopdev(LOOP_SIZE)  # pre-filled with a non-zero pattern: zero runs must read back as 0
    r = flash(nginx.url(served[fmt]), dev.path)
    assert r.rc == 0, msg(r)
    no_error_words(r)
    assert dev.read(images.size) == images.data


def test_format_detected_by_magic_not_name(flash, nginx, images, tmp_path):
    nginx.put("really-zstd.img.gz", src=images.path("zstd"))
    nginx.put("really-raw.img.xz", src=images.path("raw"))
    for name, fmt in (("really-zstd.img.gz", "zstd"), ("really-raw.img.xz", "raw")):
        dst = tmp_path / (name + ".out")
        r = flash("--json", nginx.url(name), dst)
        assert r.rc == 0, msg(r)
        assert by_kind(events(r.out), "done")[0]["format"] == fmt
        assert_same_as_image(dst, images)


@pytest.mark.parametrize("fmt", ["raw", "gzip", "zstd-multi"])
def test_file_source(fmt, flash, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash(images.path(fmt), dst)
    assert r.rc == 0, msg(r)
    no_error_words(r)
    assert_same_as_image(dst, images)


@pytest.mark.parametrize("fmt", ["raw", "xz", "gzip-multi"])
def test_stdin_source(fmt, flash, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("-", dst, input=images.bytes(fmt))
    assert r.rc == 0, msg(r)
    no_error_words(r)
    assert_same_as_image(dst, images)


def test_stdin_json_size_unknown(flash, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--json", "-", dst, input=images.bytes("zstd"))
    assert r.rc == 0, msg(r)
    evs = events(r.out)
    assert by_kind(evs, "start") and by_kind(evs, "done")[0]["format"] == "zstd"
    assert all(e["total_in"] is None for e in by_kind(evs, "progress"))
    assert_same_as_image(dst, images)


def test_existing_larger_file_is_truncated(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    dst.write_bytes(b"\xee" * (20 * MiB))
    r = flash(nginx.url(served["gzip"]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)  # size shrank, old bytes in holes are gone


@pytest.mark.parametrize("size", [300001, 3 * MiB + 777], ids=["tiny", "odd-size"])
def test_small_and_odd_sized_images(size, flash, nginx, images, tmp_path):
    data = bytearray(os.urandom(size))
    data[size // 2:] = bytes(size - size // 2)  # ends in a zero run of odd length
    data = bytes(data)
    src = images.make_variant("gzip", data, "small-%d.img.gz" % size)
    nginx.put(src.name, src=src)
    dst = tmp_path / "out.img"
    r = flash("--image-sha256", sha256(data), nginx.url(src.name), dst)
    assert r.rc == 0, msg(r)
    assert dst.read_bytes() == data


# --------------------------------------------------------------------------
# verification
# --------------------------------------------------------------------------

def test_sha256_right(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--sha256", images.sha("xz"), nginx.url(served["xz"]), dst)
    assert r.rc == 0, msg(r)
    no_error_words(r)
    assert_same_as_image(dst, images)


def test_sha256_uppercase_accepted(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--sha256", images.sha("gzip").upper(), nginx.url(served["gzip"]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)


def test_sha256_wrong(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--sha256", "0" * 64, nginx.url(served["xz"]), dst)
    assert r.rc == 4, msg(r)
    assert "sha-256 mismatch" in msg(r).lower()
    assert assert_fail_closed_file(dst, r) == "zeroed"


def test_image_sha256_right(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--image-sha256", images.sha256, nginx.url(served["zstd"]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)


def test_image_sha256_wrong(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--image-sha256", "ab" * 32, nginx.url(served["zstd"]), dst)
    assert r.rc == 4, msg(r)
    assert "sha-256 mismatch" in msg(r).lower()
    assert assert_fail_closed_file(dst, r) == "zeroed"


def sums_line(style, name, digest):
    if style == "text":
        return "%s  %s\n" % (digest, name)
    if style == "binary":
        return "%s *%s\n" % (digest, name)
    return "SHA256 (%s) = %s\n" % (name, digest)


@pytest.mark.parametrize("style", ["text", "binary", "bsd"])
def test_sums_local_file(style, flash, nginx, served, images, tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_line(style, "other.img.xz", "1" * 64)
                    + sums_line(style, served["zstd"], images.sha("zstd"))
                    + sums_line(style, "zzz.img", "2" * 64))
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, nginx.url(served["zstd"]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)


def test_sums_url(flash, nginx, served, images, tmp_path):
    sums_url = nginx.put("SHA256SUMS-good", data=(
        sums_line("text", served["xz"], images.sha("xz"))
        + sums_line("text", served["gzip"], images.sha("gzip"))).encode())
    dst = tmp_path / "out.img"
    r = flash("--sums", sums_url, nginx.url(served["gzip"]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)


def test_sums_name_ignores_query_string(flash, nginx, served, images, tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_line("text", served["gzip"], images.sha("gzip")))
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, nginx.url(served["gzip"]) + "?token=abc&x=1", dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)


def test_sums_wrong_entry(flash, nginx, served, images, tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_line("text", served["zstd"], "3" * 64))
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, nginx.url(served["zstd"]), dst)
    assert r.rc == 4, msg(r)
    assert "mismatch" in msg(r).lower()
    assert assert_fail_closed_file(dst, r) == "zeroed"


@pytest.mark.parametrize("existing", [False, True], ids=["new-target", "existing-target"])
def test_sums_no_entry(existing, flash, nginx, served, images, tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_line("text", "something-else.img.zst", images.sha("zstd")))
    dst = tmp_path / "out.img"
    before = b"precious existing content\n" * 1000
    if existing:
        dst.write_bytes(before)
    r = flash("--sums", sums, nginx.url(served["zstd"]), dst)
    assert r.rc == 4, msg(r)
    assert "no entry" in msg(r).lower()
    if existing:
        assert dst.read_bytes() == before, "target changed although the sums file has no entry"
    else:
        assert not dst.exists(), "target created although the sums file has no entry"


def test_sums_with_stdin_and_name(flash, images, tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_line("text", "disk.img.zst", images.sha("zstd")))
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, "--name", "disk.img.zst", "-", dst, input=images.bytes("zstd"))
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)


def test_sums_with_stdin_and_unknown_name(flash, images, tmp_path):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums_line("text", "disk.img.zst", images.sha("zstd")))
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, "--name", "nope.img.zst", "-", dst, input=images.bytes("zstd"))
    assert r.rc == 4, msg(r)
    assert "no entry" in msg(r).lower()
    assert not dst.exists()


@pytest.mark.loop
def test_sha256_wrong_on_loop_device_zeroes_first_mib(flash, nginx, served, images, loopdev):
    dev = loopdev(LOOP_SIZE)
    r = flash("--sha256", "f" * 64, nginx.url(served["zstd"]), dev.path)
    assert r.rc == 4, msg(r)
    assert "sha-256 mismatch" in msg(r).lower()
    assert ZEROED_RE.search(msg(r)), msg(r)
    assert dev.read(MiB) == bytes(MiB), "first MiB of the device is not all zeros"


def test_verify_file(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--json", "--verify", nginx.url(served["xz"]), dst)
    assert r.rc == 0, msg(r)
    checks = [e.get("check") for e in by_kind(events(r.out), "verified")]
    assert "read-back" in checks, r.out
    assert_same_as_image(dst, images)


@pytest.mark.loop
def test_verify_loop_device(flash, nginx, served, images, loopdev):
    dev = loopdev(LOOP_SIZE)
    r = flash("--json", "--verify", nginx.url(served["gzip"]), dev.path)
    assert r.rc == 0, msg(r)
    checks = [e.get("check") for e in by_kind(events(r.out), "verified")]
    assert "read-back" in checks, r.out
    assert dev.read(images.size) == images.data


# --------------------------------------------------------------------------
# HTTP errors, broken data
# --------------------------------------------------------------------------

def test_http_404_new_file(flash, proxy, tmp_path):
    dst = tmp_path / "out.img"
    r = flash(proxy.url("no-such-image.img.zst"), dst)
    assert r.rc == 3, msg(r)
    assert "404" in msg(r)
    assert not dst.exists()
    assert len(proxy.gets()) == 1, "a 404 must not be retried"


def test_http_404_existing_file_untouched(flash, nginx, tmp_path):
    dst = tmp_path / "out.img"
    before = os.urandom(2 * MiB)
    dst.write_bytes(before)
    r = flash(nginx.url("no-such-image.img.xz"), dst)
    assert r.rc == 3, msg(r)
    assert "404" in msg(r)
    assert dst.read_bytes() == before


@pytest.mark.loop
def test_http_404_loop_device_untouched(flash, nginx, loopdev):
    dev = loopdev(LOOP_SIZE)
    before = dev.read()
    r = flash(nginx.url("no-such-image.img"), dev.path)
    assert r.rc == 3, msg(r)
    assert "404" in msg(r)
    assert dev.read() == before


def test_http_503_is_retried(flash, proxy, served, images, tmp_path):
    proxy.set_faults([proxy.Fault("respond", response=(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
        b"Retry-After: 1\r\nConnection: close\r\n\r\n"))])
    dst = tmp_path / "out.img"
    r = flash("--json", proxy.url(served["zstd"]), dst)
    assert r.rc == 0, msg(r)
    evs = events(r.out)
    assert by_kind(evs, "retry"), "no retry event: %s" % r.out
    assert by_kind(evs, "done")
    assert len(proxy.gets()) == 2
    assert_same_as_image(dst, images)


@pytest.mark.parametrize("fmt", COMPRESSED)
def test_truncated_download(fmt, flash, nginx, images, tmp_path):
    data = images.bytes(fmt)
    name = "truncated-" + fmt  # no extension: detection is by magic
    nginx.put(name, data=data[: len(data) * 6 // 10])
    dst = tmp_path / "out.img"
    r = flash(nginx.url(name), dst)
    assert r.rc == 5, msg(r)
    assert "truncated" in msg(r).lower()
    assert_fail_closed_file(dst, r)


@pytest.mark.loop
def test_truncated_download_on_loop_device(flash, nginx, images, loopdev):
    data = images.bytes("xz")
    nginx.put("truncated-loop.xz", data=data[: len(data) * 8 // 10])
    dev = loopdev(LOOP_SIZE)
    before = dev.read()
    r = flash(nginx.url("truncated-loop.xz"), dev.path)
    assert r.rc == 5, msg(r)
    assert "truncated" in msg(r).lower()
    assert_fail_closed_dev(dev, before, r)


@pytest.mark.parametrize("fmt", COMPRESSED)
def test_corrupt_data(fmt, flash, nginx, images, tmp_path):
    data = bytearray(images.bytes(fmt))
    mid = len(data) // 2
    for i in range(mid, mid + 16):
        data[i] ^= 0xA5
    name = "corrupt-" + fmt
    nginx.put(name, data=bytes(data))
    dst = tmp_path / "out.img"
    r = flash(nginx.url(name), dst)
    assert r.rc == 5, msg(r)
    assert "corrupt" in msg(r).lower()
    assert_fail_closed_file(dst, r)


# --------------------------------------------------------------------------
# network faults via the proxy
# --------------------------------------------------------------------------

@pytest.mark.parametrize("rst", [True, False], ids=["reset", "close"])
@pytest.mark.parametrize("fmt", ["raw", "zstd"])
def test_connection_cut_resumes_with_range(fmt, rst, flash, proxy, nginx, served, images, tmp_path):
    size = len(images.bytes(fmt))
    cut = size // 3
    proxy.cut_after(cut, rst=rst)
    dst = tmp_path / "out.img"
    r = flash(proxy.url(served[fmt]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)
    gets = proxy.gets()
    assert len(gets) >= 2, "no second request after the cut: %r" % gets
    assert proxy.connections[gets[0].conn].outcome == "cut"
    resume = gets[1]
    m = re.fullmatch(r"bytes=(\d+)-", resume.headers.get("range", ""))
    assert m, "resume request has no 'Range: bytes=N-': %r" % resume.headers
    assert 0 < int(m.group(1)) <= cut, "resume offset %s not within the %d bytes received" % (
        m.group(1), cut)
    h = head(nginx, served[fmt])
    assert resume.headers.get("if-range") in (h.get("etag"), h.get("last-modified")), (
        "If-Range %r is neither ETag %r nor Last-Modified %r"
        % (resume.headers.get("if-range"), h.get("etag"), h.get("last-modified")))


def test_json_retry_event_on_cut(flash, proxy, served, images, tmp_path):
    proxy.cut_after(len(images.bytes("gzip")) // 2)
    dst = tmp_path / "out.img"
    r = flash("--json", proxy.url(served["gzip"]), dst)
    assert r.rc == 0, msg(r)
    retries = by_kind(events(r.out), "retry")
    assert retries, "no retry event: %s" % r.out
    assert retries[0]["offset"] > 0 and retries[0]["attempt"] >= 1
    assert_same_as_image(dst, images)


@pytest.mark.parametrize("fmt", ["raw", "zstd"])
def test_server_without_range_support(fmt, flash, proxy, served, images, tmp_path):
    proxy.cut_after(len(images.bytes(fmt)) // 3)
    dst = tmp_path / "out.img"
    r = flash(proxy.url("norange/" + served[fmt]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)
    gets = proxy.gets()
    assert len(gets) >= 2
    second = proxy.connections[gets[1].conn]
    assert second.resp_head.startswith(b"HTTP/1.1 200"), second.resp_head[:200]


def test_retries_exhausted(flash, proxy, served, tmp_path):
    proxy.set_faults([], default=proxy.Fault("cut", 0))  # every connection dies at once
    dst = tmp_path / "out.img"
    r = flash("--retries", "2", proxy.url(served["zstd"]), dst)
    assert r.rc == 3, msg(r)
    assert_fail_closed_file(dst, r)
    assert not dst.exists(), "nothing arrived, yet the target was created"
    assert len(proxy.gets()) == 3, "expected 1 attempt + 2 retries, saw %d" % len(proxy.gets())


@pytest.mark.loop
def test_retries_exhausted_after_progress_on_loop_device(flash, proxy, served, images, loopdev):
    proxy.set_faults([proxy.Fault("cut", len(images.bytes("raw")) * 2 // 3)],
                     default=proxy.Fault("cut", 0))
    dev = loopdev(LOOP_SIZE)
    before = dev.read()
    r = flash("--retries", "2", proxy.url(served["raw"]), dev.path)
    assert r.rc == 3, msg(r)
    assert_fail_closed_dev(dev, before, r)
    assert len(proxy.gets()) == 3, "expected 1 attempt + 2 retries, saw %d" % len(proxy.gets())


def test_stall_is_detected_and_resumed(flash, proxy, served, images, tmp_path):
    size = len(images.bytes("xz"))
    proxy.stall_after(size // 3)
    dst = tmp_path / "out.img"
    r = flash("--stall-timeout", "2", "--low-speed", "1000", proxy.url(served["xz"]), dst)
    assert r.rc == 0, msg(r)
    assert_same_as_image(dst, images)
    gets = proxy.gets()
    assert proxy.connections[gets[0].conn].outcome == "stalled"
    assert len(gets) >= 2
    assert re.fullmatch(r"bytes=[1-9]\d*-", gets[1].headers.get("range", "")), gets[1].headers


def test_file_changed_on_server_during_resume(flash, proxy, nginx, images, tmp_path):
    name = "changing.img.zst"
    nginx.put(name, src=images.path("zstd"))
    replacement = images.bytes("gzip")  # different size -> different ETag
    proxy.cut_after(len(images.bytes("zstd")) // 3,
                    callback=lambda: nginx.put(name, data=replacement))
    dst = tmp_path / "out.img"
    r = flash(proxy.url(name), dst)
    assert r.rc == 3, msg(r)
    assert "changed" in msg(r).lower()
    assert_fail_closed_file(dst, r)
    if dst.exists():
        assert dst.read_bytes() != images.data


# --------------------------------------------------------------------------
# the target
# --------------------------------------------------------------------------

@pytest.mark.loop
@pytest.mark.parametrize("fmt", ["raw", "zstd"])
def test_target_too_small(fmt, flash, nginx, served, images, loopdev):
    dev = loopdev(8 * MiB)  # image is 12 MiB
    before = dev.read()
    r = flash(nginx.url(served[fmt]), dev.path)
    assert r.rc == 6, msg(r)
    assert "larger than the target" in msg(r).lower()
    assert_fail_closed_dev(dev, before, r)


@pytest.mark.loop
def test_mounted_device_refused(flash, nginx, served, loopdev, mounter):
    dev = loopdev(LOOP_SIZE)
    mounter.ext4(dev.path)
    before = dev.sha()
    r = flash(nginx.url(served["zstd"]), dev.path)
    assert r.rc == 6, msg(r)
    assert "mounted" in msg(r).lower()
    assert dev.sha() == before, "mounted device was modified"


@pytest.mark.loop
def test_disk_with_mounted_partition_refused(flash, nginx, served, loopdev, mounter):
    dev = loopdev(LOOP_SIZE, partitions=[(2048, LOOP_SIZE // 512 - 2048, 0x83)])
    mounter.ext4(dev.part(1))
    before = dev.sha()
    r = flash(nginx.url(served["zstd"]), dev.path)
    assert r.rc == 6, msg(r)
    assert "mounted" in msg(r).lower()
    assert dev.sha() == before, "disk with a mounted partition was modified"


@pytest.mark.parametrize("kind", ["directory", "char-device"])
def test_target_not_block_device_or_file(kind, flash, nginx, served, tmp_path):
    if kind == "directory":
        dst = tmp_path / "a-directory"
        dst.mkdir()
    else:
        dst = "/dev/null"
    r = flash(nginx.url(served["zstd"]), dst)
    assert r.rc == 6, msg(r)
    assert msg(r).strip(), "no message"
    if kind == "directory":
        assert list(dst.iterdir()) == []


def test_no_space_left(flash, nginx, served, mounter):
    mp = mounter.tmpfs(3 * MiB)  # image holds ~6 MiB of non-zero data
    dst = mp / "out.img"
    r = flash(nginx.url(served["raw"]), dst)
    assert r.rc == 7, msg(r)
    assert "no space" in msg(r).lower()
    if dst.exists():  # fail closed: whatever the message, the head must not be bootable
        head = dst.read_bytes()[:MiB]
        assert head == bytes(len(head)), "first MiB of the target is not zero after ENOSPC"


# --------------------------------------------------------------------------
# JSON output
# --------------------------------------------------------------------------

def test_json_success(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    url = nginx.url(served["zstd"])
    r = flash("--json", "--sha256", images.sha("zstd"), url, dst)
    assert r.rc == 0, msg(r)
    evs = events(r.out)
    assert evs[0]["event"] == "start" and evs[-1]["event"] == "done", [e["event"] for e in evs]
    start, done = evs[0], evs[-1]
    assert start["src"] == url and start["dst"] == str(dst) and done["format"] == "zstd"
    prog = by_kind(evs, "progress")
    assert prog and prog[-1]["total_in"] == len(images.bytes("zstd"))
    assert done["in"] == len(images.bytes("zstd")) and done["out"] == images.size
    assert 0 < done["written"] <= done["out"]
    assert not by_kind(evs, "error")
    ver = [e for e in by_kind(evs, "verified") if e.get("check") == "sha256"]
    assert ver and ver[0]["digest"] == images.sha("zstd")
    assert_same_as_image(dst, images)


@pytest.mark.parametrize("case", ["404", "sha-mismatch", "corrupt"])
def test_json_error_event(case, flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    if case == "404":
        args, want = [nginx.url("missing.img")], 3
    elif case == "sha-mismatch":
        args, want = ["--sha256", "1" * 64, nginx.url(served["gzip"])], 4
    else:
        data = bytearray(images.bytes("xz"))
        data[len(data) // 2] ^= 0xFF
        nginx.put("json-corrupt.xz", data=bytes(data))
        args, want = [nginx.url("json-corrupt.xz")], 5
    r = flash("--json", *args, dst)
    assert r.rc == want, msg(r)
    evs = events(r.out)
    errs = by_kind(evs, "error")
    assert errs, "no error event: %s" % r.out
    assert errs[-1]["exit"] == r.rc
    assert errs[-1].get("message")
    assert not by_kind(evs, "done")


# --------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------

@pytest.mark.parametrize("json_out", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("exists", [False, True], ids=["404", "ok"])
def test_header_value_never_printed(exists, json_out, flash, proxy, served, images, tmp_path):
    dst = tmp_path / "out.img"
    path = served["zstd"] if exists else "secret-missing.img.zst"
    args = ["--json"] if json_out else []
    r = flash(*args, "--header", "Authorization: Bearer SECRET123", proxy.url(path), dst)
    assert r.rc == (0 if exists else 3), msg(r)
    if not exists:
        assert "404" in msg(r)
    assert "SECRET123" not in msg(r)
    gets = proxy.gets()
    assert gets and all(g.headers.get("authorization") == "Bearer SECRET123" for g in gets)


def test_header_file(flash, proxy, served, images, tmp_path):
    hdr = tmp_path / "token.hdr"
    hdr.write_text("# a comment\n\nAuthorization: Bearer SECRET123\nX-Extra: yes\n")
    dst = tmp_path / "out.img"
    r = flash("--json", "--header-file", hdr, proxy.url(served["gzip"]), dst)
    assert r.rc == 0, msg(r)
    assert "SECRET123" not in msg(r)
    g = proxy.gets()[0]
    assert g.headers.get("authorization") == "Bearer SECRET123"
    assert g.headers.get("x-extra") == "yes"
    assert_same_as_image(dst, images)


@pytest.mark.parametrize("json_out", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("exists", [False, True], ids=["404", "ok"])
def test_url_credentials_never_printed(exists, json_out, flash, proxy, served, tmp_path):
    dst = tmp_path / "out.img"
    path = served["zstd"] if exists else "cred-missing.img.zst"
    args = ["--json"] if json_out else []
    r = flash(*args, proxy.url(path, userinfo="user:pw123"), dst)
    assert r.rc == (0 if exists else 3), msg(r)
    if not exists:
        assert "404" in msg(r)
    assert "pw123" not in msg(r)
    assert proxy.gets(), "no request reached the server"


# --------------------------------------------------------------------------
# usage
# --------------------------------------------------------------------------

BAD_USAGE = [
    (["--bogus-option"], r"--bogus-option"),
    (["--sha256", "xyz"], r"(?i)sha-?256"),
    (["--sha256", "a" * 63], r"(?i)sha-?256"),
    (["--image-sha256", "g" * 64], r"(?i)sha-?256"),
    (["--header", "NoColonHere"], r"(?i)header"),
    (["--header-file", "/nonexistent/token.hdr"], r"(?i)header|/nonexistent/token\.hdr"),
    (["--retries", "many"], r"(?i)retries"),
    (["--progress", "sideways"], r"(?i)progress"),
    (["--sums", "/nonexistent/SHA256SUMS"], r"(?i)sums|/nonexistent/SHA256SUMS"),
]


@pytest.mark.parametrize("args,pattern", BAD_USAGE, ids=[
    "unknown-option", "sha256-not-hex", "sha256-short", "image-sha256-not-hex",
    "header-no-colon", "header-file-missing", "retries-not-number", "progress-bad",
    "sums-file-missing"])
def test_bad_usage(args, pattern, flash, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash(*args, images.path("raw"), dst)
    assert r.rc == 2, msg(r)
    assert re.search(pattern, msg(r)), "message does not name the problem: %r" % msg(r)
    assert not dst.exists()


def test_missing_destination_is_usage_error(flash, images):
    r = flash(images.path("raw"))
    assert r.rc == 2, msg(r)
    assert msg(r).strip()


def test_help(flash):
    r = flash("--help")
    assert r.rc == 0, msg(r)
    assert "--sha256" in msg(r)


def test_quiet_prints_nothing_on_success(flash, nginx, served, images, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("-q", nginx.url(served["zstd"]), dst)
    assert r.rc == 0, msg(r)
    assert r.out == "" and r.err == ""
    assert_same_as_image(dst, images)


def test_unreadable_source_file(flash, tmp_path):
    dst = tmp_path / "out.img"
    r = flash(tmp_path / "does-not-exist.img", dst)
    assert r.rc == 3, msg(r)
    assert not dst.exists()


# --------------------------------------------------------------------------
# signals
# --------------------------------------------------------------------------

@pytest.mark.loop
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                                 signal.SIGPIPE],
                         ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE"])
def test_interrupted(sig, reimage_bin, proxy, served, images, loopdev):
    """Every way a session ends us stops the run through the fail-closed path, with the exit
    status a shell reports for that signal (128 + N)."""
    dev = loopdev(LOOP_SIZE)
    before = dev.read()
    proxy.stall_after(len(images.bytes("raw")) * 2 // 3)
    p = subprocess.Popen([reimage_bin, "flash", proxy.url(served["raw"]), dev.path],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proxy.stall_event.wait(30), "the transfer never reached the stall point"
        # The proxy having sent the bytes does not mean we wrote them: they may still sit in
        # socket buffers. Signal only once the body (past the held first MiB) is on the device.
        want = images.bytes("raw")[MiB:MiB + 4096]
        assert want != before[MiB:MiB + 4096]
        deadline = time.monotonic() + 30
        while dev.read(4096, MiB) != want:
            assert time.monotonic() < deadline, "the body never reached the device"
            assert p.poll() is None, "reimage ended before the signal"
            time.sleep(0.05)
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    r = type("R", (), {"rc": p.returncode, "out": out.decode(errors="replace"),
                       "err": err.decode(errors="replace")})
    print("-> rc=%d\n--- stdout:\n%s--- stderr:\n%s" % (r.rc, r.out, r.err))
    assert r.rc == 128 + sig, msg(r)
    assert "interrupted by %s" % sig.name in msg(r), msg(r)
    assert fail_closed_kind(r) == "zeroed", msg(r)
    assert_fail_closed_dev(dev, before, r)
