"""The reimaged machine comes back as itself, under QEMU: a Debian system with a static address
on a network it has no DHCP for (QEMU's DHCP would hand out 10.0.2.15; the machine uses
10.0.2.77, and the test reaches only that address) runs `reimage go --keep-identity --then
kexec` with an image built here from Debian packages (cloud-init, ifupdown, OpenSSH; a GPT
with an ESP and an ext4 root much smaller than the disk; no network configuration, no
password, no key, no host keys). The test then logs in to the NEW system over SSH, checking
its host key against the OLD system's (StrictHostKeyChecking=yes) with the operator's key, and
checks the name, the address, that the root file system fills the disk and that the partition
table is sound."""

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from vmlib import SystemdSystem, cloud_root, make_system_disk

pytestmark = pytest.mark.e2e

MiB = 1 << 20
ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
ROOT_X86 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
ROOT_PARTUUID = "7c0f5e2a-3b1d-4e8f-9a6c-2d4b8e1f0a37"
OLD_ADDR = "10.0.2.77"

STATIC_NETWORK = """[Match]
Name=e*

[Network]
Address=%s/24
Gateway=10.0.2.2
DNS=10.0.2.3
DHCP=no
""" % OLD_ADDR

# printed on the new system's console once cloud-init is through and sshd runs (cloud-final
# runs after multi-user.target, so this waits for its mark instead of ordering after it)
NEW_SYSTEM_UP = """[Unit]
After=ssh.service
Wants=ssh.service

[Service]
Type=simple
ExecStart=/bin/sh -c 'until [ -e /var/lib/cloud/instance/boot-finished ]; do sleep 1; done; echo "NEW-SYSTEM-UP $$(hostname)"'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
"""


class PatientSystem(SystemdSystem):
    """The systemd VM with an NVMe timeout a loaded TCG host can meet."""
    APPEND = SystemdSystem.APPEND + " nvme_core.io_timeout=600"


