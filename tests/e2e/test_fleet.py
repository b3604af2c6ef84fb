"""Fleet reports from the flasher under QEMU: the job's --report collector (a Python server on
the host, 10.0.2.2 from the guest) receives the flasher's events -- started, network (address
and method), verified, done with what comes next -- before the flasher reboots; a failed write
reports the reason and exit code and holds. The collector's header is never on the console."""

import hashlib
import re
import time

import pytest

from report_collector import Collector

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
SECRET = "fleet-e2e-t0ken-5151"


def guest_url(nginx, name):
    return nginx.url(name, host="10.0.2.2")


def new_disk(tmp_path, size=32 * MiB):
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.truncate(size)
    return disk


@pytest.fixture
def collector():
    c = Collector()
    yield c
    c.stop()


def test_flasher_reports_its_run_before_rebooting(nginx, served, images, build_flasher, vm,
                                                  collector, tmp_path):
    disk = new_disk(tmp_path)
    report = "http://10.0.2.2:%d/events" % collector.port
    initrd = build_flasher("--src", guest_url(nginx, served["zstd"]), "--dst", "/dev/vda",
                           "--sha256", images.sha("zstd"), "--then", "reboot",
                           "--report", report, "--report-header", "X-Fleet-Token: " + SECRET,
                           "--start-jitter", "3s")
    v = vm(initrd, disk)
    rc = v.wait_exit(240)
    out = v.text()
    assert rc == 0, out[-4000:]
    with open(disk, "rb") as f:
        assert hashlib.sha256(f.read(images.size)).hexdigest() == images.sha256
    assert "reporting to " + report in out
    assert re.search(r"waiting [0-9.]+ s before the first request \(start-jitter 3\.0 s\)", out)
    assert SECRET not in out
    ev = collector.events()
    names = [e["event"] for e in ev]
    # the last event arrived before the reboot: QEMU has exited, nothing was lost
    assert names[0] == "started" and names[-1] == "done", names
    assert "network" in names and "verified" in names and "configured" in names
    assert names.index("verified") < names.index("configured") < names.index("done"), names
    assert len({e["run"] for e in ev}) == 1
    assert [e["seq"] for e in ev] == list(range(1, len(ev) + 1))
    for e in ev:
        assert e["schema"] == 1 and e["origin"] == "flasher"
    started, done = ev[0], ev[-1]
    assert started["src"] == guest_url(nginx, served["zstd"]) and started["then"] == "reboot"
    net = ev[names.index("network")]
    assert net["method"] == "dhcp"
    assert {"interface": "eth0", "address": "10.0.2.15"} in net["addresses"], net
    assert "52:54:00:12:34:56" in net["machine"]["macs"], net  # QEMU's default NIC address
    assert ev[names.index("verified")]["digest"] == images.sha("zstd")
    assert done["exit"] == 0 and done["next"] == "reboot"
    for _p, headers, _b in collector.requests:
        assert headers["X-Fleet-Token"] == SECRET


def test_flasher_reports_a_failure_and_holds(nginx, served, images, build_flasher, vm, collector,
                                             tmp_path):
    disk = new_disk(tmp_path)
    job = tmp_path / "job.conf"
    job.write_text("src = %s\ndst = /dev/vda\nsha256 = %s\nattempts = 1\nreport-url = "
                   "http://10.0.2.2:%d/events\n" % (guest_url(nginx, served["zstd"]), "0" * 64,
                                                   collector.port))
    initrd = build_flasher("--job", job)
    v = vm(initrd, disk)
    collector.wait_for("failed", timeout=240)
    ev = collector.events()
    failed = ev[-1]
    assert failed["event"] == "failed" and failed["exit"] == 4, failed
    assert "SHA-256" in failed["reason"] and failed["next"] == "hold"
    v.stop()


def test_go_and_its_flasher_report_one_run(nginx, served, images, running_system, collector):
    """reimage go in a running system: its plan and hand-over, then the flasher's events, all
    under one run id, with the target's serial recorded by go."""
    cmd = "reimage go %s --to /dev/nvme0n1 --sha256 %s --yes --report http://10.0.2.2:%d/ev" % (
        guest_url(nginx, served["zstd"]), images.sha("zstd"), collector.port)
    v = running_system(cmd)
    rc = v.wait_exit(300)
    out = v.text()
    assert rc == 0, out[-6000:]
    assert "TEST-COMMAND-EXIT" not in out, "reimage go returned instead of handing over"
    ev = collector.events()
    names = [(e["origin"], e["event"]) for e in ev]
    assert names[:2] == [("go", "plan"), ("go", "handing-over")], names
    assert names[2] == ("flasher", "started") and names[-1] == ("flasher", "done"), names
    assert ("flasher", "network") in names and ("flasher", "verified") in names
    assert len({e["run"] for e in ev}) == 1, "go and the flasher report different runs"
    for e in ev:
        assert e["machine"]["serial"] == "REIMAGE-NVME-1", e
    net = ev[names.index(("flasher", "network"))]
    assert net["method"] == "carried", net  # go carried the running system's address over
    assert ev[0]["dry_run"] is False and ev[-1]["next"] == "reboot"
