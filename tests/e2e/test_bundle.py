"""reimage bundle under QEMU: a bundle built on this host, copied into a running system that
has no reimage, run there as root with --yes; the flasher it carries rewrites the NVMe disk the
system booted from."""

import hashlib
import subprocess

import pytest

from vmlib import RunningSystem, build_running_root, make_system_disk

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def sha_file(path, length):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while length > 0:
            b = f.read(min(4 * MiB, length))
            if not b:
                break
            h.update(b)
            length -= len(b)
    return h.hexdigest()


@pytest.fixture
def bare_root(kernel, reimage_bin, tmp_path):
    """The running system's tree without reimage (neither /init nor /usr/bin/reimage)."""
    return build_running_root(kernel, reimage_bin, tmp_path / "bare", with_reimage=False)


def build_bundle(reimage_bin, kernel, out, *job):
    r = subprocess.run([reimage_bin, "bundle", "-o", str(out), "--kernel", str(kernel.vmlinuz),
                        "--sysroot", str(kernel.sysroot), *job],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "reimage bundle failed:\n%s\n%s" % (r.stdout, r.stderr)
    return r.stdout


def test_bundle_reimages_a_machine_without_reimage(nginx, served, images, kernel, reimage_bin,
                                                   bare_root, tmp_path):
    url = nginx.url(served["zstd"], host="10.0.2.2")
    bundle = bare_root / "root" / "reimage.run"
    bundle.parent.mkdir(exist_ok=True)
    built = build_bundle(reimage_bin, kernel, bundle, "--src", url, "--dst", "/dev/nvme0n1",
                         "--sha256", images.sha("zstd"), "--then", "poweroff")
    assert "Wrote " in built
    (bare_root / "etc" / "reimage-test.sh").write_text(
        "for p in /init /usr/bin/reimage /usr/local/bin/reimage /sbin/kexec; do\n"
        "  [ -e $p ] && echo FOUND-$p\n"
        "done\n"
        "/root/reimage.run --yes\n")
    disk = tmp_path / "system-disk.raw"
    make_system_disk(bare_root, disk, "512M")
    v = RunningSystem(kernel, disk, tmp_path / "console.log", 512)
    try:
        rc = v.wait_exit(600)
    finally:
        v.stop()
    out = v.text()
    assert rc == 0, out[-6000:]
    assert "RUNNING-SYSTEM-UP" in out
    assert "FOUND-" not in out, "the VM has reimage or kexec-tools installed:\n" + out[-3000:]
    # the loader: verified itself, saw the disk it runs from, loaded and handed over
    assert "reimage bundle (made by reimage" in out
    assert "(verified)" in out
    assert "target:   /dev/nvme0n1: " in out and "holds the running root" in out
    assert "kexec:    kexec_file_load" in out
    assert "loaded the flasher; handing over to it now" in out
    assert "TEST-COMMAND-EXIT" not in out, "the bundle returned instead of handing over"
    # the flasher: DHCP (nothing was carried over), wrote and verified the image
    assert "reimage: flasher started" in out
    assert "verified sha256: " + images.sha("zstd") in out
    assert sha_file(disk, images.size) == images.sha256, "the disk does not hold the image"
