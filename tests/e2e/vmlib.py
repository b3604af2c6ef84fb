"""Virtual machines for the end-to-end tests and the demo (no pytest here): Debian's cloud
kernel from a cache, QEMU (TCG) runs of the flasher, and a "running system" VM to reimage in
place."""

import os
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

CACHE = Path(os.environ.get("REIMAGE_TEST_CACHE", "/var/cache/reimage-test"))
META_PACKAGE = "linux-image-cloud-amd64"
QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
QEMU_ARM64 = shutil.which("qemu-system-aarch64") or "/usr/bin/qemu-system-aarch64"


class Kernel:
    def __init__(self, sysroot, version):
        self.sysroot = Path(sysroot)
        self.version = version
        self.vmlinuz = self.sysroot / "boot" / ("vmlinuz-" + version)
        self.arch = "arm64" if version.endswith("-arm64") else "amd64"

    def qemu(self):
        """The QEMU program, machine options and serial console name for this kernel: the PC
        for amd64; for arm64 the virt board (its device tree comes from QEMU, as firmware
        would give it) with the emulator's most capable CPU, under TCG."""
        if self.arch == "arm64":
            return [QEMU_ARM64, "-machine", "virt,accel=tcg", "-cpu", "max"], "ttyAMA0"
        return [QEMU, "-machine", "accel=tcg"], "ttyS0"


def _kernel_package(meta=META_PACKAGE):
    out = subprocess.run(["apt-cache", "depends", meta], capture_output=True, text=True)
    m = re.search(r"Depends: (linux-image-[^\s:]+)", out.stdout)
    if not m:
        raise RuntimeError("cannot tell which kernel %s depends on: %s" % (meta, out.stderr))
    return m.group(1)


