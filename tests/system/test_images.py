"""System tests of the container layer (docs/reimage-flash.1.md, "Images as published"):
qcow2 over HTTP, from a file and from standard input, tar archives (plain, compressed, GNU
sparse in every format `tar -S` writes), and the formats refused by magic.

Every qcow2 result is compared with what `qemu-img convert -O raw` makes of the same file.
"""

import hashlib
import http.server
import os
import re
import shutil
import struct
import subprocess
import threading
import zipfile

import pytest

MiB = 1024 * 1024
DISK_SIZE = 24 * MiB + 4096 * 3  # not a multiple of the cluster size
LOOP_SIZE = 32 * MiB


def msg(r):
    return r.out + r.err


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def make_disk(path):
    """A sparse disk: data in the first MiB, scattered data runs, a compressible run, long
    zero stretches, data in the last MiB, and an odd size."""
    import random
    rnd = random.Random(12)
    img = bytearray(DISK_SIZE)
    img[0:MiB] = rnd.randbytes(MiB)
    img[510:512] = b"\x55\xaa"
    for i in range(30):
        off = rnd.randrange(MiB, DISK_SIZE - 300000)
        n = rnd.randrange(1, 200000)
        img[off:off + n] = rnd.randbytes(n)
    text = b"".join(b"compressible line %08d\n" % i for i in range(40000))
    img[8 * MiB:8 * MiB + len(text)] = text
    img[DISK_SIZE - 5000:] = rnd.randbytes(5000)
    path.write_bytes(bytes(img))
    return bytes(img)


def qemu_img(*args):
    r = subprocess.run(["qemu-img"] + [str(a) for a in args], capture_output=True, text=True)
    assert r.returncode == 0, "qemu-img %s failed:\n%s%s" % (" ".join(map(str, args)), r.stdout,
                                                           r.stderr)


class Set:
    pass


@pytest.fixture(scope="session")
def imgs(tmp_path_factory):
    d = tmp_path_factory.mktemp("containers")
    s = Set()
    s.dir = d
    s.raw_path = d / "disk.raw"
    s.raw = make_disk(s.raw_path)
    s.qcow2 = {}
    variants = {
        "plain": [],
        "zlib": ["-c"],
        "zstd": ["-c", "-o", "compression_type=zstd"],
        "v2": ["-o", "compat=0.10"],
        "v2-zlib": ["-c", "-o", "compat=0.10"],
        "extl2": ["-o", "extended_l2=on,cluster_size=128k"],
        "small-clusters": ["-o", "cluster_size=4096"],
    }
    for name, opts in variants.items():
        p = d / ("%s.qcow2" % name)
        qemu_img("convert", "-f", "raw", "-O", "qcow2", *opts, s.raw_path, p)
        s.qcow2[name] = p
    # mostly unallocated: a 64 MiB disk with two small writes
    sp = d / "sparse.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", sp, "64M")
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 5M 64k",
                    "-c", "write -P 0xcd 40M 4k", "-c", "write -z 41M 1M", str(sp)],
                   check=True, capture_output=True)
    s.qcow2["sparse"] = sp
    s.reference = {}
    for name, p in s.qcow2.items():
        ref = d / ("%s.ref" % name)
        qemu_img("convert", "-f", "qcow2", "-O", "raw", p, ref)
        s.reference[name] = ref.read_bytes()
    assert s.reference["plain"] == s.raw
    return s


@pytest.fixture(scope="session")
def served_qcow2(nginx, imgs):
    for name, p in imgs.qcow2.items():
        nginx.put("c-%s.qcow2" % name, src=p)
    return lambda name: nginx.url("c-%s.qcow2" % name)


def read_file(p):
    return p.read_bytes()


# --------------------------------------------------------------------------
# qcow2
# --------------------------------------------------------------------------

QCOW2_VARIANTS = ["plain", "zlib", "zstd", "v2", "v2-zlib", "extl2", "small-clusters", "sparse"]


