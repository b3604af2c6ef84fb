#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Demo of `reimage go`: a QEMU virtual machine running an "old system" from its NVMe disk
reimages that very disk in place with a "new system" served by nginx on the host's loopback
(10.0.2.2 from the guest), and with --then kexec boots the new system straight from the
flasher, without a firmware reboot. The VM's console is printed as it happens; at the end the
disk is shown to hold the new image. Run by scripts/demo (which installs and builds first)."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP / "tests" / "e2e"))
import vmlib  # noqa: E402

REIMAGE = TOP / "build" / "reimage"
BOLD, END = "\033[1m", "\033[0m"


# /sbin/init of the new system: say so, show where it runs from, power off (ending QEMU)
NEW_SYSTEM_INIT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo
echo "===== NEW SYSTEM UP: $(/bin/busybox cat /etc/motd)"
echo "===== root: $(/bin/busybox awk '$2 == "/" { d = $1 } END { print d }' /proc/mounts)"
echo "===== kernel command line: $(/bin/busybox cat /proc/cmdline)"
/bin/busybox sleep 1
/bin/busybox poweroff -f
"""


def step(msg):
    print("\n%s== %s%s" % (BOLD, msg, END), flush=True)


def debugfs_cat(disk, path):
    r = subprocess.run(["debugfs", "-R", "cat " + path, str(disk)], capture_output=True, text=True)
    return r.stdout.strip()


def label(disk):
    r = subprocess.run(["e2label", str(disk)], capture_output=True, text=True)
    return r.stdout.strip() or "(none)"


def main():
    work = Path(tempfile.mkdtemp(prefix="reimage-demo-"))
    os.chmod(work, 0o755)
    nginx = None
    try:
        step("Debian's cloud kernel (downloaded once into %s)" % vmlib.CACHE)
        kernel = vmlib.fetch_kernel()
        print("kernel", kernel.version)

        step("The new system: a bootable 256 MiB ext4 image (Debian's /vmlinuz and /initrd.img "
             "links, busybox), zstd-compressed, served by nginx on 127.0.0.1")
        new_root = work / "new-root"
        vmlib.new_root_tree(new_root, "demo", init=NEW_SYSTEM_INIT)
        (new_root / "etc" / "motd").write_text(
            "This is the NEW system, written in place by reimage go at %s\n"
            % time.strftime("%Y-%m-%d %H:%M:%S"))
        (new_root / "boot").mkdir()
        shutil.copy2(kernel.vmlinuz, new_root / "boot" / kernel.vmlinuz.name)
        initrd_main, initrd_tag = vmlib.marker_initrds(kernel, "demo")
        (new_root / "boot" / ("initrd.img-" + kernel.version)).write_bytes(initrd_main + initrd_tag)
        os.symlink("boot/" + kernel.vmlinuz.name, new_root / "vmlinuz")
        os.symlink("boot/initrd.img-" + kernel.version, new_root / "initrd.img")
        new_img = work / "new-system.img"
        vmlib.make_system_disk(new_root, new_img, "256M", "new-system")
        www = work / "www"
        www.mkdir()
        subprocess.run(["zstd", "-q", "-3", "-T0", str(new_img), "-o", str(www / "new-system.img.zst")],
                       check=True)
        os.chmod(www, 0o755)
        os.chmod(www / "new-system.img.zst", 0o644)
        sha = hashlib.sha256((www / "new-system.img.zst").read_bytes()).hexdigest()
        nginx, port = vmlib.start_nginx(work / "nginx", www)
        url = "http://10.0.2.2:%d/new-system.img.zst" % port
        print("%s  sha256 %s" % (url.replace("10.0.2.2", "127.0.0.1"), sha))

        step("The old system: the VM's NVMe disk, booted as its root file system")
        root = vmlib.build_running_root(kernel, str(REIMAGE), work / "old")
        (root / "etc" / "motd").write_text("This is the OLD system.\n")
        cmd = "reimage go %s --to /dev/nvme0n1 --sha256 %s --then kexec --yes" % (url, sha)
        (root / "etc" / "reimage-test.sh").write_text(cmd + "\n")
        disk = work / "vm-disk.raw"
        vmlib.make_system_disk(root, disk, "512M", "old-system")
        print("disk label: %s; /etc/motd: %s" % (label(disk), debugfs_cat(disk, "/etc/motd")))
        print("inside the VM, once it is up, runs:\n  %s" % cmd)

        step("Booting the VM (QEMU, software emulation); its console follows")
        vm = vmlib.RunningSystem(kernel, disk, work / "console.log", 512)
        shown = 0
        while True:
            text = vm.text()
            if len(text) > shown:
                sys.stdout.write(text[shown:])
                sys.stdout.flush()
                shown = len(text)
            if vm.proc.poll() is not None:
                break
            time.sleep(0.3)
        rest = vm.text()[shown:]
        sys.stdout.write(rest)
        rc = vm.proc.returncode

        console = vm.text()
        step("After the new system powered off (QEMU exited with %d)" % rc)
        print("the new system %s, straight from the flasher (no firmware reboot in between: %s)"
              % ("booted" if "NEW SYSTEM UP" in console else "did NOT boot",
                 "yes" if "reboot: Restarting" not in console else "NO"))
        n = new_img.stat().st_size
        with open(disk, "rb") as d, open(new_img, "rb") as i:
            same = True
            while True:
                a, b = d.read(1 << 22), i.read(1 << 22)
                if not b:
                    break
                if a != b:
                    same = False
                    break
        print("the first %d bytes of the VM's disk %s the new image" % (n, "ARE" if same else "are NOT"))
        print("disk label: %s; /etc/motd: %s" % (label(disk), debugfs_cat(disk, "/etc/motd")))
        return 0 if same and "NEW SYSTEM UP" in console else 1
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
