"""Targets in use are refused, each case on its own (issue 10), and nothing is written: a
mounted device (the message names the mount point), a swap device, a swap file, and the disk of
the running root file system (inside a private mount namespace whose root is a loop device:
this machine's own disk is never the target). A device-mapper holder needs a kernel with
device-mapper: tests/e2e/test_in_use.py makes one inside the Debian VM.

Everything here is a loop device or a file on one; swap is undone in finally blocks."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_flash import LOOP_SIZE, msg

MiB = 1024 * 1024


def run(*argv):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    assert r.returncode == 0, "%s: %s" % (" ".join(map(str, argv)), r.stderr)
    return r.stdout


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "small.img"
    p.write_bytes(os.urandom(2 * MiB))
    return p


@pytest.mark.loop
def test_mounted_device_names_its_mount_point(flash, image, loopdev, mounter):
    dev = loopdev(LOOP_SIZE)
    mp = mounter.ext4(dev.path)
    before = dev.sha()
    r = flash(image, dev.path)
    assert r.rc == 6, msg(r)
    assert ("mounted on %s" % mp) in msg(r), msg(r)
    assert dev.sha() == before


@pytest.mark.loop
def test_mounted_partition_names_its_mount_point(flash, image, loopdev, mounter):
    dev = loopdev(LOOP_SIZE, partitions=[(2048, LOOP_SIZE // 512 - 2048, 0x83)])
    mp = mounter.ext4(dev.part(1))
    before = dev.sha()
    r = flash(image, dev.path)
    assert r.rc == 6, msg(r)
    assert ("mounted on %s" % mp) in msg(r) and dev.part(1) in msg(r), msg(r)
    assert dev.sha() == before


@pytest.mark.loop
def test_swap_device_refused(flash, image, loopdev):
    dev = loopdev(16 * MiB, pattern=False)
    run("mkswap", dev.path)
    run("swapon", dev.path)
    try:
        before = dev.sha()
        r = flash(image, dev.path)
        assert r.rc == 6, msg(r)
        assert "in use as swap" in msg(r) and ("swapoff %s" % dev.path) in msg(r), msg(r)
        assert dev.sha() == before
    finally:
        run("swapoff", dev.path)


@pytest.mark.loop
def test_swap_file_refused(flash, image, loopdev, mounter):
    dev = loopdev(64 * MiB, pattern=False)
    mp = mounter.ext4(dev.path)
    swap = mp / "swapfile"
    with open(swap, "wb") as f:  # a swap file may have no holes
        f.write(bytes(16 * MiB))
    swap.chmod(0o600)
    run("mkswap", swap)
    run("swapon", swap)
    try:
        before = swap.read_bytes()
        r = flash(image, swap)
        assert r.rc == 6, msg(r)
        assert "active swap file" in msg(r) and "swapoff" in msg(r), msg(r)
        assert swap.read_bytes() == before
    finally:
        run("swapoff", swap)


ROOT_SCRIPT = r"""
set -e
R={root}
mount -t ext4 {dev} "$R"
mkdir -p "$R/usr" "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/work"
ln -sfn usr/bin "$R/bin"; ln -sfn usr/lib "$R/lib"; ln -sfn usr/lib64 "$R/lib64"
ln -sfn usr/sbin "$R/sbin"
mount --bind /usr "$R/usr"
mount --bind /etc "$R/etc"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount --bind {work} "$R/work"
exec chroot "$R" /work/reimage flash --progress none /work/small.img {dev}
"""


@pytest.mark.loop
def test_running_root_refused(reimage_bin, image, loopdev, tmp_path):
    """In a private mount namespace whose root is an ext4 file system on a loop device,
    flashing that loop device is refused as the running root, not merely as mounted (either
    check says so: the device of "/" and the mount on "/"; with both broken this fails)."""
    dev = loopdev(64 * MiB, pattern=False)
    run("mkfs.ext4", "-q", "-F", dev.path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy2(reimage_bin, work / "reimage")
    shutil.copy2(image, work / "small.img")
    root = tmp_path / "newroot"
    root.mkdir()
    script = ROOT_SCRIPT.format(root=root, dev=dev.path, work=work)
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 6, out
    assert "holds the running root file system" in out, out
    # mounting changed the file system's metadata; none of the image reached the device
    data, img = dev.read(), image.read_bytes()
    assert data[1 * MiB:2 * MiB] != img[1 * MiB:2 * MiB] and img[MiB:MiB + 4096] not in data
