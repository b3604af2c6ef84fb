"""Hold mode under QEMU ("Groundhog Day"): a running system does `reimage go --hold`; the
flasher comes up with SSH on the machine's own host keys; the test logs in with its key
(known_hosts made from the VM's original OpenSSH host key, StrictHostKeyChecking=yes), streams
an image over stdin with `reimage flash -`, and ends the hold with `reimage done poweroff`.
And a hold that nobody joins reboots into the untouched old system when its timeout passes."""

import hashlib
import os
import re
import shutil
import subprocess
import time

from pathlib import Path

import pytest

from nginx_server import free_port

from vmlib import RunningSystem, build_running_root, make_system_disk

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not shutil.which("ssh") or not shutil.which("dropbearconvert"),
                                 reason="needs openssh-client and dropbear-bin (scripts/install-deps)")]

DROPBEAR_TOOLS = ("/usr/sbin/dropbear", "/usr/bin/dropbearconvert", "/usr/bin/dropbearkey",
                  "/usr/bin/lsblk", "/usr/sbin/sfdisk")
# the cloud kernel has no RDRAND under TCG: virtio-rng seeds the CRNG that dropbear waits for
RNG = ("-device", "virtio-rng-pci")


def sha_file(path, length=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read() if length is None else f.read(length))
    return h.hexdigest()


@pytest.fixture(scope="module")
def hold_root(kernel, reimage_bin, tmp_path_factory):
    """The running system's tree with dropbear's tools, OpenSSH host keys in /etc/ssh and the
    test operator's key in /root/.ssh/authorized_keys."""
    base = tmp_path_factory.mktemp("hold-root")
    tree = build_running_root(kernel, reimage_bin, base,
                              include=[p for p in DROPBEAR_TOOLS if os.path.exists(p)])
    etc_ssh = tree / "etc" / "ssh"
    etc_ssh.mkdir(parents=True)
    for kind in ("ed25519", "ecdsa", "rsa"):
        args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@old-system",
                "-f", str(etc_ssh / ("ssh_host_%s_key" % kind))]
        if kind == "rsa":
            args[4:4] = ["-b", "2048"]
        subprocess.run(args, check=True)
    op = base / "operator"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "reimage-e2e-operator",
                    "-f", str(op)], check=True)
    ssh_dir = tree / "root" / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tree / "root", 0o700)
    os.chmod(ssh_dir, 0o700)
    (ssh_dir / "authorized_keys").write_text((base / "operator.pub").read_text())
    os.chmod(ssh_dir / "authorized_keys", 0o600)
    return dict(tree=tree, key=op, base=base)


def start(kernel, hold_root, tmp_path, command, hostfwd=()):
    (hold_root["tree"] / "etc" / "reimage-test.sh").write_text(command + "\n")
    disk = tmp_path / "system-disk.raw"
    make_system_disk(hold_root["tree"], disk, "512M")
    return RunningSystem(kernel, disk, tmp_path / "system-console.log", 512, hostfwd=hostfwd,
                         extra=RNG)


def ssh_cmd(hold_root, port, known_hosts):
    return ["ssh", "-i", str(hold_root["key"]), "-p", str(port), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=%s" % known_hosts,
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=30",
            "-o", "IdentitiesOnly=yes", "-o", "ServerAliveInterval=15",
            "-o", "LogLevel=ERROR", "root@127.0.0.1"]


def known_hosts(tmp_path, port, pubkey_file):
    """A known_hosts file that trusts only this host key, for 127.0.0.1:port."""
    pub = Path(pubkey_file).read_text().split()
    known = tmp_path / "known_hosts"
    known.write_text("[127.0.0.1]:%d %s %s\n" % (port, pub[0], pub[1]))
    return known


def ssh_retry(base, cmd, timeout=120, pause=3, until_ok=True):
    """Run cmd over SSH, retrying for up to 4 minutes while it fails (until_ok) or while SSH
    itself fails (exit 255): dropbear may not be there yet, or still wait for the kernel's
    randomness. The last result."""
    deadline = time.time() + 240
    while True:
        r = subprocess.run(base + [cmd], capture_output=True, text=True, timeout=timeout)
        done = r.returncode == 0 if until_ok else r.returncode != 255
        if done or time.time() > deadline:
            return r
        time.sleep(pause)


