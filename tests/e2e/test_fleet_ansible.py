"""The Ansible collection against two QEMU VMs at once: Debian's ansible-playbook runs the
example playbook (contrib/ansible, reimage.fleet.reimage-fleet) over SSH (QEMU hostfwd) on two
running Debian systems with systemd, OpenSSH and Python. Both are reimaged in one batch
(serial: 2) with reimage go; each flasher reboots (QEMU exits, the test starts it again on the
same disk, as a firmware would); the playbook reconnects to the new systems with the same
known_hosts (the new image carries the machines' host key, as reimage's identity carry-over
does) and checks their /etc/os-release; the test's collector received the events of both."""

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from nginx_server import free_port

import vmlib
from report_collector import Collector
from vmlib import SystemdSystem, build_systemd_root, make_system_disk, ssh_root

pytestmark = pytest.mark.e2e

COLLECTIONS = Path(__file__).resolve().parents[2] / "contrib" / "ansible"
PLAYBOOK = COLLECTIONS / "ansible_collections" / "reimage" / "fleet" / "playbooks" / \
    "reimage-fleet.yml"
NEW_OS = "Reimage fleet test system (new)"


class FleetSystem(SystemdSystem):
    # two loaded TCG guests at once: skip the IO-APIC timer check that panics under load, and
    # give an emulated NVMe command the time a loaded host may take (the default 30 s resets
    # the controller)
    APPEND = SystemdSystem.APPEND + " no_timer_check nvme_core.io_timeout=600"


class Machine:
    """One VM: its disk, its SSH port, and a thread that starts it again (same disk, same
    port) whenever QEMU ends (-no-reboot: the flasher's reboot, or a panic), as a firmware
    would."""

    def __init__(self, kernel, disk, port, console_dir):
        self.kernel, self.disk, self.port, self.dir = kernel, disk, port, console_dir
        self.boots = []
        self.stopping = False
        self._boot()
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()

    def _boot(self):
        n = len(self.boots)
        self.boots.append(FleetSystem(self.kernel, self.disk, self.dir / ("console-%d.log" % n),
                                        1024, hostfwd=["tcp:127.0.0.1:%d-:22" % self.port]))

    def _watch(self):
        while not self.stopping:
            if self.boots[-1].proc.poll() is not None and len(self.boots) < 6:
                self._boot()  # the firmware's reboot, which -no-reboot leaves to us
            time.sleep(0.5)

    def console(self):
        return "\n".join("=== boot %d\n%s" % (i, b.text()[-5000:]) for i, b in enumerate(self.boots))

    def stop(self):
        self.stopping = True
        for b in self.boots:
            b.stop()


