"""Fail closed through crashes and power loss (docs/reimage-flash.1.md, "Fail closed").

These tests watch the target *while* reimage writes it and after it was killed in ways no
handler sees (SIGKILL), and they check the order of the writes with strace:

- before the first byte past the first MiB reaches a block device, its first and last MiB are
  zero and flushed (so an old partition table never points at new, unverified data);
- after SIGKILL they are still zero;
- at the end: the body is flushed (fdatasync), then the held first MiB (and last MiB) are
  written, then fsync; the same order for files;
- a read-back (--verify) that differs zeroes both ends again.
"""

import os
import re
import signal
import subprocess
import threading
import time

import pytest

MiB = 1024 * 1024
DEV_SIZE = 16 * MiB


def image_bytes(size, seed=7):
    """Random bytes without zero blocks, so 'zero' on the target always means 'not written'."""
    import random
    rnd = random.Random(seed)
    data = bytearray(rnd.randbytes(size))
    for off in range(0, size, 4096):
        data[off] |= 1
    return bytes(data)


class Feeder:
    """reimage flash - DEV, fed from a pipe we control: a stall is a pipe we stop writing."""

    def __init__(self, reimage_bin, dst, *args, env=None):
        self.p = subprocess.Popen([reimage_bin, "flash", "--progress", "none", *args, "-", dst],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)

    def feed(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def finish(self, timeout=60):
        out, err = self.p.communicate(timeout=timeout)  # closes stdin: end of the image
        return self.p.returncode, (out + err).decode(errors="replace")

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def read_dev(path, length, offset):
    """What the device holds now, past the page cache (O_DIRECT, whole 4 KiB blocks)."""
    import mmap
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    try:
        buf = mmap.mmap(-1, length)
        n = os.preadv(fd, [buf], offset)
        return bytes(buf[:n])
    finally:
        os.close(fd)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    pytest.fail("timed out waiting for " + what)


@pytest.mark.loop
def test_ends_are_zero_while_streaming_and_after_sigkill(reimage_bin, loopdev):
    dev = loopdev(DEV_SIZE)
    old = dev.read()
    assert old[:MiB] != bytes(MiB) and old[-MiB:] != bytes(MiB)
    img = image_bytes(DEV_SIZE)  # fills the device: its last MiB is image data too
    f = Feeder(reimage_bin, dev.path)
    try:
        stall = DEV_SIZE * 2 // 3
        f.feed(img[:stall])
        # the body arrives on the device while the source stalls at two thirds
        probe = 4 * MiB
        wait_for(lambda: read_dev(dev.path, 4096, probe) == img[probe:probe + 4096], 60,
                 "the body to reach the device")
        assert read_dev(dev.path, MiB, 0) == bytes(MiB), "first MiB not zeroed before the body"
        assert read_dev(dev.path, MiB, DEV_SIZE - MiB) == bytes(MiB), \
            "last MiB not zeroed before the body"
        # the rest of the image but its final 4 KiB: data for the last MiB is in reimage now
        f.feed(img[stall:-4096])
        time.sleep(2)
        assert read_dev(dev.path, MiB, DEV_SIZE - MiB) == bytes(MiB), \
            "image data landed in the last MiB before the image was verified"
        f.p.send_signal(signal.SIGKILL)
        f.kill()
    finally:
        f.kill()
    after = dev.read()
    assert after[:MiB] == bytes(MiB), "first MiB not zero after SIGKILL: the old head is back"
    assert after[-MiB:] == bytes(MiB), "last MiB not zero after SIGKILL"
    assert after[probe:probe + MiB] == img[probe:probe + MiB], "the body was not being written"


@pytest.mark.loop
def test_image_filling_the_device_is_written_whole(reimage_bin, loopdev):
    """The held last MiB goes out at the commit: the device ends up byte-identical."""
    dev = loopdev(DEV_SIZE)
    img = image_bytes(DEV_SIZE, seed=8)
    f = Feeder(reimage_bin, dev.path)
    try:
        f.feed(img)
        rc, out = f.finish()
    finally:
        f.kill()
    assert rc == 0, out
    assert dev.read() == img


def _strace_events(log, target):
    """[(call, offset_or_None, length)] on the target's descriptors, in order."""
    fds, ev = set(), []
    opening = {}  # pid -> path of an open() strace split into two lines
    open_re = re.compile(r'^(\d+)\s+open(?:at)?\((?:AT_FDCWD, )?"([^"]+)"'
                         r'(?:.*\)\s+=\s+(-?\d+).*|.*<unfinished \.\.\.>)$')
    resumed_re = re.compile(r'^(\d+)\s+<\.\.\. open(?:at)? resumed>.*\)\s+=\s+(-?\d+)')
    # with threads, strace splits a call into "<unfinished ...>" and "<... resumed>" lines:
    # the call counts where it started (one writer thread makes them in order); an open
    # counts where it returned, with the descriptor
    call_re = re.compile(r'^\d+\s+(pwrite64|fdatasync|fsync|ftruncate)\((\d+)(.*?)'
                         r'(?:\)\s+=\s+-?\d+.*|\s*<unfinished \.\.\.>)$')
    for line in log.splitlines():
        m = open_re.match(line)
        if m and m.group(2) == target:
            if m.group(3) is None:
                opening[m.group(1)] = m.group(2)
            elif int(m.group(3)) >= 0:
                fds.add(int(m.group(3)))
            continue
        m = resumed_re.match(line)
        if m:
            if opening.pop(m.group(1), None) is not None and int(m.group(2)) >= 0:
                fds.add(int(m.group(2)))
            continue
        m = call_re.match(line)
        if not m or int(m.group(2)) not in fds:
            continue
        call, rest = m.group(1), m.group(3)
        if call == "pwrite64":
            nums = re.findall(r", (\d+)", rest)
            ev.append((call, int(nums[-1]), int(nums[-2])))
        else:
            ev.append((call, None, None))
    return ev


@pytest.mark.parametrize("kind", ["blockdev", "file"])
def test_commit_order_body_then_ends(kind, reimage_bin, loopdev, tmp_path):
    """strace shows: (device: ends zeroed, fdatasync,) body, fdatasync, head and tail, fsync."""
    size = 8 * MiB
    img = image_bytes(size, seed=9)
    src = tmp_path / "img.raw"
    src.write_bytes(img)
    if kind == "blockdev":
        dst = loopdev(size).path
    else:
        dst = str(tmp_path / "out.img")
    log = tmp_path / "strace.log"
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")  # LeakSanitizer cannot run under ptrace
    r = subprocess.run(["strace", "-f", "-o", str(log), "-e",
                        "trace=open,openat,pwrite64,fdatasync,fsync,ftruncate",
                        reimage_bin, "flash", "--progress", "none", str(src), dst],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(dst, "rb") as f:
        assert f.read(size) == img
    ev = _strace_events(log.read_text(), dst)
    syncs = [i for i, e in enumerate(ev) if e[0] == "fdatasync"]
    final = [i for i, e in enumerate(ev) if e[0] == "fsync"]
    assert syncs and final, ev
    body = [i for i, e in enumerate(ev) if e[0] == "pwrite64" and MiB <= e[1] < size - MiB]
    head = [i for i, e in enumerate(ev) if e[0] == "pwrite64" and e[1] < MiB]
    tail = [i for i, e in enumerate(ev) if e[0] == "pwrite64" and e[1] >= size - MiB]
    assert body and head and tail, ev
    commit_sync = syncs[-1]
    assert max(body) < commit_sync, "body written after the commit's fdatasync: %s" % ev
    last_head = max(head)
    assert commit_sync < last_head < final[-1], "head not written between fdatasync and fsync"
    assert commit_sync < max(tail) < final[-1], "tail not written between fdatasync and fsync"
    if kind == "blockdev":
        # the ends were zeroed and flushed before the first body byte
        first_body = min(body)
        zero_head = [i for i in head if i < first_body]
        zero_tail = [i for i in tail if i < first_body]
        assert zero_head and zero_tail, "ends not zeroed before the body: %s" % ev
        assert any(max(zero_head + zero_tail) < s < first_body for s in syncs), \
            "the zeroed ends were not flushed before the body: %s" % ev
    else:
        # the file's head is never written before the commit
        assert min(head) > commit_sync, "a file's head was written before the commit: %s" % ev


CORRUPT_READBACK_C = r"""
/* Test shim: every read from a descriptor opened with O_DIRECT comes back with one bit flipped,
 * as from a failing disk. reimage's --verify reads the target back with O_DIRECT. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

static void flip(int fd, void *buf, ssize_t n)
{
    int fl = fcntl(fd, F_GETFL);
    if (n > 0 && fl >= 0 && (fl & O_DIRECT))
        ((unsigned char *)buf)[n / 2] ^= 0x10;
}

ssize_t pread64(int fd, void *buf, size_t count, off_t off)
{
    static ssize_t (*real)(int, void *, size_t, off_t);
    if (!real)
        real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread64");
    ssize_t n = real(fd, buf, count, off);
    flip(fd, buf, n);
    return n;
}

ssize_t pread(int fd, void *buf, size_t count, off_t off)
{
    return pread64(fd, buf, count, off);
}
"""


@pytest.mark.loop
def test_verify_failure_zeroes_both_ends(reimage_bin, loopdev, tmp_path):
    """A read-back that differs from what was written (a failing disk, here a shim that flips
    a bit in every O_DIRECT read) fails with exit 4 and zeroes the first and last MiB again."""
    shim_c = tmp_path / "corrupt.c"
    shim_c.write_text(CORRUPT_READBACK_C)
    shim = tmp_path / "libcorrupt.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(shim), str(shim_c), "-ldl"],
                   check=True)
    dev = loopdev(DEV_SIZE)
    img = image_bytes(DEV_SIZE, seed=10)
    src = tmp_path / "img.raw"
    src.write_bytes(img)
    env = dict(os.environ, LD_PRELOAD=str(shim),
               ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1")
    r = subprocess.run([reimage_bin, "flash", "--progress", "none", "--verify", str(src),
                        dev.path], capture_output=True, text=True, env=env, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 4, out
    assert "read-back mismatch" in out, out
    assert "first and last MiB of %s were zeroed" % dev.path in out, out
    after = dev.read()
    assert after[:MiB] == bytes(MiB), "first MiB not zeroed after the failed read-back"
    assert after[-MiB:] == bytes(MiB), "last MiB not zeroed after the failed read-back"
    # the body is the image: only the ends were taken back
    assert after[MiB:-MiB] == img[MiB:-MiB]
    # without the shim the same run passes (so the failure above is the read-back's)
    r = subprocess.run([reimage_bin, "flash", "--progress", "none", "--verify", str(src),
                        dev.path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert dev.read() == img
