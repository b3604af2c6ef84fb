"""reimage go under QEMU: a running system reimages the NVMe disk it booted from, in place."""

import hashlib
import re

import pytest

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def guest_url(nginx, name):
    return nginx.url(name, host="10.0.2.2")


def sha_file(path, length=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = length
        while True:
            n = 4 * MiB if left is None else min(4 * MiB, left)
            b = f.read(n)
            if not b:
                break
            h.update(b)
            if left is not None:
                left -= len(b)
                if left == 0:
                    break
    return h.hexdigest()


def test_go_reimages_the_running_disk(nginx, served, images, running_system):
    cmd = "reimage go %s --to /dev/nvme0n1 --sha256 %s --yes" % (
        guest_url(nginx, served["zstd"]), images.sha("zstd"))
    v = running_system(cmd)
    rc = v.wait_exit(300)
    out = v.text()
    assert rc == 0, out[-6000:]
    assert "RUNNING-SYSTEM-UP" in out
    assert "reimage go: plan" in out and "holds the running root" in out
    assert "loaded the flasher; handing over" in out
    # the flasher: found the disk by serial, used the carried-over address, wrote, rebooted
    assert "reimage: flasher started" in out
    assert "target: /dev/nvme0n1" in out
    assert "using the configuration carried over from the running system (no DHCP)" in out
    assert "verified sha256: " + images.sha("zstd") in out
    assert "TEST-COMMAND-EXIT" not in out, "reimage go returned instead of handing over"
    assert sha_file(v.disk, images.size) == images.sha256, "the disk does not hold the image"


def test_go_dry_run_loads_nothing(nginx, served, images, running_system):
    cmd = "reimage go %s --to /dev/nvme0n1 --sha256 %s --dry-run" % (
        guest_url(nginx, served["zstd"]), images.sha("zstd"))
    v = running_system(cmd)
    before = None
    rc = v.wait_exit(120)
    out = v.text()
    assert rc == 0, out[-6000:]
    assert "reimage go: plan" in out
    assert "dry run: nothing was loaded" in out
    assert "TEST-COMMAND-EXIT=0" in out
    assert "KEXEC-LOADED=0" in out


@pytest.mark.parametrize("case", ["unreachable", "wrong-digest", "no-target", "memory"])
def test_go_abort_paths_load_and_write_nothing(case, nginx, served, images, running_system,
                                               tmp_path):
    url = guest_url(nginx, served["zstd"])
    mem = 512
    if case == "unreachable":
        cmd = "reimage go http://10.0.2.2:9/none.img.zst --to /dev/nvme0n1 --yes --retries 0"
        want = r"the source is not reachable from here"
    elif case == "wrong-digest":
        sums = "%s  disk.img.zst\n" % ("1" * 64)
        nginx.put("GO-SHA256SUMS", sums.encode())
        cmd = "reimage go %s --to /dev/nvme0n1 --yes --sha256 %s --sums %s" % (
            url, images.sha("zstd"), guest_url(nginx, "GO-SHA256SUMS"))
        want = r"disagree; nothing was loaded"
    elif case == "no-target":
        cmd = "reimage go %s --to /dev/nvme9n1 --yes --sha256 %s" % (url, images.sha("zstd"))
        want = r"/dev/nvme9n1 is not a block device"
    else:
        mem = 128
        cmd = "reimage go %s --to /dev/nvme0n1 --yes --sha256 %s" % (url, images.sha("zstd"))
        want = r"not enough memory: the flasher needs about"
    v = running_system(cmd, mem=mem)
    disk_before = sha_file(v.disk)
    rc = v.wait_exit(150)
    out = v.text()
    assert rc == 0, out[-6000:]
    assert re.search(want, out), out[-4000:]
    assert re.search(r"TEST-COMMAND-EXIT=[1-9]", out), out[-3000:]
    assert "KEXEC-LOADED=0" in out
    assert sha_file(v.disk) == disk_before, "the disk changed"


def test_go_hands_over_through_systemd(nginx, served, images, systemd_system):
    """A Debian with systemd as PID 1: reimage go hands over with systemctl kexec (services
    stop, file systems unmount) and the disk ends up holding the image."""
    cmd = "reimage go %s --to /dev/nvme0n1 --sha256 %s --yes" % (
        guest_url(nginx, served["zstd"]), images.sha("zstd"))
    v = systemd_system(cmd)
    rc = v.wait_exit(600)
    out = v.text()
    assert rc == 0, out[-8000:]
    assert "RUNNING-SYSTEM-UP systemd=systemd" in out
    assert "hand-over: systemctl kexec" in out
    assert "reimage: flasher started" in out
    assert "verified sha256: " + images.sha("zstd") in out
    assert sha_file(v.disk, images.size) == images.sha256, "the disk does not hold the image"
