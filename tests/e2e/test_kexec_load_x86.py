"""x86_64's kexec_load fallback under QEMU: in a running system, reimage go runs with
kexec_file_load made unavailable by a seccomp filter (tests/helpers/no-kexec-file.c), as on a
kernel built without CONFIG_KEXEC_FILE. reimage then loads the flasher with kexec_load: the
bzImage's 64-bit kernel, boot_params with the firmware's e820 map, the initramfs and its
purgatory, which checks the segments' SHA-256 and enters the kernel."""

import hashlib
import os
from pathlib import Path

import pytest

from vmlib import RunningSystem, build_running_root, make_system_disk

pytestmark = pytest.mark.e2e

NO_KEXEC_FILE = Path(os.environ.get("REIMAGE_BIN", "build/reimage")).resolve().parent / "tests" \
    / "no-kexec-file"


def test_go_with_kexec_load_on_x86_64(nginx, served, images, kernel, reimage_bin, tmp_path):
    assert os.access(NO_KEXEC_FILE, os.X_OK), "build the tests' helper %s first" % NO_KEXEC_FILE
    root = build_running_root(kernel, reimage_bin, tmp_path / "running",
                              include=(str(NO_KEXEC_FILE),))
    url = nginx.url(served["xz"], host="10.0.2.2")
    (root / "etc" / "reimage-test.sh").write_text(
        "%s reimage kexec --status\n"
        "%s reimage go %s --to /dev/nvme0n1 --sha256 %s --yes\n"
        % (NO_KEXEC_FILE, NO_KEXEC_FILE, url, images.sha("xz")))
    disk = tmp_path / "system-disk.raw"
    make_system_disk(root, disk, "256M")
    v = RunningSystem(kernel, disk, tmp_path / "console.log", 512)
    try:
        rc = v.wait_exit(400)
        out = v.text()
    finally:
        v.stop()
    assert rc == 0, out[-6000:]
    assert "RUNNING-SYSTEM-UP" in out
    assert "loader: kexec_load (this kernel has no kexec_file_load" in out, out[-6000:]
    assert "loader:   kexec_load (this kernel has no kexec_file_load" in out
    assert "loaded the flasher; handing over to it now" in out
    # the flasher's kernel came up on our boot_params: the e820 map we passed, our command line
    assert out.count("Linux version") == 2
    flasher = out[out.index("kexec_core: Starting new kernel"):]
    assert "BIOS-e820: [mem 0x0000000000100000-" in flasher
    assert "Command line: console=ttyS0 panic=10" in flasher
    assert "reimage: flasher started" in flasher
    assert "verified sha256: " + images.sha("xz") in out
    with open(disk, "rb") as f:
        assert hashlib.sha256(f.read(images.size)).hexdigest() == images.sha256


class LockedDownSystem(RunningSystem):
    """The running system booted with lockdown=integrity, as Secure Boot would lock it."""

    APPEND = RunningSystem.APPEND + " lockdown=integrity"


def test_kexec_load_under_lockdown_is_refused_with_the_reason(kernel, reimage_bin, tmp_path):
    assert os.access(NO_KEXEC_FILE, os.X_OK), "build the tests' helper %s first" % NO_KEXEC_FILE
    root = build_running_root(kernel, reimage_bin, tmp_path / "running",
                              include=(str(NO_KEXEC_FILE),))
    (root / "etc" / "reimage-test.sh").write_text(
        "mount -t securityfs securityfs /sys/kernel/security\n"
        "%s reimage kexec --status\n"
        "%s reimage kexec /boot/vmlinuz-%s --cmdline console=ttyS0\n"
        % (NO_KEXEC_FILE, NO_KEXEC_FILE, kernel.version))
    disk = tmp_path / "system-disk.raw"
    make_system_disk(root, disk, "256M")
    v = LockedDownSystem(kernel, disk, tmp_path / "console.log", 512)
    try:
        rc = v.wait_exit(300)
        out = v.text()
    finally:
        v.stop()
    assert rc == 0, out[-6000:]
    assert "lockdown: integrity" in out, out[-4000:]
    # the status and the load both say that the kernel refuses kexec_load, and why
    assert out.count("the kernel is locked down (integrity, e.g. Secure Boot) and refuses "
                     "kexec_load") == 2, out[-4000:]
    assert "TEST-COMMAND-EXIT=1" in out
    assert "KEXEC-LOADED=0" in out
