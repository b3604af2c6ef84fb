"""Fixtures for the end-to-end tests: Debian's cloud kernel, flasher initramfs builds, and QEMU
(TCG) virtual machines with a virtio disk and QEMU's user network, whose host side (10.0.2.2)
reaches the test nginx on 127.0.0.1.

The kernel package is fetched with `apt-get download` into a cache outside git (env
REIMAGE_TEST_CACHE, default /var/cache/reimage-test) and unpacked there with dpkg -x; depmod
makes its module index. QEMU runs with -no-reboot and panic=-1, so a flasher that reboots, or a
kernel that panics, ends the QEMU process.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("REIMAGE_TEST_CACHE", "/var/cache/reimage-test"))
META_PACKAGE = "linux-image-cloud-amd64"
QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"


class Kernel:
    def __init__(self, sysroot, version):
        self.sysroot = Path(sysroot)
        self.version = version
        self.vmlinuz = self.sysroot / "boot" / ("vmlinuz-" + version)


def _kernel_package():
    out = subprocess.run(["apt-cache", "depends", META_PACKAGE], capture_output=True, text=True)
    m = re.search(r"Depends: (linux-image-\S+)", out.stdout)
    if not m:
        raise RuntimeError("cannot tell which kernel %s depends on: %s" % (META_PACKAGE, out.stderr))
    return m.group(1)


@pytest.fixture(scope="session")
def kernel():
    """Debian's cloud kernel, unpacked, with a module index."""
    CACHE.mkdir(parents=True, exist_ok=True)
    pkg = _kernel_package()
    version = pkg[len("linux-image-"):]
    sysroot = CACHE / ("sysroot-" + version)
    if not (sysroot / "boot" / ("vmlinuz-" + version)).exists():
        debs = sorted(CACHE.glob(pkg + "_*.deb"))
        if not debs:
            r = subprocess.run(["apt-get", "download", pkg], cwd=CACHE, capture_output=True,
                               text=True)
            debs = sorted(CACHE.glob(pkg + "_*.deb"))
            assert debs, "apt-get download %s failed: %s" % (pkg, r.stderr)
        tmp = CACHE / ("sysroot-" + version + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(tmp)], check=True)
        os.replace(tmp, sysroot)
    if not (sysroot / "lib" / "modules" / version / "modules.dep").exists():
        subprocess.run(["depmod", "-b", str(sysroot), version], check=True)
    return Kernel(sysroot, version)


@pytest.fixture
def build_flasher(reimage_bin, kernel, tmp_path):
    """build_flasher(*reimage initrd options) -> path of a flasher initramfs for the kernel."""
    count = [0]

    def _build(*args):
        count[0] += 1
        out = tmp_path / ("flasher-%d.img" % count[0])
        r = subprocess.run([reimage_bin, "initrd", "-o", str(out), "--sysroot", str(kernel.sysroot),
                            "--kernel-version", kernel.version, *map(str, args)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, "reimage initrd failed:\n%s\n%s" % (r.stdout, r.stderr)
        return out
    return _build


class Vm:
    """One QEMU run; console goes to a file that tests read."""

    def __init__(self, kernel, initrd, disk, append, mem, tmp_path, nic_mac=None, extra=()):
        self.console = tmp_path / ("console-%d.log" % int(time.time() * 1000))
        args = [QEMU, "-machine", "accel=tcg", "-m", str(mem), "-smp", "1",
                "-display", "none", "-monitor", "none", "-no-reboot",
                "-serial", "file:%s" % self.console,
                "-kernel", str(kernel.vmlinuz), "-initrd", str(initrd),
                "-append", "console=ttyS0 panic=-1 " + append,
                "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
                "-device", "virtio-blk-pci,drive=d0,serial=REIMAGE-TEST-1",
                "-netdev", "user,id=n0",
                "-device", "virtio-net-pci,netdev=n0" + (",mac=" + nic_mac if nic_mac else ""),
                *extra]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)

    def text(self):
        try:
            text = self.console.read_text(errors="replace")
        except FileNotFoundError:
            text = ""
        if self.proc.poll() is not None and self.proc.stdout:
            qemu = self.proc.stdout.read().decode(errors="replace")
            self.qemu_output = getattr(self, "qemu_output", "") + qemu
        if getattr(self, "qemu_output", ""):
            text += "\n--- qemu said:\n" + self.qemu_output
        return text

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("the VM did not finish within %d s; console:\n%s"
                                 % (timeout, self.text()[-6000:]))

    def wait_console(self, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError("console never showed %r; console:\n%s" % (pattern, self.text()[-6000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def vm(kernel, tmp_path):
    """vm(initrd, disk, append="", mem=256) -> a running Vm; killed (by PID) at teardown."""
    started = []

    def _start(initrd, disk, append="", mem=256, nic_mac=None, extra=()):
        v = Vm(kernel, initrd, disk, append, mem, tmp_path, nic_mac, extra)
        started.append(v)
        return v
    yield _start
    for v in started:
        v.stop()