def flasher_keys(tmp_path, monkeypatch, host_kind="ed25519"):
    """Keys for a flasher built here, never this machine's: a host key that
    REIMAGE_SSH_HOST_KEY_DIR points at, and an operator key that REIMAGE_AUTHORIZED_KEYS
    names. Returns (host key directory, operator key path)."""
    hk = tmp_path / "host-keys"
    hk.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", host_kind, "-N", "", "-C", "flasher",
                    "-f", str(hk / ("ssh_host_%s_key" % host_kind))], check=True)
    op = tmp_path / "operator"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "op", "-f", str(op)],
                   check=True)
    monkeypatch.setenv("REIMAGE_SSH_HOST_KEY_DIR", str(hk))
    monkeypatch.setenv("REIMAGE_AUTHORIZED_KEYS", str(op) + ".pub")
    return hk, op


def check_hold_refusals(hold_root, port, known, tmp_path):
    """Only the listed keys log in, and the session can do nothing but run commands: no
    password (or keyboard-interactive) login is even offered, another key is refused, and
    neither local (direct-tcpip) nor remote port forwarding is allowed."""
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "not-listed",
                    "-f", str(stranger)], check=True)
    base = ssh_cmd(hold_root, port, known)
    as_stranger = [a if a != str(hold_root["key"]) else str(stranger) for a in base]
    # -v shows what the server offers after each refusal
    r = subprocess.run(as_stranger[:1] + ["-v"] + as_stranger[1:] + ["true"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 255, (r.returncode, r.stderr[-3000:])
    offered = re.findall(r"Authentications that can continue: (\S+)", r.stderr)
    assert offered and all(o == "publickey" for o in offered), r.stderr[-3000:]
    assert "Permission denied" in r.stderr
    # a password login, asked for directly: refused without a prompt
    r = subprocess.run(base[:1] + ["-o", "PubkeyAuthentication=no",
                                   "-o", "PreferredAuthentications=password,keyboard-interactive",
                                   "-o", "NumberOfPasswordPrompts=1"] + base[1:] + ["true"],
                       input="root\n", capture_output=True, text=True, timeout=120)
    assert r.returncode == 255 and "Permission denied" in r.stderr, r.stderr[-2000:]
    # the listed key: commands run, but no forwarding of either kind
    # -W to the flasher's own SSH port: were forwarding allowed, its banner would come back
    r = subprocess.run(base[:1] + ["-o", "LogLevel=INFO", "-W", "127.0.0.1:22"] + base[1:],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    assert r.returncode == 255 and "SSH-2.0" not in out, (r.returncode, out[:200], err)
    assert re.search(r"open failed: (administratively prohibited|unknown channel type)",
                     err), err[-2000:]
    r = subprocess.run(base[:1] + ["-o", "ExitOnForwardFailure=yes",
                                   "-R", "127.0.0.1:%d:127.0.0.1:22" % free_port()] + base[1:]
                       + ["true"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 255, (r.returncode, r.stderr[-2000:])
    assert re.search(r"remote port forwarding failed", r.stderr), r.stderr[-2000:]


def test_hold_ssh_flash_from_stdin_then_done(kernel, hold_root, images, tmp_path):
    port = free_port()
    v = start(kernel, hold_root, tmp_path,
              "modprobe virtio_rng; reimage go --hold --hold-timeout 10m --yes",
              hostfwd=["tcp:127.0.0.1:%d-:22" % port])
    try:
        # the machine's ORIGINAL OpenSSH host key: logging in proves the identity was kept
        known = known_hosts(tmp_path, port,
                            hold_root["tree"] / "etc" / "ssh" / "ssh_host_ed25519_key.pub")
        base = ssh_cmd(hold_root, port, known)

        t0 = time.time()
        v.wait_console(r"ssh: dropbear listening on port 22", 420)
        t_flasher = time.time() - t0
        out = v.text()
        assert "reimage go: plan" in out
        fp = subprocess.run(["ssh-keygen", "-lf", str(hold_root["tree"] / "etc" / "ssh" /
                                                     "ssh_host_ed25519_key.pub")],
                            capture_output=True, text=True, check=True).stdout.split()[1]
        assert "host key ssh-ed25519 %s (converted from OpenSSH" % fp in out, out[-6000:]
        assert "1 authorized key (reimage-e2e-operator)" in out

        # dropbear may still wait for the kernel's randomness: retry the first login
        r = ssh_retry(base, "reimage status")
        t_ssh = time.time() - t0
        assert r.returncode == 0, "ssh failed: %s\nconsole:\n%s" % (r.stderr, v.text()[-6000:])
        assert "reimage flasher (hold mode)" in r.stdout
        assert "written:  nothing since the flasher started" in r.stdout
        assert "reboots into the old system in" in r.stdout
        assert "10.0.2.15/24" in r.stdout

        # in the same boot, what the hold's SSH server refuses (issue 10)
        check_hold_refusals(hold_root, port, known, tmp_path)

        # the image over stdin, as in `ssh root@host reimage flash - /dev/sda < image.zst`
        t1 = time.time()
        with open(images.paths["zstd"], "rb") as f:
            r = subprocess.run(base + ["reimage", "flash", "-", "/dev/nvme0n1"], stdin=f,
                               capture_output=True, text=True, timeout=600)
        t_flash = time.time() - t1
        assert r.returncode == 0, "%s\n%s" % (r.stdout, r.stderr)

        r = subprocess.run(base + ["reimage status; lsblk /dev/nvme0n1"], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "written:  /dev/nvme0n1" in r.stdout
        assert "timeout:  none: a disk was written" in r.stdout
        assert "nvme0n1" in r.stdout.split("end it:")[1], "lsblk did not run"

        r = subprocess.run(base + ["reimage", "done", "poweroff"], capture_output=True,
                           text=True, timeout=120)
        # the connection may drop as the machine goes down
        assert r.returncode in (0, 255), r.stderr
        rc = v.wait_exit(180)
        out = v.text()
        assert rc == 0, out[-6000:]
        assert "hold ended by 'reimage done poweroff': powering off" in out
        assert "reboot: Power down" in out
        assert "TEST-COMMAND-EXIT" not in out, "reimage go returned instead of handing over"
        assert sha_file(v.disk, images.size) == images.sha256, "the disk does not hold the image"
        print("timings: flasher up %.0f s, first ssh login %.0f s after boot, flash over ssh %.1f s"
              % (t_flasher, t_ssh, t_flash))
    finally:
        v.stop()


def test_hold_timeout_reboots_into_untouched_system(kernel, hold_root, tmp_path):
    v = start(kernel, hold_root, tmp_path,
              "modprobe virtio_rng; reimage go --hold --hold-timeout 20s --yes")
    try:
        before = sha_file(v.disk)
        rc = v.wait_exit(600)
        out = v.text()
        assert rc == 0, out[-6000:]
        assert "ssh: dropbear listening on port 22" in out
        assert "reboots into the old system in 20s unless a disk is written" in out
        assert ("the hold timeout (20s) passed and nothing was written: rebooting into the "
                "untouched old system") in out, out[-6000:]
        assert "reboot: Restarting system" in out
        assert sha_file(v.disk) == before, "the disk changed"
    finally:
        v.stop()


def test_flasher_job_then_hold_and_done_kexec_falls_back(kernel, nginx, served, images,
                                                         build_flasher, tmp_path, monkeypatch):
    """The flasher alone (reimage initrd --hold) with a job: it writes the image, keeps
    holding for inspection, and `reimage done kexec` finds nothing bootable in the (random)
    image, so it reboots instead, saying why."""
    from vmlib import Vm
    hk, op = flasher_keys(tmp_path, monkeypatch)
    monkeypatch.setenv("REIMAGE_AUTHORIZED_KEYS", "")  # the key comes by option
    initrd = build_flasher("--src", nginx.url(served["zstd"], host="10.0.2.2"), "--dst",
                           "/dev/vda", "--sha256", images.sha("zstd"), "--hold",
                           "--hold-timeout", "5m", "--authorized-keys", str(op) + ".pub",
                           "--add-module", "virtio_rng")
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    port = free_port()
    v = Vm(kernel, initrd, disk, "", 384, tmp_path, extra=RNG,
           hostfwd=["tcp:127.0.0.1:%d-:22" % port])
    try:
        known = known_hosts(tmp_path, port, hk / "ssh_host_ed25519_key.pub")
        base = ssh_cmd(dict(key=op), port, known)
        v.wait_console(r"holding \(done\)", 300)
        out = v.text()
        assert "verified sha256: " + images.sha("zstd") in out
        assert "ssh: dropbear listening on port 22" in out
        r = ssh_retry(base, "reimage status")
        assert r.returncode == 0, r.stderr
        assert "state:    done: the image was written and verified" in r.stdout
        assert "written:  /dev/vda" in r.stdout
        assert "timeout:  none: a disk was written" in r.stdout
        r = subprocess.run(base + ["reimage", "done", "kexec"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode in (0, 255), r.stderr
        rc = v.wait_exit(180)
        out = v.text()
        assert rc == 0, out[-6000:]
        # the image is random data: boot_new_system finds nothing bootable and says so
        assert re.search(r"kexec into the new system failed: .*; rebooting instead", out), \
            out[-4000:]
        assert "reboot: Restarting system" in out
        with open(disk, "rb") as f:
            assert hashlib.sha256(f.read(images.size)).hexdigest() == images.sha256
    finally:
        v.stop()


def test_hold_timeout_waits_for_a_logged_in_operator(kernel, build_flasher, tmp_path,
                                                     monkeypatch):
    """A hold with no job: its timeout passes while an operator is logged in (a session that
    runs longer than the timeout); the flasher waits for the session to end, then gives a
    minute's grace and reboots, the disk untouched."""
    from vmlib import Vm
    hk, op = flasher_keys(tmp_path, monkeypatch, "ecdsa")
    initrd = build_flasher("--hold", "--hold-timeout", "30s", "--add-module", "virtio_rng")
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.write(b"\xa5" * (8 * 1024 * 1024))
    before = sha_file(disk)
    port = free_port()
    v = Vm(kernel, initrd, disk, "", 384, tmp_path, extra=RNG,
           hostfwd=["tcp:127.0.0.1:%d-:22" % port])
    try:
        known = known_hosts(tmp_path, port, hk / "ssh_host_ecdsa_key.pub")
        base = ssh_cmd(dict(key=op), port, known)
        v.wait_console(r"ssh: dropbear listening", 300)
        # log in right away and stay past the timeout
        r = ssh_retry(base, "reimage status; sleep 45; reimage status", timeout=180, pause=2)
        assert r.returncode == 0, "%s\n%s" % (r.stderr, v.text()[-4000:])
        assert "1 session" in r.stdout
        out = v.text()
        assert "the hold timeout passed, but an operator is logged in" in out, out[-4000:]
        assert "rebooting into the untouched old system" not in out
        rc = v.wait_exit(240)
        out = v.text()
        assert rc == 0, out[-4000:]
        assert "the SSH sessions ended with nothing written: rebooting into the old system in 60 s" in out
        assert "rebooting into the untouched old system" in out
        assert sha_file(disk) == before
    finally:
        v.stop()


def test_dropbear_restarts_and_done_works_when_the_holder_died(kernel, build_flasher, tmp_path,
                                                        monkeypatch):
    """A dropbear that dies is restarted; and if the worker that holds is gone (killed here),
    `reimage done poweroff` does the end action itself instead of leaving the operator with no
    way out."""
    from vmlib import Vm
    hk, op = flasher_keys(tmp_path, monkeypatch)
    initrd = build_flasher("--hold", "--add-module", "virtio_rng")
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.truncate(8 * 1024 * 1024)
    port = free_port()
    v = Vm(kernel, initrd, disk, "", 384, tmp_path, extra=RNG,
           hostfwd=["tcp:127.0.0.1:%d-:22" % port])
    try:
        known = known_hosts(tmp_path, port, hk / "ssh_host_ed25519_key.pub")
        base = ssh_cmd(dict(key=op), port, known)
        v.wait_console(r"ssh: dropbear listening", 300)
        r = ssh_retry(base, "kill $(cat /run/dropbear.pid)")
        assert r.returncode == 0, r.stderr
        v.wait_console(r"ssh: dropbear (exited with status|died of signal) .*restarting it", 60)
        deadline = time.time() + 120
        while True:
            r = subprocess.run(base + ["kill -9 $(sed -n 's/^pid=//p' /run/reimage/hold)"],
                               capture_output=True, text=True, timeout=120)
            if r.returncode == 0 or time.time() > deadline:
                break
            time.sleep(3)
        assert r.returncode == 0, r.stderr
        v.wait_console(r"the worker died of signal 9", 60)
        r = subprocess.run(base + ["reimage", "done", "poweroff"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode in (0, 255), r.stderr
        assert "holding process is gone; ending the hold from here" in r.stderr or \
            r.returncode == 255, r.stderr
        rc = v.wait_exit(120)
        assert rc == 0, v.text()[-4000:]
        assert "reboot: Power down" in v.text()
    finally:
        v.stop()


def test_worker_killed_mid_write_pid1_zeroes_and_stops_the_watchdog(kernel, nginx, build_flasher,
                                                                    tmp_path, monkeypatch):
    """The worker dies of SIGKILL in the middle of its job (as from the OOM killer): PID 1 zeroes
    the disk's first and last MiB itself, disarms the armed watchdog (softdog, 10 s) so that no
    reset follows, and holds; `reimage status` tells the write failed and `reimage done kexec`
    refuses to boot it."""
    from vmlib import Vm
    import random
    hk, op = flasher_keys(tmp_path, monkeypatch)
    monkeypatch.setenv("REIMAGE_AUTHORIZED_KEYS", "")
    size = 40 * 1024 * 1024
    img = bytearray(random.Random(12).randbytes(size))
    for off in range(0, size, 4096):
        img[off] |= 1
    img = bytes(img)
    nginx.put("killed.img", img)
    initrd = build_flasher("--src", nginx.url_slow("killed.img", host="10.0.2.2"), "--dst",
                           "/dev/vda", "--sha256", hashlib.sha256(img).hexdigest(), "--hold",
                           "--authorized-keys", str(op) + ".pub", "--add-module", "virtio_rng",
                           "--add-module", "softdog")
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.write(b"\xa5" * (64 * 1024 * 1024))
    port = free_port()
    v = Vm(kernel, initrd, disk, "modules-load=softdog softdog.soft_margin=10", 384, tmp_path,
           extra=RNG, hostfwd=["tcp:127.0.0.1:%d-:22" % port])
    try:
        known = known_hosts(tmp_path, port, hk / "ssh_host_ed25519_key.pub")
        base = ssh_cmd(dict(key=op), port, known)
        v.wait_console(r"watchdog: petting /dev/watchdog", 300)
        # the job is writing (slowly): kill its process, the one hold mode records
        r = ssh_retry(base, "grep -q touched /run/reimage/written && "
                            "kill -9 $(sed -n 's/^pid=//p' /run/reimage/hold)", pause=1)
        assert r.returncode == 0, r.stderr + v.text()[-4000:]
        v.wait_console(r"the write to /dev/vda \(pid \d+\) did not finish: its first and last "
                       r"MiB are zeroed", 60)
        v.wait_console(r"watchdog: stopped", 30)
        # well past the watchdog's 10 s: no reset (QEMU runs with -no-reboot and would exit)
        time.sleep(25)
        assert v.proc.poll() is None, "the machine was reset:\n" + v.text()[-4000:]
        r = ssh_retry(base, "reimage status")
        assert r.returncode == 0, r.stderr
        assert re.search(r"written:\s+/dev/vda \(the write failed", r.stdout), r.stdout
        r = subprocess.run(base + ["reimage", "done", "kexec"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "nothing unverified is booted" in r.stderr, r.stderr
        assert v.proc.poll() is None, "done kexec of an unverified write ended the hold"
    finally:
        v.stop()
    with open(disk, "rb") as f:
        head = f.read(1024 * 1024)
        f.seek(-1024 * 1024, os.SEEK_END)
        tail = f.read(1024 * 1024)
    assert head == bytes(1024 * 1024), "first MiB not zeroed after the worker died"
    assert tail == bytes(1024 * 1024), "last MiB not zeroed after the worker died"
    nginx.remove("killed.img")
