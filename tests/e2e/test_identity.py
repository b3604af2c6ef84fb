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
import re
import shutil
import subprocess
import time

import pytest

from nginx_server import free_port

from vmlib import (GPT_ROOT_X86_64, FirmwareSystem, SystemdSystem, cloud_root, gpt_disk_image, make_system_disk,
                   secure_boot_esp, ssh_root)

pytestmark = pytest.mark.e2e

MiB = 1 << 20
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

def new_system_up_unit(wait=""):
    """A unit that prints NEW-SYSTEM-UP and the host name on the new system's console once sshd
    runs and the shell condition wait (if any) has come true."""
    return """[Unit]
After=ssh.service
Wants=ssh.service

[Service]
Type=simple
ExecStart=/bin/sh -c '%secho "NEW-SYSTEM-UP $$(hostname)"'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
""" % wait


# cloud-final runs after multi-user.target, so the cloud image's unit waits for its mark
# instead of ordering after it
NEW_SYSTEM_UP = new_system_up_unit(
    "until [ -e /var/lib/cloud/instance/boot-finished ]; do sleep 1; done; ")


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


def build_cloud_image(kernel, tmp_path, esp_options=None):
    """GPT: an ESP and an ext4 root with the cached cloud tree, the kernel (booted without an
    initrd: NVMe and ext4 are built into it) and its modules (virtio_net). The ESP is an empty
    8 MiB one, or with esp_options one that boots the kernel with those options under Secure
    Boot (ESP_MIB)."""
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
    if esp_options:
        image = gpt_disk_image(tmp_path / "cloud.img", tree, ROOT_PARTUUID, label="cloud-root",
                               esp_files=secure_boot_esp(kernel, esp_options), esp_mib=ESP_MIB)
    else:
        image = gpt_disk_image(tmp_path / "cloud.img", tree, ROOT_PARTUUID, label="cloud-root")
    shutil.rmtree(tree)
    return image


def old_system(systemd_root, tmp_path, command):
    """The old system's tree: the systemd Debian on a static address without DHCP, with its
    own SSH host key, the operator's key for root, and the test's command. Returns the tree
    and the operator's private key."""
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
    (tree / "etc" / "reimage-test-command.sh").write_text(command + "\n")
    return tree, op


def known_hosts(tree, tmp_path, port):
    """A known_hosts file that accepts only the OLD system's host key on the forwarded port."""
    known = tmp_path / "known_hosts"
    known.write_text("[127.0.0.1]:%d %s" % (
        port, (tree / "etc" / "ssh" / "ssh_host_ed25519_key.pub").read_text()))
    return known


# what the new system says of itself over SSH; the last three lines are the root file system's
# size in bytes, the root partition's and the disk's in sectors
FILL_CHECK = ("df -B1 --output=size / | tail -1; cat /sys/class/block/nvme0n1p2/size; "
              "cat /sys/class/block/nvme0n1/size")


