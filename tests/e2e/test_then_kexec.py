"""then = kexec under QEMU: the flasher writes a disk image, finds the new system's kernel in
it (a Boot Loader Specification entry on the ESP, or /vmlinuz on an ext4 root) and kexecs into
it. QEMU runs with -no-reboot, so a firmware reboot would end it: reaching the new system's
marker proves the jump went straight from the flasher into the new kernel.

The images are built without mounting anything: sfdisk for the GPT, mkfs.vfat + mtools for the
ESP, mkfs.ext4 -d for the root, put together with dd. The new system is Debian's cloud kernel
with a busybox initramfs that loads the disk drivers, finds the root file system named by
root=UUID= and switches to it; the root's /sbin/init prints a marker (with the device it runs
from) and the command line, then powers off."""

import hashlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from vmlib import marker_initrds, new_root_tree

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
ROOT_X86_64_GUID = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
LINUX_DATA_GUID = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
ROOT_UUID = "5d1e4a2c-6b7f-4c1e-9a3d-2f8e7c6b5a41"

def run(*args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%s failed:\n%s%s" % (args, r.stdout, r.stderr)
    return r


def make_esp(path, size_mib, files):
    """A FAT file system image holding files ({path in ESP: bytes or a host Path})."""
    # FAT32 as ESPs usually are; a small one is whatever FAT fits (mkfs.vfat chooses)
    run("mkfs.vfat", "-C", *(["-F", "32"] if size_mib >= 40 else []), "-n", "ESP", path,
        str(size_mib * 1024))
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    made = set()
    for dest in sorted(files):
        parts = dest.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in made:
                run("mmd", "-i", path, "::" + d, env=env)
                made.add(d)
        src = files[dest]
        if not isinstance(src, Path):
            tmp = Path(str(path) + ".file")
            tmp.write_bytes(src)
            src = tmp
        run("mcopy", "-i", path, src, "::" + dest.strip("/"), env=env)


def make_ext4(path, size_mib, tree, uuid=None):
    run("truncate", "-s", "%dM" % size_mib, path)
    run("mkfs.ext4", "-q", "-F", "-L", "new-root", *(["-U", uuid] if uuid else []), "-d", tree,
        path)


def make_gpt_disk(path, parts, size_mib=96):
    """parts: [(type GUID, file system image)], laid out from 1 MiB on, 1 MiB aligned."""
    run("truncate", "-s", "%dM" % size_mib, path)
    script = "label: gpt\n"
    offsets = []
    start = MiB
    for guid, img in parts:
        size = (os.path.getsize(img) + MiB - 1) // MiB * MiB
        script += "start=%d, size=%d, type=%s\n" % (start // 512, size // 512, guid)
        offsets.append((start, img))
        start += size
    r = subprocess.run(["sfdisk", "-q", str(path)], input=script, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for off, img in offsets:
        run("dd", "if=%s" % img, "of=%s" % path, "bs=1M", "seek=%d" % (off // MiB),
            "conv=notrunc,sparse", "status=none")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def disk_holds(disk, image):
    """The disk holds the image: every byte but the GPT's bookkeeping, which the flasher fits to
    the larger disk after the write (the protective MBR's size field and the primary header in
    the first two sectors, the old backup in the image's last 33), and the table is sound."""
    size = os.path.getsize(image)
    ranges = [(0, 446), (1024, size - 33 * 512)]
    with open(disk, "rb") as d, open(image, "rb") as i:
        for start, end in ranges:
            d.seek(start)
            i.seek(start)
            left = end - start
            while left:
                a, b = d.read(min(MiB, left)), i.read(min(MiB, left))
                if a != b or not a:
                    return False
                left -= len(a)
    v = subprocess.run(["sfdisk", "--verify", str(disk)], capture_output=True, text=True)
    return v.returncode == 0 and "No errors detected" in v.stdout


def blank_disk(tmp_path, size_mib=128):
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        for _ in range(size_mib):
            f.write(b"\xa5" * MiB)
    return disk


def flash_and_boot(nginx, build_flasher, vm, tmp_path, image, name, timeout=600):
    url = nginx.put(name, src=image).replace("127.0.0.1", "10.0.2.2")
    initrd = build_flasher("--src", url, "--dst", "/dev/vda", "--sha256", sha256_file(image),
                           "--then", "kexec")
    disk = blank_disk(tmp_path)
    v = vm(initrd, disk, mem=384)
    rc = v.wait_exit(timeout)
    return rc, v.text(), disk, initrd


def test_then_kexec_adds_file_system_drivers(reimage_bin, build_flasher):
    """The cloud kernel has vfat, its code pages, xfs and btrfs as modules and ext4 built in:
    the modules come along (with their dependencies), the built-in one is skipped quietly."""
    plain = build_flasher("--src", "http://h/i", "--dst", "/dev/vda")
    kexec = build_flasher("--src", "http://h/i", "--dst", "/dev/vda", "--then", "kexec")
    listing = {}
    for name, initrd in (("plain", plain), ("kexec", kexec)):
        r = subprocess.run([reimage_bin, "initrd", "--list", str(initrd)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        listing[name] = r.stdout
    for ko in ("/fs/fat/vfat.ko", "/fs/nls/nls_cp437.ko", "/fs/nls/nls_ascii.ko",
               "/fs/xfs/xfs.ko", "/fs/btrfs/btrfs.ko"):
        assert ko in listing["kexec"], ko
        assert ko not in listing["plain"], ko
    assert "/lib/libcrc32c.ko" in listing["kexec"]  # a dependency of xfs and btrfs
    assert "ext4.ko" not in listing["kexec"]


def make_bls_image(kernel, tmp_path, tag="from-bls"):
    """A GPT disk: an ESP with loader.conf, a new and an old BLS entry and a UKI entry, and an
    ext4 root."""
    main, extra = marker_initrds(kernel, tag)
    esp = tmp_path / "esp.img"
    make_esp(esp, 48, {
        "loader/loader.conf": b"timeout 3\ndefault @saved\n",
        # the newest entry by the spec's order (same sort-key: higher version first)
        "loader/entries/new.conf": (
            "title New System\nsort-key test\nversion 2.0\n"
            "linux /new/vmlinuz\ninitrd /new/initrd-main.img\ninitrd /new/initrd-extra.img\n"
            "options console=ttyS0 panic=-1 root=UUID=%s ro\noptions newsys.opt=bls-entry\n"
            % ROOT_UUID).encode(),
        "loader/entries/old.conf": (
            "title Old System\nsort-key test\nversion 1.0\nlinux /old/vmlinuz\n"
            "options console=ttyS0 newsys.opt=old-entry\n").encode(),
        # sorts first (sort-key aaa), but an EFI program cannot be kexec'ed
        "loader/entries/uki.conf": b"title UKI\nsort-key aaa\nefi /EFI/Linux/uki.efi\n",
        "new/vmlinuz": kernel.vmlinuz,
        "new/initrd-main.img": main,
        "new/initrd-extra.img": extra,
    })
    tree = tmp_path / "root"
    new_root_tree(tree, tag)
    root = tmp_path / "root.img"
    make_ext4(root, 16, tree, ROOT_UUID)
    image = tmp_path / "bls.img"
    make_gpt_disk(image, [(ESP_GUID, esp), (ROOT_X86_64_GUID, root)])
    return image


def test_bls_entry_on_esp(kernel, nginx, build_flasher, vm, tmp_path):
    image = make_bls_image(kernel, tmp_path)

    rc, out, disk, _ = flash_and_boot(nginx, build_flasher, vm, tmp_path, image, "bls.img")
    assert "NEW-SYSTEM-BOOTED from-bls from /dev/vda2" in out, out[-6000:]
    # both initrds arrived, in order: the second one's tag is seen by the first one's /init
    assert "INITRD-TAG: initrd-from-bls" in out
    assert rc == 0, out[-4000:]
    assert "boot: chose entry new.conf (New System, version 2.0) on /dev/vda1" in out
    assert "entry uki.conf skipped: it starts an EFI program" in out
    assert "initrd: /new/initrd-main.img + /new/initrd-extra.img" in out
    m = re.search(r"NEW-CMDLINE: (.*)", out)
    assert m and "newsys.opt=bls-entry" in m.group(1), out[-3000:]
    # the entry names its console, so the flasher's is not added a second time
    assert m.group(1).count("console=") == 1
    # straight from the flasher into the new kernel: no firmware reboot in between
    flasher_end = out.index("boot: jumping into the new system")
    assert "reboot: Restarting" not in out[flasher_end:]
    assert disk_holds(disk, image)


def test_vmlinuz_fallback_on_ext4_root(kernel, nginx, build_flasher, vm, tmp_path):
    main, extra = marker_initrds(kernel, "from-vmlinuz")
    tree = tmp_path / "root"
    new_root_tree(tree, "from-vmlinuz")
    (tree / "boot").mkdir(parents=True)
    shutil.copy2(kernel.vmlinuz, tree / "boot" / ("vmlinuz-" + kernel.version))
    (tree / "boot" / ("initrd.img-" + kernel.version)).write_bytes(main + extra)
    # Debian's links: the absolute one must resolve inside the new root, not the flasher's
    os.symlink("/boot/vmlinuz-" + kernel.version, tree / "vmlinuz")
    os.symlink("boot/initrd.img-" + kernel.version, tree / "initrd.img")
    root = tmp_path / "root.img"
    make_ext4(root, 40, tree, ROOT_UUID)
    image = tmp_path / "fallback.img"
    make_gpt_disk(image, [(LINUX_DATA_GUID, root)])

    rc, out, disk, _ = flash_and_boot(nginx, build_flasher, vm, tmp_path, image, "fallback.img")
    assert "NEW-SYSTEM-BOOTED from-vmlinuz from /dev/vda1" in out, out[-6000:]
    assert "INITRD-TAG: initrd-from-vmlinuz" in out
    assert rc == 0, out[-4000:]
    assert "boot: no Boot Loader Specification entries" in out
    assert "boot: chose /vmlinuz on /dev/vda1 (ext4)" in out
    m = re.search(r"NEW-CMDLINE: (.*)", out)
    assert m, out[-3000:]
    words = m.group(1).split()
    assert "root=UUID=" + ROOT_UUID in words and "ro" in words
    # nothing in the new system says where its console is: the flasher's is carried over
    assert "console=ttyS0" in words
    assert disk_holds(disk, image)


def test_kernel_refused_reboots(nginx, build_flasher, vm, tmp_path):
    """An entry whose "kernel" kexec_file_load rejects: the flasher says why and reboots."""
    esp = tmp_path / "esp.img"
    make_esp(esp, 8, {"loader/entries/broken.conf": b"title Broken\nlinux /notakernel\n",
                      "notakernel": b"this is not a bzImage\n" * 64})
    image = tmp_path / "refused.img"
    make_gpt_disk(image, [(ESP_GUID, esp)], size_mib=16)

    rc, out, disk, _ = flash_and_boot(nginx, build_flasher, vm, tmp_path, image, "refused.img",
                                      timeout=400)
    assert rc == 0, out[-4000:]
    assert "boot: chose entry broken.conf (Broken) on /dev/vda1" in out, out[-4000:]
    assert re.search(r"cannot boot the new system directly: loading the new system's kernel "
                     r"failed: /notakernel on /dev/vda1 is not a kernel this kernel can kexec",
                     out), out[-4000:]
    assert re.search(r"reboot: (Restarting system|machine restart)", out), out[-3000:]
    assert disk_holds(disk, image)


def test_nothing_bootable_reboots(nginx, build_flasher, vm, tmp_path):
    tree = tmp_path / "data"
    tree.mkdir()
    (tree / "README").write_text("a data disk, no kernel here\n")
    # hostile "kernels": never opened (a FIFO would block the flasher for good), just skipped
    os.mkfifo(tree / "vmlinuz")
    (tree / "boot").mkdir()
    os.mknod(tree / "boot" / "vmlinuz", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    data = tmp_path / "data.img"
    make_ext4(data, 8, tree)
    image = tmp_path / "data-disk.img"
    make_gpt_disk(image, [(LINUX_DATA_GUID, data)], size_mib=16)

    rc, out, disk, _ = flash_and_boot(nginx, build_flasher, vm, tmp_path, image, "data-disk.img",
                                   timeout=400)
    assert rc == 0, out[-4000:]
    assert "cannot boot the new system directly: nothing bootable on /dev/vda" in out, out[-4000:]
    for p in ("/boot/vmlinuz", "/vmlinuz"):
        assert ("boot: %s on /dev/vda1 is not a regular file (a FIFO or a device node?): "
                "skipped, not opened" % p) in out, out[-4000:]
    assert "rebooting through the firmware instead" in out
    assert re.search(r"reboot: (Restarting system|machine restart)", out), out[-3000:]
    assert "NEW-SYSTEM-BOOTED" not in out
    assert disk_holds(disk, image)


def test_go_then_kexec_from_a_running_system(kernel, nginx, running_system, tmp_path):
    """The whole flow: a running system reimages its own disk with reimage go --then kexec,
    and ends up in the new system without any firmware reboot (QEMU runs with -no-reboot)."""
    image = make_bls_image(kernel, tmp_path, tag="via-go")
    url = nginx.put("go-bls.img", src=image).replace("127.0.0.1", "10.0.2.2")
    v = running_system("reimage go %s --to /dev/nvme0n1 --sha256 %s --then kexec --yes"
                       % (url, sha256_file(image)))
    rc = v.wait_exit(600)
    out = v.text()
    assert "NEW-SYSTEM-BOOTED via-go from /dev/nvme0n1p2" in out, out[-6000:]
    assert rc == 0, out[-4000:]
    assert "then:     kexec" in out
    assert "boot: chose entry new.conf (New System, version 2.0)" in out
    # one kexec from the running system into the flasher, one from the flasher into the new
    # system, and no firmware reboot at all
    assert "reboot: Restarting" not in out
    assert disk_holds(v.disk, image)
