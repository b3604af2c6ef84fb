"""Targets in use, refused inside a real Debian kernel (issue 10), in one boot of the
running-system VM: a disk held by a device-mapper target (this development machine's kernel
has no device-mapper, so the system tests cannot make one), a swap device, and the disk of the
running root file system. Each is refused with its own message, and nothing is written."""

import hashlib
import os
import re
from pathlib import Path

import pytest

from vmlib import RunningSystem, build_running_root, make_system_disk

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024

SCRIPT = r"""
modprobe loop
modprobe dm-mod
head -c 2097152 /dev/urandom > /tmp/small.img
dd if=/dev/zero of=/tmp/d1 bs=1048576 count=16 2>/dev/null
dd if=/dev/zero of=/tmp/d2 bs=1048576 count=16 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /dev/loop1 ] && break; sleep 0.2; done
losetup /dev/loop0 /tmp/d1
losetup /dev/loop1 /tmp/d2
dmsetup create i10held --table "0 32768 linear /dev/loop0 0" || echo DMSETUP-FAILED
echo CASE-DM; reimage flash --progress none /tmp/small.img /dev/loop0; echo "RC-DM=$?"
dmsetup remove i10held
mkswap /dev/loop1 >/dev/null && swapon /dev/loop1 || echo SWAPON-FAILED
echo CASE-SWAP; reimage flash --progress none /tmp/small.img /dev/loop1; echo "RC-SWAP=$?"
swapoff /dev/loop1
echo CASE-ROOT; reimage flash --progress none /tmp/small.img /dev/nvme0n1; echo "RC-ROOT=$?"
losetup -d /dev/loop0; losetup -d /dev/loop1
echo "SHA-D1=$(sha256sum /tmp/d1 | cut -c1-64)"
echo "SHA-D2-HEAD=$(head -c 1048576 /tmp/d2 | tail -c 1044480 | sha256sum | cut -c1-64)"
"""


@pytest.fixture(scope="module")
def in_use_root(kernel, reimage_bin, tmp_path_factory):
    tree = build_running_root(kernel, reimage_bin, tmp_path_factory.mktemp("in-use-root"),
                              include=("/usr/sbin/dmsetup",))
    for applet in ("losetup", "mkswap", "swapon", "swapoff", "cut", "tail"):
        link = tree / "bin" / applet
        if not link.exists():
            os.symlink("/bin/busybox", link)
    return tree


def section(out, name):
    m = re.search(r"CASE-%s\n(.*?)RC-%s=(\d+)" % (name, name), out, re.S)
    assert m, "no %s case in the console output:\n%s" % (name, out[-6000:])
    return m.group(1), int(m.group(2))


def test_dm_holder_swap_device_and_running_root_refused(kernel, in_use_root, tmp_path):
    (in_use_root / "etc" / "reimage-test.sh").write_text(SCRIPT)
    disk = tmp_path / "system-disk.raw"
    make_system_disk(in_use_root, disk, "512M")
    before = hashlib.sha256(disk.read_bytes()[:MiB]).hexdigest()
    v = RunningSystem(kernel, disk, tmp_path / "console.log", 512)
    try:
        rc = v.wait_exit(300)
    finally:
        v.stop()
    out = v.text().replace("\r", "")
    assert rc == 0, out[-6000:]
    assert "DMSETUP-FAILED" not in out and "SWAPON-FAILED" not in out, out[-6000:]

    text, code = section(out, "DM")
    assert code == 6, text
    assert re.search(r"/dev/loop0 is held by dm-\d+ \(i10held\)", text), text

    text, code = section(out, "SWAP")
    assert code == 6, text
    assert "/dev/loop1 is in use as swap" in text and "swapoff" in text, text

    text, code = section(out, "ROOT")
    assert code == 6, text
    assert "holds the running root file system" in text, text

    # nothing written: the dm-held backing file is still all zeros; the swap device past the
    # swap signature page likewise; the root disk's first MiB unchanged by reimage
    zero16 = hashlib.sha256(bytes(16 * MiB)).hexdigest()
    assert "SHA-D1=" + zero16 in out, out[-2000:]
    assert "SHA-D2-HEAD=" + hashlib.sha256(bytes(MiB - 4096)).hexdigest() in out, out[-2000:]
    assert hashlib.sha256(disk.read_bytes()[:MiB]).hexdigest() == before