@pytest.mark.parametrize("variant", QCOW2_VARIANTS)
@pytest.mark.parametrize("how", ["http", "file", "stdin"])
def test_qcow2_written_as_qemu_img_converts_it(how, variant, flash, imgs, served_qcow2, tmp_path):
    dst = tmp_path / "out.raw"
    if how == "http":
        r = flash("--json", served_qcow2(variant), dst)
    elif how == "file":
        r = flash("--json", imgs.qcow2[variant], dst)
    else:
        r = flash("--json", "-", dst, input=imgs.qcow2[variant].read_bytes())
    assert r.rc == 0, msg(r)
    assert '"format":"raw+qcow2"' in r.out.replace(" ", "")
    assert dst.read_bytes() == imgs.reference[variant]


def test_qcow2_http_reads_tables_by_range_then_the_file_once(flash, imgs, nginx, served_qcow2,
                                                             tmp_path):
    """The tables come from Range requests; the whole file then passes once, in order."""
    log = nginx.base / "access.log"
    before = log.read_text().count("\n")
    dst = tmp_path / "out.raw"
    r = flash(served_qcow2("zlib"), dst, "--sha256", sha256(imgs.qcow2["zlib"].read_bytes()))
    assert r.rc == 0, msg(r)
    lines = [ln for ln in log.read_text().splitlines()[before:] if "c-zlib.qcow2" in ln]
    fields = [re.match(r'\S+ "[^"]*" (\d+) "([^"]*)"', ln).groups() for ln in lines]
    ranged = [f for f in fields if re.fullmatch(r"bytes=\d+-\d+", f[1]) and f[0] == "206"]
    whole = [f for f in fields if f[1] == "-" and f[0] == "200"]
    assert len(ranged) >= 3, lines  # header, L1, L2
    assert len(whole) == 1, lines
    assert dst.read_bytes() == imgs.reference["zlib"]


def test_qcow2_image_sha256_covers_the_raw_disk(flash, imgs, served_qcow2, tmp_path):
    dst = tmp_path / "out.raw"
    r = flash(served_qcow2("zstd"), dst, "--image-sha256", sha256(imgs.reference["zstd"]),
              "--verify")
    assert r.rc == 0, msg(r)
    r = flash(served_qcow2("zstd"), dst, "--image-sha256", "00" * 32)
    assert r.rc == 4, msg(r)
    assert "SHA-256 mismatch" in msg(r)
    # the sparse one: the digest covers the zeros of its unallocated clusters too
    r = flash(imgs.qcow2["sparse"], dst, "--image-sha256", sha256(imgs.reference["sparse"]))
    assert r.rc == 0, msg(r)


@pytest.mark.loop
def test_qcow2_larger_than_the_target_refused_before_writing(flash, imgs, loopdev):
    dev = loopdev(16 * MiB)
    before = dev.read()
    r = flash(imgs.qcow2["sparse"], dev.path)
    assert r.rc == 6, msg(r)
    assert "the disk image in the qcow2 is 64.0 MiB" in msg(r) and "larger than the target" in msg(r)
    assert dev.read() == before


@pytest.mark.loop
def test_qcow2_to_loop_device_zeroes_unallocated_clusters(flash, imgs, served_qcow2, loopdev):
    dev = loopdev(LOOP_SIZE)  # filled with a pattern: holes must read back as zeros
    r = flash(served_qcow2("zlib"), dev.path)
    assert r.rc == 0, msg(r)
    assert dev.read(DISK_SIZE) == imgs.reference["zlib"]