def wait_ssh(port, key, known_hosts, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(["ssh", "-p", str(port), "-i", str(key), "-o", "BatchMode=yes",
                            "-o", "UserKnownHostsFile=%s" % known_hosts,
                            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
                            "root@127.0.0.1", "true"], capture_output=True, timeout=60)
        if r.returncode == 0:
            return
        time.sleep(3)
    raise AssertionError("no SSH on port %d within %d s" % (port, timeout))


def test_playbook_reimages_two_machines_at_once(kernel, reimage_bin, nginx, tmp_path,
                                                monkeypatch):
    if not shutil.which("ansible-playbook"):
        pytest.fail("needs ansible-core (scripts/install-deps)")
    # the old systems: Debian with systemd, sshd, Python and reimage
    monkeypatch.setattr(vmlib, "debootstrap_root", ssh_root)
    (tmp_path / "old").mkdir()
    tree = build_systemd_root(kernel, reimage_bin, tmp_path / "old")
    (tree / "etc" / "systemd" / "system" / "multi-user.target.wants" /
     "reimage-test.service").unlink()  # no test command: Ansible drives these
    subprocess.run(["ssh-keygen", "-q", "-A", "-f", str(tree)], check=True)
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (tree / "root" / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (tree / "root" / ".ssh" / "authorized_keys").write_text((tmp_path / "id_ed25519.pub").read_text())
    hostkey = (tree / "etc" / "ssh" / "ssh_host_ed25519_key.pub").read_text().split()[:2]

    # the new image: the same tree with another os-release (and the same host key)
    new = tmp_path / "new-root"
    subprocess.run(["cp", "-a", str(tree), str(new)], check=True)
    (new / "usr" / "lib" / "os-release").unlink(missing_ok=True)
    (new / "etc" / "os-release").unlink(missing_ok=True)
    (new / "etc" / "os-release").write_text('PRETTY_NAME="%s"\nID=debian\n' % NEW_OS)
    (new / "etc" / "hostname").write_text("new-system\n")
    image = tmp_path / "new.img"
    make_system_disk(new, image, "900M", label="new-system")
    subprocess.run(["zstd", "-q", "-3", "-T0", str(image), "-o", str(image) + ".zst"], check=True)
    url = nginx.put("fleet-new.img.zst", src=str(image) + ".zst")
    import hashlib
    h = hashlib.sha256()
    with open(str(image) + ".zst", "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    sha = h.hexdigest()
    guest_url = url.replace("127.0.0.1", "10.0.2.2")

    collector = Collector(host="127.0.0.1")
    machines = []
    try:
        inventory = ["[reimage]"]
        known = tmp_path / "known_hosts"
        lines = []
        for i in (1, 2):
            (tree / "etc" / "hostname").write_text("fleet-%d\n" % i)
            (tree / "etc" / "machine-id").write_text("%032x\n" % (0xf1ee7000 + i))
            disk = tmp_path / ("disk-%d.raw" % i)
            make_system_disk(tree, disk, "1G")
            port = free_port()
            lines.append("[127.0.0.1]:%d %s %s" % (port, hostkey[0], hostkey[1]))
            d = tmp_path / ("vm-%d" % i)
            d.mkdir()
            machines.append(Machine(kernel, disk, port, d))
            inventory.append("fleet-%d ansible_host=127.0.0.1 ansible_port=%d" % (i, port))
        known.write_text("\n".join(lines) + "\n")
        for m in machines:
            try:
                wait_ssh(m.port, key, known, 600)
            except AssertionError as e:
                raise AssertionError("%s\n%s" % (e, m.console()))
        inv = tmp_path / "inventory"
        inv.write_text("\n".join(inventory) + "\n[reimage:vars]\nansible_user=root\n"
                       "ansible_python_interpreter=/usr/bin/python3\n"
                       "ansible_ssh_private_key_file=%s\n"
                       "ansible_ssh_common_args='-o UserKnownHostsFile=%s "
                       "-o StrictHostKeyChecking=yes'\n" % (key, known))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ans-local"), ANSIBLE_TIMEOUT="60")
        r = subprocess.run(["ansible-playbook", "-i", str(inv), str(PLAYBOOK),
                            "-e", "image_url=%s" % guest_url, "-e", "image_sha256=%s" % sha,
                            "-e", "disk=/dev/nvme0n1", "-e", "batch=2",
                            "-e", "expect_os='%s'" % NEW_OS, "-e", "handover_delay=30",
                            "-e", "report_url=http://10.0.2.2:%d/events" % collector.port,
                            "-e", "reimage_timeout=1500"],
                           env=env, capture_output=True, text=True, timeout=2400)
        out = r.stdout + r.stderr
        consoles = "\n".join(m.console() for m in machines)
        assert r.returncode == 0, out[-8000:] + consoles[-8000:]
        assert "fleet-1" in out and "fleet-2" in out
        for m in machines:
            assert len(m.boots) >= 2, "a machine did not reboot into the new system"
            assert "reimage: flasher started" in m.console() or any(
                "flasher started" in b.text() for b in m.boots)
        # both flashers, and both go runs, reported to the collector
        ev = collector.events()
        for i in (1, 2):
            mine = [e for e in ev if e["machine"]["hostname"] == "fleet-%d" % i]
            names = [(e["origin"], e["event"]) for e in mine]
            assert ("go", "plan") in names and ("go", "handing-over") in names, names
            assert ("flasher", "done") in names, names
            assert len({e["run"] for e in mine if e["event"] != "plan" or not e["dry_run"]}) >= 1
            assert mine[-1]["event"] == "done" and mine[-1]["next"] == "reboot"
    finally:
        for m in machines:
            m.stop()
        collector.stop()
