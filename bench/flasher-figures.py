#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Flasher figures for docs/performance.md, measured with Debian's cloud kernel:

1. the initramfs, by kind, with --modules host as `reimage initrd` builds it inside a QEMU guest
   (the running-system VM of the e2e tests: NVMe root, virtio network), and with
   --modules net-storage as built on this machine for that kernel;
2. under QEMU TCG with 256 MiB of RAM: time from kernel start to /init, to the start of the
   write, and to the end of the job, for a 256 MiB image (64 MiB of data) served by nginx on
   loopback. The times are the kernel's own timestamps of the flasher's log lines
   (ignore_loglevel prints them on the console).

Usage: sudo bench/flasher-figures.py   (after a build; fetches the kernel like the e2e tests)
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP / "tests" / "e2e"))
import vmlib  # noqa: E402

REIMAGE = str(TOP / "build" / "reimage")


def stamp(text, pattern):
    m = re.search(r"^\[\s*([0-9.]+)\][^\n]*" + pattern, text, re.M)
    return float(m.group(1)) if m else None


def main():
    work = Path(tempfile.mkdtemp(prefix="reimage-figures-"))
    os.chmod(work, 0o755)
    nginx = None
    try:
        kernel = vmlib.fetch_kernel()
        print("## kernel %s\n" % kernel.version)

        # 1a. host mode, built inside the guest
        root = vmlib.build_running_root(kernel, REIMAGE, work / "running")
        (root / "etc" / "reimage-test.sh").write_text(
            "reimage initrd -o /tmp/flasher.img --compression zstd\n")
        disk = work / "running.raw"
        vmlib.make_system_disk(root, disk, "512M")
        vm = vmlib.RunningSystem(kernel, disk, work / "running.log", 512)
        vm.wait_exit(300)
        out = vm.text()
        summary = out[out.index("Wrote /tmp/flasher.img"):].split("TEST-COMMAND-EXIT")[0]
        print("### --modules host, built inside the QEMU guest\n```")
        print("\n".join(l for l in summary.splitlines() if not l.startswith("[")))
        print("```\n")

        # 1b. net-storage, built here for the same kernel
        r = subprocess.run([REIMAGE, "initrd", "-o", str(work / "ns.img"), "--sysroot",
                            str(kernel.sysroot), "--kernel-version", kernel.version,
                            "--modules", "net-storage"], capture_output=True, text=True, check=True)
        print("### --modules net-storage, built on the host\n```\n%s```\n" % r.stdout)

        # 2. boot timing
        www = work / "www"
        www.mkdir()
        img = work / "img"
        with open(img, "wb") as f:
            f.write(os.urandom(64 << 20))
            f.truncate(256 << 20)
        subprocess.run(["zstd", "-q", "-3", str(img), "-o", str(www / "img.zst")], check=True)
        os.chmod(www, 0o755)
        os.chmod(www / "img.zst", 0o644)
        sha = hashlib.sha256((www / "img.zst").read_bytes()).hexdigest()
        nginx, port = vmlib.start_nginx(work / "nginx", www)
        print("### QEMU TCG, -m 256, 256 MiB image (64 MiB random data, zstd), flasher with "
              "--modules net-storage\n")
        print("| run | /init starts | write starts | job done | QEMU wall time |")
        print("|---|---|---|---|---|")
        for run in range(3):
            flasher = work / "flasher.img"
            subprocess.run([REIMAGE, "initrd", "-o", str(flasher), "--sysroot", str(kernel.sysroot),
                            "--kernel-version", kernel.version, "--src",
                            "http://10.0.2.2:%d/img.zst" % port, "--dst", "/dev/vda", "--sha256", sha],
                           capture_output=True, check=True)
            d = work / "disk.raw"
            with open(d, "wb") as f:
                f.truncate(300 << 20)
            t0 = time.time()
            v = vmlib.Vm(kernel, flasher, d, "ignore_loglevel printk.devkmsg=on", 256, work)
            v.wait_exit(600)
            wall = time.time() - t0
            text = v.text()
            a, b, c = stamp(text, "Run /init"), stamp(text, "reimage: writing "), stamp(text, "reimage: done: ")
            with open(d, "rb") as f1, open(img, "rb") as f2:
                same = f1.read(256 << 20) == f2.read()
            print("| %d | %.2f s | %.2f s | %.2f s | %.1f s%s |" % (
                run + 1, a or -1, b or -1, c or -1, wall, "" if same else " (DISK DIFFERS)"))
        return 0
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