def with_backing(imgs, tmp_path):
    base = tmp_path / "base.qcow2"
    top = tmp_path / "top.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", imgs.raw_path, base)
    qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", top)
    return top


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_qcow2_with_backing_file_refused(how, flash, imgs, tmp_path):
    top = with_backing(imgs, tmp_path)
    dst = tmp_path / "out.raw"
    dst.write_bytes(b"keep me")
    if how == "file":
        r = flash(top, dst)
        assert "base.qcow2" in msg(r)  # the name is read where random access allows it
    else:
        r = flash("-", dst, input=top.read_bytes())
    assert r.rc == 5, msg(r)
    assert "backing file" in msg(r)
    assert "qemu-img convert" in msg(r)
    assert dst.read_bytes() == b"keep me"


def test_qcow2_encrypted_refused(flash, imgs, tmp_path):
    enc = tmp_path / "enc.qcow2"
    # qemu-img's own LUKS images depend on a PBKDF benchmark that fails at random on a machine
    # whose thread CPU clock is coarse ("Unable to get accurate CPU usage"); the refusal reads
    # the header's crypt_method, so a plain image with that field set (2: LUKS) is the case
    qemu_img("create", "-q", "-f", "qcow2", enc, "4M")
    with open(enc, "r+b") as f:
        f.seek(32)
        f.write((2).to_bytes(4, "big"))
    dst = tmp_path / "out.raw"
    r = flash(enc, dst)
    assert r.rc == 5, msg(r)
    assert "encrypted" in msg(r)
    assert not dst.exists()


def test_qcow2_external_data_file_refused(flash, imgs, tmp_path):
    q = tmp_path / "ext.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "data_file=%s" % (tmp_path / "data.raw"), q,
             "4M")
    r = flash(q, tmp_path / "out.raw")
    assert r.rc == 5, msg(r)
    assert "external data file" in msg(r)


# helpers that rewrite qcow2 files


def qcow2_fields(b):
    cluster_bits = struct.unpack(">I", b[20:24])[0]
    l1_size = struct.unpack(">I", b[36:40])[0]
    l1_off = struct.unpack(">Q", b[40:48])[0]
    return 1 << cluster_bits, l1_size, l1_off


def l2_offsets(b):
    cs, l1_size, l1_off = qcow2_fields(b)
    out = []
    for i in range(l1_size):
        e = struct.unpack(">Q", b[l1_off + 8 * i:l1_off + 8 * i + 8])[0]
        if e & 0x00fffffffffffe00:
            out.append((i, e & 0x00fffffffffffe00))
    return out


def move_l2_to_end(b):
    """The first L2 table copied to the end of the file, the L1 entry pointed at the copy:
    valid for qemu, but the table now comes after the data it maps."""
    cs, l1_size, l1_off = qcow2_fields(b)
    i, off = l2_offsets(b)[0]
    b = bytearray(b)
    b += bytes((-len(b)) % cs)
    new = len(b)
    b += b[off:off + cs]
    b[off:off + cs] = bytes(cs)
    e = struct.unpack(">Q", b[l1_off + 8 * i:l1_off + 8 * i + 8])[0]
    e = (e & ~0x00fffffffffffe00) | new
    b[l1_off + 8 * i:l1_off + 8 * i + 8] = struct.pack(">Q", e)
    return bytes(b)


def test_qcow2_tables_after_data_from_stdin_says_what_to_do(flash, imgs, tmp_path):
    moved = tmp_path / "moved.qcow2"
    moved.write_bytes(move_l2_to_end(imgs.qcow2["plain"].read_bytes()))
    ref = tmp_path / "moved.ref"
    qemu_img("convert", "-f", "qcow2", "-O", "raw", moved, ref)
    assert ref.read_bytes() == imgs.raw
    dst = tmp_path / "out.raw"
    r = flash("-", dst, input=moved.read_bytes())
    assert r.rc == 5, msg(r)
    assert "tables before the data" in msg(r) and "give a file or an http(s) URL" in msg(r)
    # the same file with random access streams fine
    r = flash(moved, dst)
    assert r.rc == 0, msg(r)
    assert dst.read_bytes() == imgs.raw


