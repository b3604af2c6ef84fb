"""arm64 under qemu-system-aarch64 (-M virt, -cpu max, TCG) with Debian's arm64 cloud kernel:
the flasher built on this x86_64 host from the cross-built reimage (build-arm64/reimage, made by
scripts/build-arm64) writes the image given on the kernel command line."""

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from vmlib import Vm, fetch_kernel

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]
ARM64_BIN = Path(os.environ.get("REIMAGE_ARM64_BIN", REPO / "build-arm64" / "reimage"))


@pytest.fixture(scope="session")
def kernel_arm64():
    """Debian's arm64 cloud kernel (no kexec_file_load in it), unpacked in the shared cache."""
    return fetch_kernel("arm64")


@pytest.fixture(scope="session")
def arm64_bin():
    assert os.access(ARM64_BIN, os.X_OK), \
        "no arm64 reimage at %s: run scripts/build-arm64 (or set REIMAGE_ARM64_BIN)" % ARM64_BIN
    return ARM64_BIN


def build_arm64_flasher(reimage_bin, arm64_bin, kernel, out, *args):
    """reimage initrd on this host, around the arm64 binary and the arm64 kernel's modules."""
    r = subprocess.run([reimage_bin, "initrd", "-o", str(out), "--binary", str(arm64_bin),
                        "--sysroot", str(kernel.sysroot), "--kernel-version", kernel.version,
                        *map(str, args)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "reimage initrd failed:\n%s\n%s" % (r.stdout, r.stderr)
    return out


def assert_disk_holds(disk, data):
    with open(disk, "rb") as f:
        got = f.read(len(data))
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest(), \
        "the disk does not hold the image"


def test_arm64_flasher_writes_image_from_kernel_command_line(nginx, served, images, reimage_bin,
                                                            arm64_bin, kernel_arm64, tmp_path):
    initrd = build_arm64_flasher(reimage_bin, arm64_bin, kernel_arm64, tmp_path / "flasher.img")
    listing = subprocess.run([reimage_bin, "initrd", "--list", str(initrd)], capture_output=True,
                             text=True, check=True).stdout
    # the ELF walk followed the binary's machine: arm64's loader and libraries, none of ours
    assert "lib/ld-linux-aarch64.so.1" in listing, listing[:3000]
    assert "lib/aarch64-linux-gnu/libc.so.6" in listing
    assert "x86_64-linux-gnu" not in listing and "ld-linux-x86-64" not in listing
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.write(b"\xa5" * (64 * MiB))
    url = nginx.url(served["xz"], host="10.0.2.2")
    v = Vm(kernel_arm64, initrd, disk, "reimage.src=%s reimage.dst=/dev/vda reimage.sha256=%s "
           "reimage.then=poweroff" % (url, images.sha("xz")), 512, tmp_path)
    try:
        rc = v.wait_exit(240)
        out = v.text()
    finally:
        v.stop()
    assert rc == 0, out[-4000:]
    assert "Machine model: linux,dummy-virt" in out, "not the arm64 virt board"
    assert "job read from the kernel command line" in out
    assert "loaded virtio_blk" in out
    assert "verified sha256: " + images.sha("xz") in out
    assert "reboot: Power down" in out
    assert_disk_holds(disk, images.data)
