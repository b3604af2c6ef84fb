"""Fixtures for the end-to-end tests: Debian's cloud kernel, flasher initramfs builds, and QEMU
(TCG) virtual machines with a virtio disk and QEMU's user network, whose host side (10.0.2.2)
reaches the test nginx on 127.0.0.1.

The kernel package is fetched with `apt-get download` into a cache outside git (env
REIMAGE_TEST_CACHE, default /var/cache/reimage-test) and unpacked there with dpkg -x; depmod
makes its module index. QEMU runs with -no-reboot and panic=-1, so a flasher that reboots, or a
kernel that panics, ends the QEMU process.
"""

import os
import subprocess
import time
from pathlib import Path

import pytest

from vmlib import (Kernel, RunningSystem, SystemdSystem, Vm, build_running_root,
                   build_systemd_root, fetch_kernel, make_system_disk)

@pytest.fixture(scope="session")
def kernel():
    """Debian's cloud kernel, unpacked, with a module index."""
    return fetch_kernel()


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


@pytest.fixture
def vm(kernel, tmp_path):
    """vm(initrd, disk, append="", mem=256) -> a running Vm; killed (by PID) at teardown."""
    started = []

    def _start(initrd, disk, append="", mem=256, nic_mac=None, extra=(), netdev_opts="",
               netdev=None):
        v = Vm(kernel, initrd, disk, append, mem, tmp_path, nic_mac, extra,
               netdev_opts=netdev_opts, netdev=netdev)
        started.append(v)
        return v
    yield _start
    for v in started:
        v.stop()


@pytest.fixture(scope="session")
def running_root(kernel, reimage_bin, tmp_path_factory):
    """The root file system tree of the running-system VM (built once per session)."""
    return build_running_root(kernel, reimage_bin, tmp_path_factory.mktemp("running-root"))


@pytest.fixture
def running_system(kernel, running_root, tmp_path):
    """running_system(command, mem=512) -> a booted RunningSystem whose disk.raw holds the
    root file system; the command runs as root once the network is up."""
    started = []

    def _start(command, mem=512, disk_size="512M"):
        (running_root / "etc" / "reimage-test.sh").write_text(command + "\n")
        disk = tmp_path / "system-disk.raw"
        make_system_disk(running_root, disk, disk_size)
        v = RunningSystem(kernel, disk, tmp_path / "system-console.log", mem)
        started.append(v)
        return v
    yield _start
    for v in started:
        v.stop()


@pytest.fixture(scope="session")
def systemd_root(kernel, reimage_bin, tmp_path_factory):
    """A minimal Debian with systemd as PID 1 (debootstrap, cached), with reimage installed."""
    return build_systemd_root(kernel, reimage_bin, tmp_path_factory.mktemp("systemd-root"))


@pytest.fixture
def systemd_system(kernel, systemd_root, tmp_path):
    """systemd_system(command) -> a booted SystemdSystem running command from a service."""
    started = []

    def _start(command, mem=512):
        (systemd_root / "etc" / "reimage-test-command.sh").write_text(command + "\n")
        disk = tmp_path / "systemd-disk.raw"
        make_system_disk(systemd_root, disk, "1G")
        v = SystemdSystem(kernel, disk, tmp_path / "systemd-console.log", mem)
        started.append(v)
        return v
    yield _start
    for v in started:
        v.stop()


def pytest_terminal_summary(terminalreporter):
    """A test that failed and then passed on its rerun (tests/run: --reruns 1) is listed by
    -rR without its failure: print that failure here, so that every flake can be looked into."""
    for rep in terminalreporter.stats.get("rerun", []):
        text = getattr(rep, "longreprtext", "") or str(rep.longrepr or "")
        terminalreporter.write_sep("-", "first run of %s (failed, then rerun)" % rep.nodeid)
        terminalreporter.write_line(text[-12000:])