class SplitServer:
    """HTTP server that answers Range requests from one file and whole-file GETs from another,
    as a server whose file changes between requests (or a tampering proxy) would."""

    def __init__(self, ranged, whole):
        outer = self
        self.ranged, self.whole = ranged, whole

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                if rng:
                    m = re.match(r"bytes=(\d+)-(\d*)", rng)
                    a = int(m.group(1))
                    e = int(m.group(2)) if m.group(2) else len(outer.ranged) - 1
                    e = min(e, len(outer.ranged) - 1)
                    body = outer.ranged[a:e + 1]
                    self.send_response(206)
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (a, e, len(outer.ranged)))
                else:
                    body = outer.whole
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.t = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.t.start()

    def url(self):
        return "http://127.0.0.1:%d/disk.qcow2" % self.port

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("which", ["l2", "l1", "header"])
def test_qcow2_tables_in_range_reads_differ_from_the_stream_fail_closed(which, flash, imgs,
                                                                        loopdev):
    good = imgs.qcow2["plain"].read_bytes()
    bad = bytearray(good)
    cs, l1_size, l1_off = qcow2_fields(good)
    if which == "l2":
        i, off = l2_offsets(good)[0]
        bad[off + 8 * 3:off + 8 * 4] = bytes(8)  # one cluster unmapped in the stream's copy
    elif which == "l1":
        bad[l1_off:l1_off + 8] = bytes(8)  # the first L2 table dropped
    else:
        bad[200] ^= 0xff  # inside the header area the parser reads
    dev = loopdev(LOOP_SIZE)
    srv = SplitServer(good, bytes(bad))
    try:
        r = flash(srv.url(), dev.path, "--sha256", sha256(bytes(bad)))
    finally:
        srv.stop()
    assert r.rc == 5, msg(r)
    assert "differs between the random-access read and the stream" in msg(r)
    assert re.search(r"first (and last )?MiB of .* (was|were) zeroed", msg(r)), msg(r)
    assert dev.read(MiB) == bytes(MiB)  # fail closed: nothing boots from it


