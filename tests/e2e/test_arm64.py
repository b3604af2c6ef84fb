"""arm64 under qemu-system-aarch64 (-M virt, -cpu max, TCG) with Debian's arm64 cloud kernel,
which has no kexec_file_load: the flasher built on this x86_64 host from the cross-built reimage
(build-arm64/reimage, made by scripts/build-arm64) writes the image given on the kernel command
line; and `reimage go --then kexec` in a running arm64 system loads the flasher with reimage's
own kexec_load (device tree from the firmware, i.e. QEMU, and the purgatory's digest check),
which writes the disk and kexecs, the same way, into the new system."""

import gzip
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_then_kexec import LINUX_DATA_GUID, disk_holds, make_ext4, make_gpt_disk, sha256_file
from vmlib import (RunningSystem, Vm, build_running_root, fetch_arm64_tools, fetch_kernel,
                   make_system_disk, marker_initrds, new_root_tree)

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]
ARM64_BIN = Path(os.environ.get("REIMAGE_ARM64_BIN", REPO / "build-arm64" / "reimage"))


@pytest.fixture(scope="session")
def kernel_arm64():
    """Debian's arm64 cloud kernel (no kexec_file_load in it), unpacked in the shared cache."""
    return fetch_kernel("arm64")


@pytest.fixture(scope="session")
def arm64_bin(tmp_path_factory):
    """A private copy of the arm64 binary and its bundle loader, so a rebuild during the run
    cannot change them under a test."""
    assert os.access(ARM64_BIN, os.X_OK), \
        "no arm64 reimage at %s: run scripts/build-arm64 (or set REIMAGE_ARM64_BIN)" % ARM64_BIN
    d = tmp_path_factory.mktemp("arm64-bin")
    for name in ("reimage", "reimage-bundle-loader"):
        shutil.copy2(ARM64_BIN.parent / name, d / name)
    return d / "reimage"


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


ROOT_UUID = "7a0c1f3e-5b2d-4e8a-9c6f-1d3b5a7e9c20"


