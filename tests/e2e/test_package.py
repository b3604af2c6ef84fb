"""The Debian package on a fresh Debian: `apt install ./reimage_*.deb` in a systemd Debian VM
(debootstrap, no reimage in it), then the installed reimage plans a reimage of the VM's own
disk (`reimage go --dry-run --json`) and builds a bundle with the installed loader. One VM
boot for all of it.

The dependencies are downloaded on the host first (apt-get install --download-only in a
chroot of the VM's tree, at native speed, from the same mirror); apt in the VM then resolves
and installs them itself, from its cache."""

import json
import os
import re
import shutil
import subprocess

import pytest

from debpkg import build_deb
from vmlib import (DEBOOTSTRAP_PROXY, SystemdSystem, build_systemd_root, make_system_disk)

pytestmark = pytest.mark.e2e


def chroot(tree, *args):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")
    if DEBOOTSTRAP_PROXY and "http_proxy" not in env:
        env["http_proxy"] = DEBOOTSTRAP_PROXY
    r = subprocess.run(["chroot", str(tree), *args], capture_output=True, text=True, env=env,
                       timeout=900)
    assert r.returncode == 0, "%s failed:\n%s\n%s" % (args, r.stdout[-3000:], r.stderr[-3000:])
    return r


def test_apt_install_and_go_dry_run(kernel, nginx, served, images, tmp_path):
    deb, _ = build_deb(tmp_path / "deb")
    (tmp_path / "vm").mkdir()
    tree = build_systemd_root(kernel, None, tmp_path / "vm", with_reimage=False)
    assert not (tree / "usr/bin/reimage").exists() and not (tree / "usr/local/bin/reimage").exists()
    shutil.copy2(deb, tree / "root" / deb.name)
    # fetch what apt will want, here; the VM's resolver (10.0.2.3) exists only in QEMU
    resolv = (tree / "etc/resolv.conf").read_text()
    shutil.copy2("/etc/resolv.conf", tree / "etc/resolv.conf")
    try:
        chroot(tree, "apt-get", "update", "-qq")
        chroot(tree, "apt-get", "install", "-y", "-qq", "--download-only", "/root/" + deb.name)
    finally:
        (tree / "etc/resolv.conf").unlink()
        (tree / "etc/resolv.conf").write_text(resolv)

    url = nginx.url(served["zstd"], host="10.0.2.2")
    vmlinuz = "/boot/" + kernel.vmlinuz.name
    cmd = f"""export DEBIAN_FRONTEND=noninteractive
cd /root
apt install -y ./{deb.name} >/root/apt.log 2>&1
echo "APT-INSTALL-RC=$?"
grep -E "^(Setting up|E:|W:)" /root/apt.log || tail -n 30 /root/apt.log
command -v reimage
reimage --version
ls /usr/libexec/reimage/reimage-bundle-loader /usr/share/man/man1/reimage-go.1.gz \\
   /usr/share/man/man5/reimage-job.5.gz /usr/share/bash-completion/completions/reimage
reimage go {url} --to /dev/nvme0n1 --sha256 {images.sha("zstd")} --dry-run --json >/root/plan.json
echo "GO-RC=$?"
echo "PLAN-JSON $(cat /root/plan.json)"
reimage kexec -S >/dev/null; echo "KEXEC-STATUS-RC=$?"
reimage bundle -o /root/b.run --kernel {vmlinuz} --modules none --compression gzip \\
    --src {url} --to /dev/nvme0n1 >/dev/null
echo "BUNDLE-RC=$?"
/root/b.run --info >/root/info.txt
echo "BUNDLE-INFO-RC=$?"
head -n 2 /root/info.txt
"""
    (tree / "etc/reimage-test-command.sh").write_text(cmd)
    disk = tmp_path / "disk.raw"
    make_system_disk(tree, disk, "1536M")
    v = SystemdSystem(kernel, disk, tmp_path / "console.log", 1024)
    try:
        rc = v.wait_exit(1200)
        out = v.text()
    finally:
        v.stop()
    print(out[-12000:])
    assert rc == 0, out[-8000:]
    assert "RUNNING-SYSTEM-UP systemd=systemd" in out
    assert "APT-INSTALL-RC=0" in out, out[-8000:]
    assert re.search(r"Setting up reimage \(", out), out[-8000:]
    # apt resolved the shared libraries from shlibs and the Recommends
    for pkg in ("libcurl4", "dropbear-bin", "busybox-static"):
        assert re.search(r"Setting up %s[ :]" % re.escape(pkg), out), pkg
    assert "/usr/bin/reimage" in out
    assert "No such file" not in out, out[-6000:]
    assert "GO-RC=0" in out, out[-6000:]
    m = re.search(r"PLAN-JSON (\{.*\})\s*$", out, re.M)
    assert m, out[-6000:]
    plan = json.loads(m.group(1))
    assert plan["command"] == "go" and plan["dry_run"] is True and plan["loaded"] is False
    assert plan["target"]["device"] == "/dev/nvme0n1"
    assert plan["target"]["serial"] == "REIMAGE-NVME-1"
    assert plan["source"]["format"] == "zstd"
    assert plan["verify"]["sha256"] == images.sha("zstd")
    assert plan["handover"] == "systemctl kexec"
    assert plan["flasher"]["modules"] > 0
    assert "KEXEC-STATUS-RC=1" in out  # nothing was loaded: kexec -S says so by its status
    # the installed binary found the installed loader in /usr/libexec/reimage
    assert "BUNDLE-RC=0" in out, out[-6000:]
    assert "reimage bundle (made by reimage" in out
    assert "BUNDLE-INFO-RC=0" in out
    assert "KEXEC-LOADED=0" in out