def test_qcow2_truncated(flash, imgs, tmp_path):
    b = imgs.qcow2["zlib"].read_bytes()
    cut = tmp_path / "cut.qcow2"
    cut.write_bytes(b[:len(b) // 2])
    for src, kw in ((cut, {}), ("-", {"input": b[:len(b) // 2]})):
        dst = tmp_path / "out.raw"
        r = flash(src, dst, **kw)
        assert r.rc == 5, msg(r)
        assert "truncated" in msg(r)
    # cut exactly where the last data cluster starts: nothing is half-read, the tables map
    # data the file does not have
    cs, l1_size, l1_off = qcow2_fields(b)
    plain = imgs.qcow2["plain"].read_bytes()
    hosts = []
    for _, l2 in l2_offsets(plain):
        for i in range(cs // 8):
            e = struct.unpack(">Q", plain[l2 + 8 * i:l2 + 8 * i + 8])[0] & 0x00fffffffffffe00
            if e:
                hosts.append(e)
    cut.write_bytes(plain[:max(hosts)])
    for src, kw in ((cut, {}), ("-", {"input": plain[:max(hosts)]})):
        r = flash(src, tmp_path / "out3.raw", **kw)
        assert r.rc == 5, msg(r)
        assert "truncated" in msg(r)
    # cut inside the tables: the random-access read already fails
    _, off = l2_offsets(b)[0]
    cut.write_bytes(b[:off + 100])
    r = flash(cut, tmp_path / "out2.raw")
    assert r.rc == 5, msg(r)
    assert "ends inside its L2 table" in msg(r)
    assert not (tmp_path / "out2.raw").exists()


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_qcow2_corrupt_tables(how, flash, imgs, tmp_path):
    b = bytearray(imgs.qcow2["plain"].read_bytes())
    cs, l1_size, l1_off = qcow2_fields(b)
    _, off = l2_offsets(b)[0]
    b[off:off + 8] = struct.pack(">Q", (1 << 63) | 0x1200)  # unaligned data cluster
    p = tmp_path / "bad.qcow2"
    p.write_bytes(bytes(b))
    dst = tmp_path / "out.raw"
    r = flash(p, dst) if how == "file" else flash("-", dst, input=bytes(b))
    assert r.rc == 5, msg(r)
    assert "unaligned host offset" in msg(r)


def test_qcow2_corrupt_compressed_cluster(flash, imgs, tmp_path):
    b = bytearray(imgs.qcow2["zlib"].read_bytes())
    cs, l1_size, l1_off = qcow2_fields(b)
    _, off = l2_offsets(b)[0]
    entries = [struct.unpack(">Q", b[off + 8 * i:off + 8 * i + 8])[0] for i in range(cs // 8)]
    e = [x for x in entries if x & (1 << 62)][0]  # random data is stored uncompressed
    host = e & ((1 << (62 - (16 - 8))) - 1)
    b[host:host + 64] = bytes(range(64))
    p = tmp_path / "bad.qcow2"
    p.write_bytes(bytes(b))
    r = flash(p, tmp_path / "out.raw")
    assert r.rc == 5, msg(r)
    assert "compressed cluster" in msg(r) and "corrupt" in msg(r)


def test_compressed_qcow2_file_streams_without_random_access(flash, imgs, tmp_path):
    """qcow2.xz: the tables can only come from the stream (qemu-img's order allows it)."""
    xz = tmp_path / "plain.qcow2.xz"
    with open(imgs.qcow2["plain"], "rb") as fi, open(xz, "wb") as fo:
        subprocess.run(["xz", "-1", "-c"], stdin=fi, stdout=fo, check=True)
    dst = tmp_path / "out.raw"
    r = flash("--json", xz, dst)
    assert r.rc == 0, msg(r)
    assert '"format":"xz+qcow2"' in r.out.replace(" ", "")
    assert dst.read_bytes() == imgs.raw


# --------------------------------------------------------------------------
# tar
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tars(imgs):
    d = imgs.dir / "tar"
    d.mkdir()
    # sparse on disk, or tar -S finds no holes to record
    subprocess.run(["cp", "--sparse=always", str(imgs.raw_path), str(d / "disk.raw")], check=True)
    subprocess.run(["truncate", "-s", "20M", str(d / "holes.raw")], check=True)
    (d / "README").write_text("a second file\n")
    out = {}

    def tar(name, *args):
        p = imgs.dir / name
        subprocess.run(["tar", "-C", str(d)] + list(args) + ["-f", str(p)], check=True)
        out[name] = p

    tar("plain.tar", "-c", "disk.raw")
    tar("disk.tar.xz", "-cJ", "disk.raw")
    tar("disk.tar.gz", "-cz", "disk.raw")
    tar("gnu-sparse.tar", "--format=gnu", "-S", "-c", "disk.raw")
    tar("pax-sparse-1.0.tar", "--format=posix", "-S", "-c", "disk.raw")
    tar("pax-sparse-0.1.tar", "--format=posix", "--sparse-version=0.1", "-S", "-c", "disk.raw")
    tar("pax-sparse-0.0.tar", "--format=posix", "--sparse-version=0.0", "-S", "-c", "disk.raw")
    tar("sparse.tar.gz", "--format=gnu", "-S", "-cz", "disk.raw")
    tar("two.tar", "-c", "README", "disk.raw")
    tar("holes.tar", "--format=posix", "-S", "-c", "holes.raw")
    # GCE's layout: a sparse GNU tar of disk.raw, compressed
    return out


TARS = ["plain.tar", "disk.tar.xz", "disk.tar.gz", "gnu-sparse.tar", "pax-sparse-1.0.tar",
        "pax-sparse-0.1.tar", "pax-sparse-0.0.tar", "sparse.tar.gz"]


@pytest.mark.parametrize("name", TARS)
def test_tar_member_written(name, flash, tars, imgs, nginx, tmp_path):
    url = nginx.put("t-" + name, src=tars[name])
    dst = tmp_path / "out.raw"
    r = flash("--json", url, dst)
    assert r.rc == 0, msg(r)
    assert "tar" in r.out
    assert dst.read_bytes() == imgs.raw
    r = flash("-", dst, "--image-sha256", sha256(imgs.raw), input=tars[name].read_bytes())
    assert r.rc == 0, msg(r)
    assert dst.read_bytes() == imgs.raw


@pytest.mark.loop
@pytest.mark.parametrize("name", ["pax-sparse-1.0.tar", "holes.tar"])
def test_tar_sparse_holes_zeroed_on_device(name, flash, tars, imgs, loopdev):
    dev = loopdev(LOOP_SIZE)
    r = flash(tars[name], dev.path)
    assert r.rc == 0, msg(r)
    want = imgs.raw if name != "holes.tar" else bytes(20 * MiB)
    assert dev.read(len(want)) == want


def test_tar_with_several_files_lists_them(flash, tars, tmp_path):
    dst = tmp_path / "out.raw"
    dst.write_bytes(b"keep me")
    r = flash(tars["two.tar"], dst)
    assert r.rc == 2, msg(r)
    assert "several files (README, disk.raw)" in msg(r) and "--member NAME" in msg(r)
    assert dst.read_bytes() == b"keep me"


def test_tar_member_chosen(flash, tars, imgs, tmp_path):
    dst = tmp_path / "out.raw"
    r = flash(tars["two.tar"], dst, "--member", "disk.raw")
    assert r.rc == 0, msg(r)
    assert dst.read_bytes() == imgs.raw
    r = flash(tars["two.tar"], dst, "--member", "./disk.raw")
    assert r.rc == 0, msg(r)
    r = flash(tars["two.tar"], tmp_path / "new.raw", "--member", "nope.raw")
    assert r.rc == 2, msg(r)
    assert "no member nope.raw; it holds: README, disk.raw" in msg(r)
    r = flash(imgs.qcow2["plain"], tmp_path / "new.raw", "--member", "disk.raw")
    assert r.rc == 2, msg(r)
    assert "not a tar archive" in msg(r)


def test_tar_truncated(flash, tars, tmp_path):
    b = tars["plain.tar"].read_bytes()
    r = flash("-", tmp_path / "out.raw", input=b[:len(b) // 2])
    assert r.rc == 5, msg(r)
    assert "truncated" in msg(r) and "disk.raw" in msg(r)


def test_tar_corrupt_header(flash, tars, tmp_path):
    b = bytearray(tars["plain.tar"].read_bytes())
    b[100] ^= 0x11  # mode field: the checksum no longer matches
    r = flash("-", tmp_path / "out.raw", input=bytes(b))
    assert r.rc == 5, msg(r)
    assert "checksum" in msg(r)
    assert not (tmp_path / "out.raw").exists()


# --------------------------------------------------------------------------
# refused by magic
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,name", [("vmdk", "VMDK"), ("vpc", "VHD"), ("vhdx", "VHDX"),
                                      ("vdi", "VDI"), ("qed", "QED"), ("zip", "zip")])
def test_unwritable_formats_refused_by_magic(fmt, name, flash, imgs, nginx, tmp_path):
    src = tmp_path / ("disk." + fmt)
    if fmt == "zip":
        with zipfile.ZipFile(src, "w") as z:
            z.write(imgs.raw_path, "disk.raw")
    else:
        qemu_img("convert", "-f", "raw", "-O", fmt, imgs.raw_path, src)
    dst = tmp_path / "out.raw"
    dst.write_bytes(b"keep me")
    for r in (flash(src, dst), flash(nginx.put("r-" + src.name, src=src), dst)):
        assert r.rc == 5, msg(r)
        assert name in msg(r)
        assert "qemu-img convert -O raw" in msg(r)
        assert "nothing was written" in msg(r)
        assert dst.read_bytes() == b"keep me"


# --------------------------------------------------------------------------
# go: the preflight reads the qcow2 header before anything is loaded
# --------------------------------------------------------------------------

@pytest.mark.loop
def test_go_preflight_reads_the_qcow2_header(run_reimage, nginx, imgs, loopdev, tmp_path):
    dev = loopdev(48 * MiB, pattern=False)
    kernel = tmp_path / "vmlinuz"  # a dry run never loads it
    kernel.write_bytes(b"not loaded in a dry run")
    common = ["--to", dev.path, "--kernel", kernel, "--dry-run", "--no-carry-network"]
    big = tmp_path / "big.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", big, "100M")
    r = run_reimage("go", nginx.put("g-big.qcow2", src=big), *common)
    assert r.rc == 6, msg(r)
    assert "virtual size 100.0 MiB" in msg(r) and "nothing was loaded" in msg(r)
    # compressed around the qcow2: the decompressed head is read
    xz = tmp_path / "zstd.qcow2.xz"
    with open(imgs.qcow2["zstd"], "rb") as fi, open(xz, "wb") as fo:
        subprocess.run(["xz", "-1", "-c"], stdin=fi, stdout=fo, check=True)
    r = run_reimage("go", nginx.put("g-zstd.qcow2.xz", src=xz), *common)
    assert r.rc == 0, msg(r)
    assert "qcow2 version 3, virtual size 24.0 MiB, zstd clusters" in r.out
    r = run_reimage("go", nginx.put("g-top.qcow2", src=with_backing(imgs, tmp_path)), *common)
    assert r.rc == 5, msg(r)
    assert "backing file" in msg(r) and "base.qcow2" in msg(r) and "nothing was loaded" in msg(r)
    vdi = tmp_path / "d.vdi"
    qemu_img("convert", "-f", "raw", "-O", "vdi", imgs.raw_path, vdi)
    r = run_reimage("go", nginx.put("g-d.vdi", src=vdi), *common)
    assert r.rc == 5, msg(r)
    assert "VDI" in msg(r) and "qemu-img convert -O raw" in msg(r)
    # --member goes into the job the flasher reads
    two = tmp_path / "two.tar"
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "README").write_text("x\n")
    shutil.copyfile(imgs.raw_path, tmp_path / "t" / "disk.raw")
    subprocess.run(["tar", "-C", str(tmp_path / "t"), "-cf", str(two), "README", "disk.raw"],
                   check=True)
    flasher = tmp_path / "flasher.img"
    r = run_reimage("go", nginx.put("g-two.tar", src=two), *common, "--member", "disk.raw",
                    "--save-initrd", flasher)
    assert r.rc == 0, msg(r)
    assert "tar archive, member disk.raw" in r.out
    data = flasher.read_bytes()
    i = data.index(b"etc/reimage/job.conf\0")
    hdr = data[data.rindex(b"070701", 0, i):i]
    start = (i + len("etc/reimage/job.conf") + 1 + 3) & ~3
    assert "member = disk.raw\n" in data[start:start + int(hdr[54:62], 16)].decode()
    r = run_reimage("go", nginx.put("g-plain.qcow2", src=imgs.qcow2["plain"]), *common,
                    "--member", "disk.raw")
    assert r.rc == 2, msg(r)
    assert "not a tar archive" in msg(r)


def test_tar_holding_a_qcow2_is_refused(flash, imgs, tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    shutil.copyfile(imgs.qcow2["plain"], d / "disk.qcow2")
    t = tmp_path / "q.tar"
    subprocess.run(["tar", "-C", str(d), "-cf", str(t), "disk.qcow2"], check=True)
    dst = tmp_path / "out.raw"
    r = flash(t, dst)
    assert r.rc == 5, msg(r)
    assert "tar member disk.qcow2 is not a raw disk image but a qcow2" in msg(r)
    assert not dst.exists()