def arm64_new_system_image(kernel, tmp_path, tag):
    """A GPT disk with one ext4 root: arm64 busybox, /sbin/init printing the marker, and
    Debian's /vmlinuz and /initrd.img links to the arm64 kernel and a small initramfs that finds
    the root by UUID (the kernel gzip'd). zstd-compressed for the trip, as images are
    published."""
    busybox = fetch_arm64_tools() / "bin" / "busybox"
    main, extra = marker_initrds(kernel, tag, busybox=busybox)
    tree = tmp_path / "new-root"
    new_root_tree(tree, tag, busybox=busybox)
    (tree / "boot").mkdir(parents=True)
    # a gzip'd Image, as some distributions ship: kexec_load cannot take it as it is, so the
    # flasher's reimage unpacks it first
    with open(kernel.vmlinuz, "rb") as src, \
            gzip.open(tree / "boot" / ("vmlinuz-" + kernel.version), "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst)
    (tree / "boot" / ("initrd.img-" + kernel.version)).write_bytes(main + extra)
    os.symlink("/boot/vmlinuz-" + kernel.version, tree / "vmlinuz")
    os.symlink("boot/initrd.img-" + kernel.version, tree / "initrd.img")
    root = tmp_path / "new-root.img"
    make_ext4(root, 44, tree, ROOT_UUID)
    image = tmp_path / "new-system.img"
    make_gpt_disk(image, [(LINUX_DATA_GUID, root)], size_mib=48)
    subprocess.run(["zstd", "-q", "-3", "-f", str(image), "-o", str(image) + ".zst"], check=True)
    return image, Path(str(image) + ".zst")


def test_arm64_go_then_kexec_via_kexec_load(nginx, reimage_bin, arm64_bin, kernel_arm64,
                                            tmp_path):
    """The running arm64 system reimages its own NVMe disk: reimage go loads the flasher with
    kexec_load (the kernel has no kexec_file_load), the flasher writes and checks the image,
    then kexec_loads the new system's (gzip'd) kernel from it: two kexecs, no firmware
    reboot."""
    image, packed = arm64_new_system_image(kernel_arm64, tmp_path, "arm64-via-go")
    url = nginx.put("arm64-new.img.zst", src=packed).replace("127.0.0.1", "10.0.2.2")
    root = build_running_root(kernel_arm64, reimage_bin, tmp_path / "running",
                              binary=arm64_bin)
    (root / "etc" / "reimage-test.sh").write_text(
        "reimage kexec --status\n"
        "reimage go %s --to /dev/nvme0n1 --sha256 %s --then kexec --yes\n"
        % (url, sha256_file(packed)))
    disk = tmp_path / "system-disk.raw"
    make_system_disk(root, disk, "256M")
    v = RunningSystem(kernel_arm64, disk, tmp_path / "console.log", 512)
    try:
        rc = v.wait_exit(420)
        out = v.text()
    finally:
        v.stop()
    assert "NEW-SYSTEM-BOOTED arm64-via-go from /dev/nvme0n1p1" in out, out[-6000:]
    assert rc == 0, out[-4000:]
    assert "Machine model: linux,dummy-virt" in out
    # the plan and the status say which loader, and why
    assert re.search(r"loader: +kexec_load \(this kernel has no kexec_file_load", out), out[-6000:]
    assert "loaded the flasher; handing over" in out
    # the flasher (reached through our purgatory) wrote and verified, then chose the new
    # system's kernel and jumped again
    assert "reimage: flasher started" in out
    assert "verified sha256: " + sha256_file(packed) in out
    assert "boot: chose /vmlinuz on /dev/nvme0n1p1 (ext4)" in out, out[-6000:]
    assert "INITRD-TAG: initrd-arm64-via-go" in out
    # three kernels booted (old, flasher, new), and never through the firmware
    assert out.count("Booting Linux on physical CPU") == 3, out.count("Booting Linux")
    assert "reboot: Restarting" not in out
    m = re.search(r"NEW-CMDLINE: (.*)", out)
    assert m and "root=UUID=" + ROOT_UUID in m.group(1).split(), out[-3000:]
    assert disk_holds(disk, image)


def test_arm64_bundle_built_on_x86_64(nginx, served, images, reimage_bin, arm64_bin, kernel_arm64,
                                      tmp_path):
    """A bundle made on this x86_64 host for arm64 (the arm64 static loader, kernel and
    flasher) reimages an arm64 VM that has no reimage and no kexec-tools."""
    root = build_running_root(kernel_arm64, reimage_bin, tmp_path / "bare", with_reimage=False,
                              binary=arm64_bin)
    bundle = root / "root" / "reimage.run"
    bundle.parent.mkdir(exist_ok=True)
    url = nginx.url(served["zstd"], host="10.0.2.2")
    job = ["--src", url, "--dst", "/dev/nvme0n1", "--sha256", images.sha("zstd"),
           "--then", "poweroff"]
    base = [reimage_bin, "bundle", "-o", str(bundle), "--kernel", str(kernel_arm64.vmlinuz),
            "--sysroot", str(kernel_arm64.sysroot), "--binary", str(arm64_bin),
            "--modules", "none", "--add-module", "virtio_pci", "--add-module", "virtio_net"]
    # the x86_64 loader next to reimage does not fit an arm64 kernel: said, nothing written
    r = subprocess.run(base + job, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "is a loader for x86_64, but the kernel is for arm64" in r.stderr
    assert not bundle.exists()
    loader = Path(arm64_bin).parent / "reimage-bundle-loader"
    r = subprocess.run(base + ["--loader", str(loader)] + job, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    (root / "etc" / "reimage-test.sh").write_text(
        "for p in /init /usr/bin/reimage /sbin/kexec; do [ -e $p ] && echo FOUND-$p; done\n"
        "/root/reimage.run --yes\n")
    disk = tmp_path / "system-disk.raw"
    make_system_disk(root, disk, "192M")
    v = RunningSystem(kernel_arm64, disk, tmp_path / "console.log", 512)
    try:
        rc = v.wait_exit(420)
        out = v.text()
    finally:
        v.stop()
    assert rc == 0, out[-6000:]
    assert "RUNNING-SYSTEM-UP" in out and "FOUND-" not in out, out[-3000:]
    assert "(verified)" in out
    assert "kexec:    kexec_load (this kernel has no kexec_file_load" in out, out[-6000:]
    assert "loaded the flasher; handing over to it now" in out
    assert "reimage: flasher started" in out
    assert "verified sha256: " + images.sha("zstd") in out
    assert "reboot: Power down" in out
    with open(disk, "rb") as f:
        assert hashlib.sha256(f.read(images.size)).hexdigest() == images.sha256