def sh(*argv, **kw):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%s failed:\n%s%s" % (argv, r.stdout, r.stderr)
    return r.stdout


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def build_cloud_image(kernel, tmp_path):
    """GPT: an 8 MiB ESP and an ext4 root with the cached cloud tree, the kernel (booted without
    an initrd: NVMe and ext4 are built into it) and its modules (virtio_net)."""
    tree = tmp_path / "new-root"
    sh("cp", "-a", cloud_root(), tree)
    shutil.copy2(kernel.vmlinuz, tree / "boot" / "vmlinuz")
    shutil.copytree(kernel.sysroot / "lib" / "modules" / kernel.version,
                    tree / "lib" / "modules" / kernel.version, symlinks=True, dirs_exist_ok=True)
    (tree / "etc" / "fstab").write_text("PARTUUID=%s / ext4 defaults 0 1\n" % ROOT_PARTUUID)
    (tree / "etc" / "hostname").write_text("debian\n")
    # TCG on a loaded 2-core host can stall an emulated NVMe command past the kernel's 30 s
    # default, after which the controller is reset and I/O fails
    (tree / "etc" / "kernel").mkdir(exist_ok=True)
    (tree / "etc" / "kernel" / "cmdline").write_text("nvme_core.io_timeout=600\n")
    # only the seed: no metadata service to wait for on this network
    (tree / "etc" / "cloud" / "cloud.cfg.d" / "90-reimage-test.cfg").write_text(
        "datasource_list: [ NoCloud, None ]\n")
    (tree / "etc" / "systemd" / "system" / "new-system-up.service").write_text(NEW_SYSTEM_UP)
    os.symlink("/etc/systemd/system/new-system-up.service",
               tree / "etc" / "systemd" / "system" / "multi-user.target.wants" /
               "new-system-up.service")
    used = int(sh("du", "-s", "--block-size=1M", tree).split()[0])
    root_mib = used + used // 3 + 64
    root = tmp_path / "root.img"
    sh("truncate", "-s", "%dM" % root_mib, root)
    sh("mkfs.ext4", "-q", "-F", "-L", "cloud-root", "-d", tree, root)
    shutil.rmtree(tree)
    image = tmp_path / "cloud.img"
    sh("truncate", "-s", "%dM" % (root_mib + 10), image)
    sh("sfdisk", "-q", image, input="label: gpt\nstart=2048, size=8M, type=%s\n"
       "start=18432, type=%s, uuid=%s\n" % (ESP, ROOT_X86, ROOT_PARTUUID))
    esp = tmp_path / "esp.img"
    sh("mkfs.vfat", "-C", esp, str(8 * 1024))
    sh("dd", "if=%s" % esp, "of=%s" % image, "bs=1M", "seek=1", "conv=notrunc", "status=none")
    sh("dd", "if=%s" % root, "of=%s" % image, "bs=1M", "seek=9", "conv=notrunc,sparse",
       "status=none")
    root.unlink()
    esp.unlink()
    return image


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def test_go_keep_identity_then_kexec(kernel, systemd_root, nginx, tmp_path):
    image = build_cloud_image(kernel, tmp_path)
    url = nginx.put("cloud.img", src=image).replace("127.0.0.1", "10.0.2.2")

    # the old system: static address without DHCP, its own host key, the operator's key
    tree = tmp_path / "old-root"
    sh("cp", "-a", systemd_root, tree)
    (tree / "etc" / "systemd" / "network" / "20-qemu.network").write_text(STATIC_NETWORK)
    (tree / "etc" / "ssh").mkdir(exist_ok=True)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "old-host",
       "-f", tree / "etc" / "ssh" / "ssh_host_ed25519_key")
    op = tmp_path / "operator"
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "operator@e2e", "-f", op)
    (tree / "root" / ".ssh").mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy(str(op) + ".pub", tree / "root" / ".ssh" / "authorized_keys")
    (tree / "etc" / "reimage-test-command.sh").write_text(
        "reimage go %s --to /dev/nvme0n1 --sha256 %s --keep-identity --then kexec --yes\n"
        % (url, sha256_file(image)))
    disk = tmp_path / "disk.raw"
    make_system_disk(tree, disk, "2G")
    port = free_port()
    known = tmp_path / "known_hosts"
    known.write_text("[127.0.0.1]:%d %s" % (
        port, (tmp_path / "old-root" / "etc" / "ssh" / "ssh_host_ed25519_key.pub").read_text()))

    v = PatientSystem(kernel, disk, tmp_path / "console.log", 1024,
                      hostfwd=("tcp:127.0.0.1:%d-%s:22" % (port, OLD_ADDR),))
    try:
        v.wait_console(r"NEW-SYSTEM-UP", 1500)
        out = v.text()
        # the plan said what would happen, with the host key's fingerprint and not the key
        fp = sh("ssh-keygen", "-l", "-f",
                tmp_path / "old-root" / "etc" / "ssh" / "ssh_host_ed25519_key.pub").split()[1]
        assert fp in out
        assert "configure: the new system has cloud-init" in out
        assert "configure: the ext4 file system on /dev/nvme0n1p2 now fills" in out
        ssh = ["ssh", "-i", str(op), "-p", str(port), "-o", "StrictHostKeyChecking=yes",
               "-o", "UserKnownHostsFile=%s" % known, "-o", "BatchMode=yes",
               "-o", "ConnectTimeout=20", "root@127.0.0.1"]
        cmd = ("hostname; ip -4 -o addr show scope global; df -B1 --output=size / | tail -1; "
               "cat /sys/class/block/nvme0n1p2/size; cat /sys/class/block/nvme0n1/size")
        r = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            r = subprocess.run(ssh + [cmd], capture_output=True, text=True, timeout=120)
            if r.returncode == 0:
                break
            time.sleep(5)
        assert r.returncode == 0, "ssh into the new system failed: %s\n%s" % (
            r.stderr, out[-6000:])
        lines = r.stdout.splitlines()
        assert lines[0] == "old-system", r.stdout
        assert OLD_ADDR + "/24" in r.stdout, r.stdout
        fs_size, part_sectors, disk_sectors = int(lines[-3]), int(lines[-2]), int(lines[-1])
        # the root partition reaches the disk's end (less the backup GPT), and its file
        # system fills it
        assert 18432 + part_sectors == disk_sectors - 33, r.stdout
        assert fs_size > part_sectors * 512 * 0.9, r.stdout
        subprocess.run(ssh + ["systemctl poweroff"], capture_output=True, timeout=60)
        v.wait_exit(300)
    finally:
        v.stop()
    verify = subprocess.run(["sfdisk", "--verify", str(disk)], capture_output=True, text=True)
    assert verify.returncode == 0 and "No errors detected" in verify.stdout, verify.stdout