def log_in_to_new_system(op, port, known, cmd, console):
    """Runs cmd on the new system as root with the operator's key, trusting only the old host
    key (StrictHostKeyChecking=yes), retrying while its sshd comes up. Returns (the ssh
    command line, cmd's output)."""
    ssh = ["ssh", "-i", str(op), "-p", str(port), "-o", "StrictHostKeyChecking=yes",
           "-o", "UserKnownHostsFile=%s" % known, "-o", "BatchMode=yes",
           "-o", "ConnectTimeout=20", "root@127.0.0.1"]
    r = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        r = subprocess.run(ssh + [cmd], capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            break
        time.sleep(5)
    assert r.returncode == 0, "ssh into the new system failed: %s\n%s" % (
        r.stderr, console[-6000:])
    return ssh, r.stdout


def assert_root_fills_disk(stdout, root_start):
    """The root partition reaches the disk's end (less the backup GPT), and its file system
    fills it (FILL_CHECK's lines)."""
    lines = stdout.splitlines()
    fs_size, part_sectors, disk_sectors = int(lines[-3]), int(lines[-2]), int(lines[-1])
    assert root_start + part_sectors == disk_sectors - 33, stdout
    assert fs_size > part_sectors * 512 * 0.9, stdout


def wait_configured_new_system(v, image_kind):
    """Waits for the new system to come up (about 3 minutes on a loaded 2-core host; a guest
    whose emulated NVMe hangs after a kexec is given up on long before the suite's budget),
    failing at once when the flasher holds or a kernel panics; checks that the flasher
    configured it for its kind (networkd's MAC-matched file, or cloud-init's seed). The
    console text."""
    m = v.wait_console(r"NEW-SYSTEM-UP|reimage: holding|Kernel panic", 900)
    out = v.text()
    assert m.group(0) == "NEW-SYSTEM-UP", out[-6000:]
    configured = out[out.index("configure: looking"):]
    if image_kind == "networkd":
        assert "configure: wrote " + NETWORK_FILE["networkd"] in configured, out[-6000:]
        assert "cloud-init" not in configured, out[-6000:]
    else:
        assert "configure: the new system has cloud-init" in configured, out[-6000:]
    return out


def assert_sound_gpt(disk):
    verify = subprocess.run(["sfdisk", "--verify", str(disk)], capture_output=True, text=True)
    assert verify.returncode == 0 and "No errors detected" in verify.stdout, verify.stdout


@pytest.mark.parametrize("image_kind", ["networkd", "cloud-init"])
def test_go_keep_identity_then_kexec(image_kind, kernel, systemd_root, nginx, tmp_path):
    """`go --keep-identity --then kexec` on a BIOS machine: the flasher writes the image, fits
    it to the disk and configures it, then kexecs the kernel it finds in the new root's /boot
    with that system's /etc/kernel/cmdline. Once with the cloud-init image, once with the
    systemd-networkd image without cloud-init."""
    if image_kind == "networkd":
        image = build_networkd_image(kernel, tmp_path)
    else:
        image = build_cloud_image(kernel, tmp_path)
    url = nginx.put("new.img", src=image).replace("127.0.0.1", "10.0.2.2")

    tree, op = old_system(systemd_root, tmp_path,
                          "reimage go %s --to /dev/nvme0n1 --sha256 %s --keep-identity "
                          "--then kexec --yes" % (url, sha256_file(image)))
    disk = tmp_path / "disk.raw"
    make_system_disk(tree, disk, "2G")
    port = free_port()
    known = known_hosts(tree, tmp_path, port)

    v = PatientSystem(kernel, disk, tmp_path / "console.log", 1024,
                      hostfwd=("tcp:127.0.0.1:%d-%s:22" % (port, OLD_ADDR),))
    try:
        out = wait_configured_new_system(v, image_kind)
        # the plan said what would happen, with the host key's fingerprint and not the key
        fp = sh("ssh-keygen", "-l", "-f",
                tmp_path / "old-root" / "etc" / "ssh" / "ssh_host_ed25519_key.pub").split()[1]
        assert fp in out
        assert "configure: the ext4 file system on /dev/nvme0n1p2 now fills" in out
        # the flasher kexec'd the new root's kernel with its own command line
        assert "boot: chose /boot/vmlinuz on /dev/nvme0n1p2 (ext4)" in out, out[-6000:]
        ssh, stdout = log_in_to_new_system(
            op, port, known, "hostname; cat /proc/cmdline; cat %s; "
            "ip -4 -o addr show scope global; %s" % (NETWORK_FILE[image_kind], FILL_CHECK), out)
        lines = stdout.splitlines()
        assert lines[0] == "old-system", stdout
        assert "nvme_core.io_timeout=600" in lines[1], stdout
        assert OLD_ADDR + "/24" in stdout, stdout
        assert_root_fills_disk(stdout, 18432)
        subprocess.run(ssh + ["systemctl poweroff"], capture_output=True, timeout=60)
        v.wait_exit(300)
    finally:
        v.stop()
    assert_sound_gpt(disk)


OLD_PARTUUID = "d5a0c3e1-7f24-4b69-8e1a-3c5b9d2f6a04"
ENTRY_MARK = "reimage-test-entry=new-esp"
ESP_MIB = 32  # shim, GRUB and the kernel

# the networkd image's mark: sshd is up (the test polls SSH until networkd has the address)
SSHD_UP = new_system_up_unit()


def build_networkd_image(kernel, tmp_path, esp_options=None):
    """A Debian image without cloud-init whose network is systemd-networkd's (enabled, with no
    .network file at all: on this network only a configuration reimage writes brings it up),
    with OpenSSH and no host keys, and the kernel in /boot for a kexec; GPT with an ESP (an
    empty one, or with esp_options one that boots the kernel with those options under Secure
    Boot: shim, GRUB, the kernel), and an ext4 root much smaller than the disk."""
    tree = tmp_path / "networkd-root"
    sh("cp", "-a", ssh_root(), tree)
    assert not (tree / "usr" / "bin" / "cloud-init").exists()
    (tree / "boot").mkdir(exist_ok=True)
    shutil.copy2(kernel.vmlinuz, tree / "boot" / "vmlinuz")
    (tree / "etc" / "kernel").mkdir(exist_ok=True)
    (tree / "etc" / "kernel" / "cmdline").write_text("nvme_core.io_timeout=600\n")
    shutil.copytree(kernel.sysroot / "lib" / "modules" / kernel.version,
                    tree / "lib" / "modules" / kernel.version, symlinks=True, dirs_exist_ok=True)
    systemd = tree / "etc" / "systemd" / "system"
    for target, unit in (("multi-user.target.wants", "systemd-networkd.service"),
                         ("sockets.target.wants", "systemd-networkd.socket"),
                         ("network-online.target.wants", "systemd-networkd-wait-online.service")):
        (systemd / target).mkdir(parents=True, exist_ok=True)
        os.symlink("/lib/systemd/system/" + unit, systemd / target / unit)
    assert not list((tree / "etc" / "systemd" / "network").glob("*.network"))
    (tree / "etc" / "fstab").write_text("PARTUUID=%s / ext4 defaults 0 1\n" % ROOT_PARTUUID)
    (tree / "etc" / "hostname").write_text("debian\n")
    (systemd / "new-system-up.service").write_text(SSHD_UP)
    os.symlink("/etc/systemd/system/new-system-up.service",
               systemd / "multi-user.target.wants" / "new-system-up.service")
    if esp_options:
        image = gpt_disk_image(tmp_path / "networkd.img", tree, ROOT_PARTUUID,
                               label="networkd-root",
                               esp_files=secure_boot_esp(kernel, esp_options), esp_mib=ESP_MIB)
    else:
        image = gpt_disk_image(tmp_path / "networkd.img", tree, ROOT_PARTUUID,
                               label="networkd-root")
    shutil.rmtree(tree)
    return image


# what each image shows of the network reimage gave it: networkd's MAC-matched file, or the
# file cloud-init rendered from the seed's network-config for ifupdown
NETWORK_FILE = {"networkd": "/etc/systemd/network/10-reimage.network",
                "cloud-init": "/etc/network/interfaces.d/50-cloud-init"}


@pytest.mark.parametrize("image_kind", ["networkd", "cloud-init"])
def test_keep_identity_then_firmware_reboot_under_secure_boot(image_kind, kernel, systemd_root,
                                                              nginx, tmp_path):
    """The promise through a firmware reboot, on a PC with Secure Boot on (OVMF with
    Microsoft's keys) that boots through its firmware both times: the old system through shim,
    GRUB and Debian's signed kernel from its own ESP, locked down; `go --keep-identity --then
    reboot` hands over with kexec_file_load (the only way a locked-down kernel allows); the
    flasher writes, configures and reboots; and the firmware starts the new system from the
    ESP the image brought, again under Secure Boot. Once with a systemd-networkd image without
    cloud-init (and no .network file at all), once with the cloud-init image."""
    options = "root=PARTUUID=%s rw console=ttyS0 nvme_core.io_timeout=600 %s" % (
        ROOT_PARTUUID, ENTRY_MARK)
    if image_kind == "networkd":
        image = build_networkd_image(kernel, tmp_path, options)
    else:
        image = build_cloud_image(kernel, tmp_path, options)
    url = nginx.put("new.img", src=image).replace("127.0.0.1", "10.0.2.2")

    tree, op = old_system(systemd_root, tmp_path,
                          "reimage go %s --to /dev/nvme0n1 --sha256 %s --keep-identity "
                          "--then reboot --yes" % (url, sha256_file(image)))
    (tree / "etc" / "fstab").write_text("PARTUUID=%s / ext4 rw 0 1\n" % OLD_PARTUUID)
    esp = secure_boot_esp(kernel, "root=PARTUUID=%s rw console=ttyS0 panic=-1 "
                          "nvme_core.io_timeout=600" % OLD_PARTUUID)
    disk = gpt_disk_image(tmp_path / "disk.raw", tree, OLD_PARTUUID, esp_files=esp,
                          esp_mib=ESP_MIB, label="old-system")
    sh("truncate", "-s", "2G", disk)
    port = free_port()
    known = known_hosts(tree, tmp_path, port)

    v = FirmwareSystem(disk, tmp_path / "console.log", 1024,
                       hostfwd=("tcp:127.0.0.1:%d-%s:22" % (port, OLD_ADDR),))
    try:
        # the flasher holds when a step fails: say so at once, not after the timeout
        out = wait_configured_new_system(v, image_kind)
        assert "RUNNING-SYSTEM-UP" in out, out[-6000:]
        # the old system ran under Secure Boot, and its plan said what that means
        assert "lockdown integrity: the distribution-signed kernel loads" in out, out[-6000:]
        assert "loader:   kexec_file_load" in out, out[-6000:]
        # the flasher's kernel got the running kernel's console and its NVMe timeout, not its
        # root= or panic=
        assert "command line: console=ttyS0 nvme_core.io_timeout=600 panic=10 " in out, \
            out[-6000:]
        # the flasher rebooted, and the firmware booted the new ESP's entry, under Secure Boot
        rebooted = out.index("reboot: Restarting system")
        assert out.index("configure: ") < rebooted < out.rindex(ENTRY_MARK), out[-6000:]
        # three kernels, each locked down by Secure Boot: the old system's, the flasher's
        # (kexec_file_load passes the firmware's Secure Boot state on) and the new system's
        assert out.count("secureboot: Secure boot enabled") == 3, out[-6000:]
        assert "secureboot: Secure boot enabled" in out[rebooted:], out[rebooted:][-6000:]
        ssh, stdout = log_in_to_new_system(
            op, port, known, "hostname; cat /proc/cmdline; test -d /sys/firmware/efi && "
            "echo uefi; cat /sys/kernel/security/lockdown; cat %s; "
            "cat /sys/class/net/e*/address; ip -4 -o addr show scope global; %s"
            % (NETWORK_FILE[image_kind], FILL_CHECK), out)
        lines = stdout.splitlines()
        assert lines[0] == "old-system", stdout
        assert ENTRY_MARK in lines[1] and lines[2] == "uefi", stdout
        assert "[integrity]" in lines[3], stdout
        assert OLD_ADDR + "/24" in stdout, stdout
        if image_kind == "networkd":
            mac = [l for l in lines if re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", l)]
            assert mac and "MACAddress=" + mac[0] in stdout, stdout
        else:
            assert "address " + OLD_ADDR in stdout, stdout  # as cloud-init rendered it
        assert_root_fills_disk(stdout, 2048 + ESP_MIB * 2048)
        subprocess.run(ssh + ["systemctl poweroff"], capture_output=True, timeout=60)
        v.wait_exit(300)
    finally:
        v.stop()
    assert_sound_gpt(disk)


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
    sh("sfdisk", "-q", image, input="label: gpt\nstart=2048, size=40M, type=%s\n" % GPT_ROOT_X86_64)
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
    assert_sound_gpt(disk)
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