class _CacheLock:
    """An exclusive lock on the cache, so that parallel test workers (pytest -n) fill it once."""

    def __enter__(self):
        import fcntl
        CACHE.mkdir(parents=True, exist_ok=True)
        self.f = open(CACHE / ".lock", "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.f.close()  # releases the lock


def fetch_kernel(arch=None):
    """Debian's cloud kernel, unpacked into the cache, with a module index. arch "arm64" gives
    the arm64 cloud kernel (dpkg --add-architecture arm64 must have been done, as
    scripts/install-deps does); its sysroot directory name says the architecture."""
    with _CacheLock():
        return _fetch_kernel(arch)


def _fetch_kernel(arch=None):
    if arch:
        pkg = _kernel_package("linux-image-cloud-%s:%s" % (arch, arch))
        return _unpack_kernel(pkg, pkg + ":" + arch)
    return _unpack_kernel(_kernel_package(), _kernel_package())


def _unpack_kernel(pkg, download_name):
    version = pkg[len("linux-image-"):]
    sysroot = CACHE / ("sysroot-" + version)
    if not (sysroot / "boot" / ("vmlinuz-" + version)).exists():
        debs = sorted(CACHE.glob(pkg + "_*.deb"))
        if not debs:
            r = subprocess.run(["apt-get", "download", download_name], cwd=CACHE, capture_output=True,
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


def fetch_arm64_tools():
    """busybox (static) and kmod for arm64, from Debian's arm64 packages, unpacked into the
    cache: the tools of an arm64 "running system" built on this x86_64 host. Returns the
    directory they were unpacked into."""
    with _CacheLock():
        tools = CACHE / "arm64-tools"
        if not (tools / "bin" / "busybox").exists() or not (tools / "bin" / "kmod").exists():
            tmp = CACHE / "arm64-tools.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            for pkg in ("busybox-static:arm64", "kmod:arm64"):
                r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True,
                                   text=True)
                assert r.returncode == 0, "apt-get download %s failed: %s" % (pkg, r.stderr)
            for deb in tmp.glob("*.deb"):
                subprocess.run(["dpkg", "-x", str(deb), str(tmp)], check=True)
            shutil.rmtree(tools, ignore_errors=True)
            os.replace(tmp, tools)
        return tools


class _QemuRun:
    """A QEMU process whose serial console goes to self.console, a file that tests read."""

    def _start(self, args):
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
                                 % (timeout, self.text()[-8000:]))

    def wait_console(self, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError("console never showed %r; console:\n%s"
                             % (pattern, self.text()[-8000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Vm(_QemuRun):
    """One QEMU run of a kernel and initramfs (the flasher) with a virtio disk."""

    def __init__(self, kernel, initrd, disk, append, mem, tmp_path, nic_mac=None, extra=(),
                 hostfwd=(), netdev_opts="", netdev=None):
        """netdev: the NIC's backend as QEMU options (its id must be n0) instead of QEMU's
        user network."""
        self.console = tmp_path / ("console-%d.log" % int(time.time() * 1000))
        machine, tty = kernel.qemu()
        if netdev is None:
            # netdev_opts: e.g. ",ipv4=off,ipv6=on" for an IPv6-only network (SLAAC from
            # QEMU's router, the host as fec0::2)
            netdev = ["-netdev", "user,id=n0" + "".join(",hostfwd=" + f for f in hostfwd) +
                      netdev_opts]
        args = [*machine, "-m", str(mem), "-smp", "1",
                "-display", "none", "-monitor", "none", "-no-reboot",
                "-serial", "file:%s" % self.console,
                "-kernel", str(kernel.vmlinuz), "-initrd", str(initrd),
                "-append", "console=%s panic=-1 " % tty + append,
                "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
                "-device", "virtio-blk-pci,drive=d0,serial=REIMAGE-TEST-1", *netdev,
                # a fixed slot, so tests can name the NIC's bus path (pci-0000:00:04.0)
                "-device", "virtio-net-pci,netdev=n0,addr=0x4" + (",mac=" + nic_mac if nic_mac else ""),
                *extra]
        self._start(args)


# --------------------------------------------------------------------------
# a "running system" to reimage in place: the cloud kernel booting an ext4 root on an NVMe
# disk (NVMe is built into that kernel, so no initramfs is needed), with busybox, the reimage
# binary and its libraries, /boot/vmlinuz and /lib/modules. Its /sbin/init brings up the
# network statically (10.0.2.15/24 via 10.0.2.2, as QEMU's user network expects), runs the
# test's command, reports, and powers off.
# --------------------------------------------------------------------------

BUSYBOX = "/bin/busybox"

RUNNING_INIT = """#!/bin/busybox sh
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t tmpfs run /run
/bin/busybox mount -t tmpfs tmp /tmp
modprobe virtio_pci
modprobe virtio_net
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo RUNNING-SYSTEM-UP
sh /etc/reimage-test.sh
echo "TEST-COMMAND-EXIT=$?"
echo "KEXEC-LOADED=$(cat /sys/kernel/kexec_loaded)"
sync
poweroff -f
"""


def _cpio_extract(data, dest):
    """Unpack a newc archive (our own, uncompressed) into dest."""
    off = 0
    while off + 110 <= len(data):
        hdr = data[off:off + 110]
        assert hdr[:6] in (b"070701", b"070702"), "not a newc archive"
        f = [int(hdr[6 + 8 * i: 14 + 8 * i], 16) for i in range(13)]
        mode, filesize, namesize = f[1], f[6], f[11]
        name = data[off + 110: off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        body = data[off: off + filesize]
        off = (off + filesize + 3) & ~3
        if name == "TRAILER!!!":
            break
        p = Path(dest) / name
        if stat.S_ISDIR(mode):
            p.mkdir(parents=True, exist_ok=True)
            os.chmod(p, mode & 0o7777)
        elif stat.S_ISREG(mode):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(body)
            os.chmod(p, mode & 0o7777)
        elif stat.S_ISLNK(mode):
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.is_symlink() or p.exists():
                p.unlink()
            os.symlink(body.decode(), p)


def build_running_root(kernel, reimage_bin, base, with_reimage=True, include=(), binary=None):
    """The root file system tree of the running-system VM, in base/root. with_reimage=False
    leaves reimage itself out (its libraries stay, as on any Debian system), for programs that
    must run without it, such as bundles; include: more host programs (with their libraries)
    at the same paths. For an arm64 kernel, binary is the arm64 reimage (build-arm64/reimage)
    and busybox and kmod come from Debian's arm64 packages."""
    base = Path(base)
    tree = base / "root"
    tree.mkdir(parents=True)
    cpio = base / "base.cpio"
    arm64 = kernel.arch == "arm64"
    # kmod for depmod, as on any Debian system (reimage go indexes the flasher's modules)
    extra = [a for p in include for a in ("--include", p)]
    if arm64:
        tools = fetch_arm64_tools()
        extra += ["--binary", str(binary)]
    else:
        extra += ["--include", "/usr/bin/kmod"]
    r = subprocess.run([reimage_bin, "initrd", "-o", str(cpio), "--compression", "none",
                        "--modules", "none", "--kernel-version", kernel.version, *extra],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    _cpio_extract(cpio.read_bytes(), tree)
    if arm64:
        # its libraries (libkmod, liblzma, libzstd, libcrypto) are reimage's too
        (tree / "usr" / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(tools / "bin" / "kmod", tree / "usr" / "bin" / "kmod")
    (tree / "usr" / "bin" / "reimage").unlink()
    if with_reimage:
        os.symlink("/init", tree / "usr" / "bin" / "reimage")
    else:
        (tree / "init").unlink()
    for d in ("bin", "sbin", "usr/sbin", "proc", "sys", "dev", "run", "tmp", "boot", "lib/modules"):
        (tree / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(tools / "bin" / "busybox" if arm64 else BUSYBOX, tree / "bin" / "busybox")
    os.symlink("/usr/bin/kmod", tree / "sbin" / "depmod")
    for applet in ("sh", "mount", "modprobe", "ip", "sleep", "cat", "sync", "poweroff", "echo",
                   "ls", "sed", "grep", "dd", "sha256sum", "head"):
        os.symlink("/bin/busybox", tree / "bin" / applet)
    (tree / "sbin" / "init").write_text(RUNNING_INIT)
    os.chmod(tree / "sbin" / "init", 0o755)
    shutil.copy2(kernel.vmlinuz, tree / "boot" / kernel.vmlinuz.name)
    shutil.copytree(kernel.sysroot / "lib" / "modules" / kernel.version,
                    tree / "lib" / "modules" / kernel.version, symlinks=True)
    (tree / "etc" / "resolv.conf").write_text("nameserver 10.0.2.3\n")
    return tree


class RunningSystem(_QemuRun):
    """The old system: the kernel booting the NVMe disk's root file system. hostfwd:
    "tcp:127.0.0.1:PORT-:22" style forwards for QEMU's user network."""

    APPEND = "root=/dev/nvme0n1 ro rootfstype=ext4 init=/sbin/init"

    def __init__(self, kernel, disk, console, mem, hostfwd=(), extra=(), netdev_opts=""):
        self.disk = disk
        self.console = console
        machine, tty = kernel.qemu()
        args = [*machine, "-m", str(mem), "-smp", "1",
                "-display", "none", "-monitor", "none", "-no-reboot",
                "-serial", "file:%s" % console,
                "-kernel", str(kernel.vmlinuz),
                "-append", "console=%s panic=-1 " % tty + self.APPEND,
                "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
                "-device", "nvme,drive=d0,serial=REIMAGE-NVME-1",
                # netdev_opts: e.g. ",ipv4=off,ipv6=on" for an IPv6-only network (SLAAC
                # from QEMU's router, the host as fec0::2)
                "-netdev", "user,id=n0" + "".join(",hostfwd=" + f for f in hostfwd) + netdev_opts,
                "-device", "virtio-net-pci,netdev=n0", *extra]
        self._start(args)


GPT_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
GPT_ROOT_X86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
# Secure Boot as PCs ship: OVMF built with it, its variables with Microsoft's keys enrolled
# (Debian's ovmf package); the firmware then starts only Microsoft-signed shim, shim only
# Debian-signed GRUB, GRUB only a Debian-signed kernel, and that kernel locks itself down
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.ms.fd")
SIGNED_LOADER_PACKAGES = ("shim-signed", "grub-efi-amd64-signed")


def _run(argv, **kw):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%s failed:\n%s%s" % (argv, r.stdout, r.stderr)
    return r.stdout


def gpt_disk_image(image, tree, root_partuuid, esp_files=None, esp_mib=8, label="root"):
    """A GPT disk image as distributions publish them, just large enough: an ESP (FAT, holding
    esp_files, {path inside the ESP: bytes or a file's Path}) at 1 MiB, then an ext4 root
    partition (Discoverable Partitions type for x86-64, PARTUUID root_partuuid) holding
    tree, with a third of free space."""
    image, tmp = Path(image), Path(image).parent
    used = int(_run(["du", "-s", "--block-size=1M", tree]).split()[0])
    root_mib = used + used // 3 + 64
    root = tmp / (image.name + ".root")
    _run(["truncate", "-s", "%dM" % root_mib, root])
    _run(["mkfs.ext4", "-q", "-F", "-L", label, "-d", tree, root])
    esp = tmp / (image.name + ".esp")
    esp.unlink(missing_ok=True)  # mkfs.vfat -C refuses to overwrite
    _run(["mkfs.vfat", "-C", esp, str(esp_mib * 1024)])
    for path, data in sorted((esp_files or {}).items()):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            subprocess.run(["mmd", "-D", "s", "-i", str(esp), "::/" + "/".join(parts[:i])],
                           capture_output=True)  # exists already: fine
        src = data if isinstance(data, Path) else tmp / (image.name + ".esp-file")
        if not isinstance(data, Path):
            src.write_bytes(data.encode() if isinstance(data, str) else data)
        _run(["mcopy", "-o", "-i", esp, src, "::/" + "/".join(parts)])
    _run(["truncate", "-s", "%dM" % (1 + esp_mib + root_mib + 1), image])
    _run(["sfdisk", "-q", image], input="label: gpt\nstart=2048, size=%dM, type=%s\n"
         "start=%d, type=%s, uuid=%s\n" % (esp_mib, GPT_ESP, 2048 + esp_mib * 2048,
                                           GPT_ROOT_X86_64, root_partuuid))
    _run(["dd", "if=%s" % esp, "of=%s" % image, "bs=1M", "seek=1", "conv=notrunc",
          "status=none"])
    _run(["dd", "if=%s" % root, "of=%s" % image, "bs=1M", "seek=%d" % (1 + esp_mib),
          "conv=notrunc,sparse", "status=none"])
    for p in (root, esp, tmp / (image.name + ".esp-file")):
        p.unlink(missing_ok=True)
    return image


def signed_loaders():
    """Debian's signed shim and GRUB (downloaded once with apt-get download and unpacked into
    the cache, never installed here): {name: path}."""
    with _CacheLock():
        d = CACHE / "signed-loaders"
        want = {"shim": d / "usr/lib/shim/shimx64.efi.signed",
                "grub": d / "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"}
        if not all(p.exists() for p in want.values()):
            tmp = CACHE / "signed-loaders.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            for pkg in SIGNED_LOADER_PACKAGES:
                r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True,
                                   text=True)
                assert r.returncode == 0, "apt-get download %s failed: %s" % (pkg, r.stderr)
            for deb in tmp.glob("*.deb"):
                subprocess.run(["dpkg", "-x", str(deb), str(tmp)], check=True)
            shutil.rmtree(d, ignore_errors=True)
            os.replace(tmp, d)
        return want


def secure_boot_esp(kernel, options):
    """The ESP files that boot kernel (no initrd: the cloud kernel has NVMe and ext4 built in)
    with the command line options under Secure Boot, the way Debian does: shim as the
    removable-media loader (EFI/BOOT/BOOTX64.EFI, which firmware finds without any boot entry
    in its NVRAM), GRUB next to it, GRUB's configuration next to that."""
    loaders = signed_loaders()
    return {"EFI/BOOT/BOOTX64.EFI": loaders["shim"],
            "EFI/BOOT/grubx64.efi": loaders["grub"],
            "EFI/BOOT/grub.cfg": "set timeout=0\nsearch --no-floppy --file --set=root /vmlinuz\n"
                                 "linux /vmlinuz %s\nboot\n" % options,
            "vmlinuz": kernel.vmlinuz}


class FirmwareSystem(_QemuRun):
    """A PC with UEFI firmware and Secure Boot on (OVMF; a q35 machine with SMM, which keeps
    the variables out of the system's reach) that boots its NVMe disk as real hardware does,
    every time it starts: no -kernel, and a reboot is a reboot through the firmware (no
    -no-reboot); a poweroff ends QEMU. The NIC has no option ROM, so the firmware does not
    try a network boot first."""

    def __init__(self, disk, console, mem, hostfwd=()):
        self.disk = disk
        self.console = Path(console)
        nvram = self.console.parent / (self.console.name + ".OVMF_VARS.fd")
        shutil.copyfile(OVMF_VARS, nvram)
        args = [QEMU, "-machine", "q35,smm=on,accel=tcg",
                "-global", "driver=cfi.pflash01,property=secure,value=on",
                "-m", str(mem), "-smp", "1", "-display", "none", "-monitor", "none",
                "-serial", "file:%s" % console,
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s" % OVMF_CODE,
                "-drive", "if=pflash,format=raw,unit=1,file=%s" % nvram,
                "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
                "-device", "nvme,drive=d0,serial=REIMAGE-NVME-1,bootindex=0",
                "-netdev", "user,id=n0" + "".join(",hostfwd=" + f for f in hostfwd),
                "-device", "virtio-net-pci,netdev=n0,romfile="]
        self._start(args)


def make_system_disk(root, disk, size="512M", label="old-system"):
    """An ext4 disk image holding the tree root."""
    subprocess.run(["truncate", "-s", size, str(disk)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, "-d", str(root), str(disk)], check=True)


# --------------------------------------------------------------------------
# a running system whose PID 1 is systemd: a minimal Debian made with debootstrap (cached),
# with systemd-networkd giving it the address QEMU's user network expects, and a oneshot
# service that runs the test's command once the network is online.
# --------------------------------------------------------------------------

DEBOOTSTRAP_SUITE = "bookworm"
def _apt_mirror_and_proxy():
    """The Debian mirror apt uses here (so debootstrap reaches what apt reaches), and apt's
    HTTP proxy if one is configured."""
    mirror = "http://deb.debian.org/debian"
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list")]:
        try:
            text = path.read_text()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+)", text, re.M) if path.suffix == ".sources" else \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", text, re.M)
        if m and "security" not in m.group(1):
            mirror = m.group(1)
            break
    proxy = None
    r = subprocess.run(["apt-config", "shell", "P", "Acquire::http::Proxy"], capture_output=True,
                       text=True)
    m = re.search(r"P='([^']+)'", r.stdout)
    if m:
        proxy = m.group(1)
    return os.environ.get("REIMAGE_TEST_MIRROR", mirror), proxy


DEBOOTSTRAP_MIRROR, DEBOOTSTRAP_PROXY = _apt_mirror_and_proxy()

SYSTEMD_TEST_SERVICE = """[Unit]
Description=reimage test command
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/bin/sh /etc/reimage-test.sh
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
"""

SYSTEMD_TEST_WRAPPER = """#!/bin/sh
echo RUNNING-SYSTEM-UP systemd=$(cat /proc/1/comm)
sh /etc/reimage-test-command.sh
echo "TEST-COMMAND-EXIT=$?"
echo "KEXEC-LOADED=$(cat /sys/kernel/kexec_loaded)"
# reimage go hands over through systemctl kexec; anything else ends the VM
[ "$(cat /sys/kernel/kexec_loaded)" = 1 ] || systemctl poweroff
"""

NETWORKD_CONF = """[Match]
Name=e*

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
DNS=10.0.2.3
"""


def _debian_tree(name, packages, ready, image=False):
    """A Debian tree made once with debootstrap (minbase plus packages) into the cache as
    CACHE/name-SUITE; ready: paths inside it whose presence says it is complete. image=True
    makes it like a published image: no SSH host keys (each machine makes its own on first
    boot), and none of the package caches and documentation that only make it larger."""
    with _CacheLock():
        tree = CACHE / ("%s-%s" % (name, DEBOOTSTRAP_SUITE))
        if all((tree / p).exists() for p in ready):
            return tree
        tmp = CACHE / ("%s-%s.tmp" % (name, DEBOOTSTRAP_SUITE))
        shutil.rmtree(tmp, ignore_errors=True)
        env = dict(os.environ)
        if DEBOOTSTRAP_PROXY and "http_proxy" not in env:
            env["http_proxy"] = DEBOOTSTRAP_PROXY
        r = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + packages,
                            DEBOOTSTRAP_SUITE, str(tmp), DEBOOTSTRAP_MIRROR],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, "debootstrap failed:\n%s\n%s" % (r.stdout[-3000:],
                                                                    r.stderr[-3000:])
        if image:
            for p in (tmp / "etc" / "ssh").glob("ssh_host_*"):
                p.unlink()
            for d in ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
                      "usr/share/locale", "usr/share/info"):
                shutil.rmtree(tmp / d, ignore_errors=True)
                (tmp / d).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tree, ignore_errors=True)
        os.replace(tmp, tree)
        return tree


def debootstrap_root():
    """A minimal Debian tree with systemd (the running systems' base)."""
    return _debian_tree("systemd-root", "systemd-sysv,udev,kmod,iproute2",
                        ["lib/systemd/systemd"])


# python3-cffi-backend: debootstrap does not resolve the virtual package python3-cryptography
# depends on
CLOUD_PACKAGES = ("systemd-sysv,udev,kmod,iproute2,ifupdown,openssh-server,cloud-init,"
                  "python3-cffi-backend")


def cloud_root():
    """A Debian tree like a cloud image (cloud-init, ifupdown, OpenSSH): no network
    configuration, no password, no key, no host keys (a test's new system)."""
    return _debian_tree("cloud-root", CLOUD_PACKAGES, ["usr/bin/cloud-init"], image=True)


SSH_PACKAGES = "systemd-sysv,udev,kmod,iproute2,openssh-server,python3"


def ssh_root():
    """A Debian tree with systemd, OpenSSH and Python (what Ansible needs on a host), without
    cloud-init and without host keys."""
    return _debian_tree("ssh-root", SSH_PACKAGES, ["usr/sbin/sshd", "usr/bin/python3"],
                        image=True)


def build_systemd_root(kernel, reimage_bin, base, with_reimage=True):
    """The debootstrap tree plus reimage (with its libraries), the kernel and its modules,
    networkd configuration and the test service, in base/root. with_reimage=False leaves
    reimage out: a fresh Debian, for installing the package."""
    base = Path(base)
    tree = base / "root"
    subprocess.run(["cp", "-a", str(debootstrap_root()), str(tree)], check=True)
    if with_reimage:
        _install_reimage(tree, kernel, reimage_bin, base)
    (tree / "boot").mkdir(exist_ok=True)
    shutil.copy2(kernel.vmlinuz, tree / "boot" / kernel.vmlinuz.name)
    shutil.copytree(kernel.sysroot / "lib" / "modules" / kernel.version,
                    tree / "lib" / "modules" / kernel.version, symlinks=True, dirs_exist_ok=True)
    net = tree / "etc" / "systemd" / "network"
    net.mkdir(parents=True, exist_ok=True)
    (net / "20-qemu.network").write_text(NETWORKD_CONF)
    (tree / "etc" / "systemd" / "system" / "reimage-test.service").write_text(SYSTEMD_TEST_SERVICE)
    (tree / "etc" / "reimage-test.sh").write_text(SYSTEMD_TEST_WRAPPER)
    wants = tree / "etc" / "systemd" / "system" / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit, target in (("reimage-test.service", "/etc/systemd/system/reimage-test.service"),
                         ("systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service")):
        link = wants / unit
        if not link.exists():
            os.symlink(target, link)
    online = tree / "etc" / "systemd" / "system" / "network-online.target.wants"
    online.mkdir(parents=True, exist_ok=True)
    link = online / "systemd-networkd-wait-online.service"
    if not link.exists():
        os.symlink("/lib/systemd/system/systemd-networkd-wait-online.service", link)
    (tree / "etc" / "hostname").write_text("old-system\n")
    (tree / "etc" / "fstab").write_text("/dev/nvme0n1 / ext4 rw 0 1\n")
    (tree / "etc" / "resolv.conf").unlink(missing_ok=True)
    (tree / "etc" / "resolv.conf").write_text("nameserver 10.0.2.3\n")
    return tree


def _install_reimage(tree, kernel, reimage_bin, base):
    """reimage (with the libraries it needs and the CA bundle) into the tree, as a build from
    the source tree would put it in /usr/local."""
    cpio = base / "reimage.cpio"
    r = subprocess.run([reimage_bin, "initrd", "-o", str(cpio), "--compression", "none",
                        "--modules", "none", "--kernel-version", kernel.version],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    files = base / "reimage-files"
    files.mkdir()
    _cpio_extract(cpio.read_bytes(), files)
    # the binary and the libraries it needs (same Debian release as the tree)
    shutil.copy2(files / "init", tree / "usr" / "local" / "bin" / "reimage")
    for lib in files.rglob("*.so*"):
        dst = tree / lib.relative_to(files)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib, dst)
    ca = files / "etc" / "ssl" / "certs" / "ca-certificates.crt"
    (tree / "etc" / "ssl" / "certs").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ca, tree / "etc" / "ssl" / "certs" / "ca-certificates.crt")


class SystemdSystem(RunningSystem):
    """The same VM as RunningSystem, booting systemd from the NVMe disk."""

    APPEND = "root=/dev/nvme0n1 rw rootfstype=ext4"


def start_nginx(base, docroot, listen_extra="", http_extra="", server_extra="", ipv6=False):
    """A small nginx serving docroot on a free 127.0.0.1 port (the guest's 10.0.2.2), and with
    ipv6 on [::1] too (the guest's fec0::2 on an IPv6-only network), with all its files under
    base; the *_extra strings add directives (TLS, log formats). Returns (process, port); stop
    it with process.terminate()."""
    import socket
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    (base / "nginx.conf").write_text(
        "worker_processes 1; pid {b}/pid; error_log {b}/error.log;\n"
        "events {{ worker_connections 64; }}\n"
        "http {{ {http_extra}\n"
        "  access_log {b}/access.log{log}; client_body_temp_path {b}/b; proxy_temp_path {b}/p;\n"
        "  fastcgi_temp_path {b}/f; uwsgi_temp_path {b}/u; scgi_temp_path {b}/s;\n"
        "  server {{ listen 127.0.0.1:{port}{listen}; {listen6} root {root}; {server} }} }}\n".format(
            listen6="listen [::1]:%d%s;" % (port, listen_extra) if ipv6 else "",
            b=base, port=port, root=docroot, http_extra=http_extra, listen=listen_extra,
            server=server_extra, log=" main" if "log_format main" in http_extra else ""))
    proc = subprocess.Popen(["/usr/sbin/nginx", "-c", str(base / "nginx.conf"), "-g", "daemon off;"])
    time.sleep(0.5)
    return proc, port


# --------------------------------------------------------------------------
# a bootable "new system" for --then kexec: a busybox initramfs that finds its root by
# root=UUID= and switches to it, and a root file system whose /sbin/init says it was reached
# --------------------------------------------------------------------------

# The new system's initramfs: load the virtio disk drivers (NVMe is built into the cloud
# kernel), find the root file system named by root=UUID= on the command line, and switch to it.
NEW_INIT = """#!/bin/busybox sh
export PATH=/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
echo "INITRD-TAG: $(/bin/busybox cat /etc/new-system-tag 2>/dev/null)"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    [ -e /lib/modules/$m.ko ] && /bin/busybox insmod /lib/modules/$m.ko 2>/dev/null
done
root=$(/bin/busybox sed -n 's/.*root=\\(UUID=[^ ]*\\).*/\\1/p' /proc/cmdline)
for i in $(/bin/busybox seq 1 100); do
    dev=$(/bin/busybox findfs "$root" 2>/dev/null) && break
    /bin/busybox sleep 0.1
done
/bin/busybox mkdir -p /newroot
if [ -n "$dev" ] && /bin/busybox mount -t ext4 -o ro "$dev" /newroot; then
    echo "NEW-ROOT: $dev ($root)"
    /bin/busybox umount /proc
    /bin/busybox umount /dev
    exec /bin/busybox switch_root /newroot /sbin/init
fi
echo "NEW-ROOT-NOT-FOUND: '$root'"
/bin/busybox poweroff -f
"""

# /sbin/init of the new system's ext4 root: the marker says it was reached
ROOT_INIT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "NEW-SYSTEM-BOOTED $(/bin/busybox cat /etc/new-system-tag) from $(/bin/busybox awk '$2 == "/" { d = $1 } END { print d }' /proc/mounts)"
echo "NEW-CMDLINE: $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
"""

DISK_MODULES = ("virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
                "virtio_pci", "virtio_blk")


def newc(entries):
    """An uncompressed newc cpio archive of (name, mode, data) entries, with a trailer."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate(list(entries) + [("TRAILER!!!", 0, b"")], 1):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out += hdr.encode() + nb
        out += b"\0" * ((4 - len(out) % 4) % 4)
        out += data
        out += b"\0" * ((4 - len(out) % 4) % 4)
    return bytes(out)


def marker_initrds(kernel, tag, busybox=BUSYBOX):
    """Two archives, as a distribution with an early microcode cpio would have: the first holds
    /init, busybox and the disk drivers, the second a tag file; the flasher must hand over
    both, in order. busybox: the one for the kernel's machine (fetch_arm64_tools for arm64)."""
    moddir = kernel.sysroot / "lib" / "modules" / kernel.version
    mods = []
    for name in DISK_MODULES:
        found = list(moddir.glob("kernel/drivers/**/%s.ko" % name))
        if found:  # absent: built into this kernel
            mods.append(("lib/modules/%s.ko" % name, stat.S_IFREG | 0o644, found[0].read_bytes()))
    main = newc([("bin", stat.S_IFDIR | 0o755, b""), ("proc", stat.S_IFDIR | 0o755, b""),
                 ("dev", stat.S_IFDIR | 0o755, b""), ("etc", stat.S_IFDIR | 0o755, b""),
                 ("lib", stat.S_IFDIR | 0o755, b""), ("lib/modules", stat.S_IFDIR | 0o755, b""),
                 ("bin/busybox", stat.S_IFREG | 0o755, Path(busybox).read_bytes()),
                 ("init", stat.S_IFREG | 0o755, NEW_INIT.encode())] + mods)
    extra = newc([("etc", stat.S_IFDIR | 0o755, b""),
                  ("etc/new-system-tag", stat.S_IFREG | 0o644, ("initrd-" + tag).encode())])
    return main, extra


def new_root_tree(tree, tag, init=None, busybox=BUSYBOX):
    """The new system's root file system: busybox and an /sbin/init (by default one that
    prints the marker, its root device and its command line, then powers off)."""
    for d in ("bin", "sbin", "etc", "proc"):
        (tree / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, tree / "bin" / "busybox")
    (tree / "sbin" / "init").write_text(init or ROOT_INIT)
    os.chmod(tree / "sbin" / "init", 0o755)
    (tree / "etc" / "new-system-tag").write_text(tag)
    (tree / "etc" / "hostname").write_text("new-system\n")