def test_flasher_configures_before_a_firmware_reboot(nginx, build_flasher, vm, tmp_path):
    """then = reboot: the flasher alone (built on the host with explicit identity options)
    writes a small GPT image, fits the table, grows ext4 online (the kernel's resize ioctl:
    the flasher carries no resize2fs), writes the files, syncs, and only then reboots. The
    disk is read on the host afterwards."""
    tree = tmp_path / "tree"
    (tree / "etc" / "ssh").mkdir(parents=True)
    (tree / "etc" / "os-release").write_text("ID=debian\n")
    (tree / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    root = tmp_path / "root.img"
    sh("truncate", "-s", "40M", root)
    sh("mkfs.ext4", "-q", "-F", "-d", tree, root)
    image = tmp_path / "small.img"
    sh("truncate", "-s", "42M", image)
    sh("sfdisk", "-q", image, input="label: gpt\nstart=2048, size=40M, type=%s\n" % ROOT_X86)
    sh("dd", "if=%s" % root, "of=%s" % image, "bs=1M", "seek=1", "conv=notrunc", "status=none")
    keys = tmp_path / "hostkeys"
    keys.mkdir()
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kept", "-f",
       keys / "ssh_host_ed25519_key")
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "op@reboot", "-f", tmp_path / "op")
    payload = tmp_path / "payload"
    payload.write_text("copied before the reboot\n")
    url = nginx.put("small.img", src=image).replace("127.0.0.1", "10.0.2.2")
    os.environ["REIMAGE_SSH_HOST_KEY_DIR"] = str(keys)
    try:
        initrd = build_flasher("--src", url, "--dst", "/dev/vda", "--sha256", sha256_file(image),
                               "--then", "reboot", "--keep-ssh-host-keys", "--ssh-authorized-keys",
                               str(tmp_path / "op.pub"), "--hostname", "rebooted", "--grow",
                               "--copy", "%s:/srv/payload:0640" % payload)
    finally:
        del os.environ["REIMAGE_SSH_HOST_KEY_DIR"]
    disk = tmp_path / "disk.raw"
    sh("truncate", "-s", "256M", disk)
    v = vm(initrd, disk, mem=384)
    rc = v.wait_exit(600)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "configure: the ext4 file system on /dev/vda1 now fills" in out, out[-4000:]
    assert out.index("configure: 6 files written") < out.index("reboot: ")
    verify = subprocess.run(["sfdisk", "--verify", str(disk)], capture_output=True, text=True)
    assert verify.returncode == 0 and "No errors detected" in verify.stdout, verify.stdout
    loop = sh("losetup", "-f", "--show", "-o", str(MiB), disk).strip()
    mp = tmp_path / "mnt"
    mp.mkdir()
    try:
        sh("mount", "-o", "ro", loop, mp)
        try:
            st = os.statvfs(mp)
            assert st.f_blocks * st.f_frsize > 200 * MiB
            assert (mp / "etc" / "hostname").read_text() == "rebooted\n"
            assert "127.0.1.1\trebooted" in (mp / "etc" / "hosts").read_text()
            assert (mp / "etc" / "ssh" / "ssh_host_ed25519_key").read_bytes() == \
                (keys / "ssh_host_ed25519_key").read_bytes()
            assert "op@reboot" in (mp / "root" / ".ssh" / "authorized_keys").read_text()
            p = mp / "srv" / "payload"
            assert p.read_text() == "copied before the reboot\n"
            assert oct(p.stat().st_mode & 0o7777) == "0o640"
        finally:
            sh("umount", mp)
    finally:
        sh("losetup", "-d", loop)
