"""The flasher under QEMU: reimage as PID 1 of Debian's cloud kernel loads its drivers, gets an
address, streams an image from the test nginx (10.0.2.2 from the guest) and writes the virtio
disk; then reboots (QEMU exits) or holds."""

import hashlib
import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
SECRET = "e2e-SECRET-t0ken-4242"


def guest_url(nginx, name):
    return nginx.url(name, host="10.0.2.2")


def new_disk(tmp_path, size=64 * MiB, fill=b"\xa5"):
    """A disk file full of a recognisable pattern, so untouched and zeroed are told apart."""
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        block = fill * MiB
        for _ in range(size // MiB):
            f.write(block)
    return disk


def assert_disk_holds(disk, data):
    with open(disk, "rb") as f:
        got = f.read(len(data))
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest(), \
        "the disk does not hold the image"


def test_flash_zstd_with_job_then_reboot(nginx, served, images, build_flasher, vm, tmp_path):
    disk = new_disk(tmp_path)
    initrd = build_flasher("--src", guest_url(nginx, served["zstd"]), "--dst", "/dev/vda",
                           "--sha256", images.sha("zstd"), "--then", "reboot",
                           "--add-module", "softdog")
    # a watchdog (softdog: the cloud kernel has no emulated hardware one): the flasher must pet
    # it while it works, then disarm it
    v = vm(initrd, disk, append="modules-load=softdog")
    rc = v.wait_exit(180)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "job read from /etc/reimage/job.conf" in out
    assert "watchdog: petting /dev/watchdog" in out
    assert "watchdog: stopped petting" in out
    assert re.search(r"loaded virtio_blk", out), "virtio_blk was not loaded as a module"
    assert "from DHCP" in out
    assert "verified sha256: " + images.sha("zstd") in out
    assert re.search(r"reboot: (Restarting system|machine restart)", out), out[-3000:]
    assert_disk_holds(disk, images.data)


def test_flash_from_kernel_command_line(nginx, served, images, build_flasher, vm, tmp_path):
    disk = new_disk(tmp_path)
    initrd = build_flasher()  # no job inside
    v = vm(initrd, disk, append="reimage.src=%s reimage.dst=/dev/vda reimage.sha256=%s "
           "reimage.then=poweroff" % (guest_url(nginx, served["xz"]), images.sha("xz")))
    rc = v.wait_exit(180)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "job read from the kernel command line" in out
    assert "reboot: Power down" in out
    assert_disk_holds(disk, images.data)


def test_wrong_sha256_zeroes_first_mib_and_holds(nginx, served, images, build_flasher, vm,
                                                 tmp_path):
    disk = new_disk(tmp_path)
    wrong = "0" * 64
    initrd = build_flasher("--src", guest_url(nginx, served["zstd"]), "--dst", "/dev/vda",
                           "--sha256", wrong)
    v = vm(initrd, disk)
    # every attempt fails the same way; then the flasher holds instead of rebooting
    v.wait_console(r"holding \(failed\)", 240)
    out = v.text()
    assert "SHA-256 mismatch" in out
    assert "the first and last MiB of /dev/vda were zeroed" in out
    assert v.proc.poll() is None, "the VM should stay up after a failed job"
    v.stop()
    with open(disk, "rb") as f:
        head = f.read(MiB)
        f.seek(-MiB, os.SEEK_END)
        tail = f.read(MiB)
    assert head == bytes(MiB), "the first MiB of the disk is not all zeros"
    assert tail == bytes(MiB), "the last MiB of the disk is not all zeros"


def test_secret_header_reaches_server_and_is_never_shown(nginx, served, images, build_flasher,
                                                         vm, tmp_path):
    disk = new_disk(tmp_path)
    initrd = build_flasher("--src", guest_url(nginx, served["zstd"]), "--dst", "/dev/vda",
                           "--sha256", images.sha("zstd"),
                           "--header", "Authorization: Bearer " + SECRET)
    assert (os.stat(initrd).st_mode & 0o777) == 0o600, "an initrd holding secrets must be 0600"
    # everything in the kernel log (our own /dev/kmsg records too) goes to the console
    cmdline = "loglevel=8 ignore_loglevel printk.devkmsg=on"
    v = vm(initrd, disk, append=cmdline)
    rc = v.wait_exit(180)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert_disk_holds(disk, images.data)
    log = (nginx.base / "access.log").read_text()
    assert "Bearer " + SECRET in log, "the Authorization header did not reach nginx"
    # the console carries the whole kernel log (dmesg) with ignore_loglevel
    assert "reimage: job read from" in out
    # the flasher's log lines are in the kernel log too (with a timestamp)
    assert re.search(r"^\[\s*[0-9.]+\] reimage: job read from", out, re.M), "no kmsg records"
    assert SECRET not in out, "the secret appeared on the console or in dmesg"
    assert SECRET not in cmdline  # /proc/cmdline is exactly what QEMU passed


def test_static_network_from_job(nginx, served, images, build_flasher, vm, tmp_path):
    disk = new_disk(tmp_path)
    job = tmp_path / "job.conf"
    # the target is found by its serial although the job names another device
    job.write_text("src = %s\ndst = /dev/sdz\ndst-serial = REIMAGE-TEST-1\nsha256 = %s\n"
                   "net-mac = 52:54:00:12:34:56\nnet-address = 10.0.2.15/24\n"
                   "net-gateway = 10.0.2.2\nnet-dns = 10.0.2.3\ndhcp-fallback = no\n"
                   % (guest_url(nginx, served["zstd"]), images.sha("zstd")))
    initrd = build_flasher("--job", job)
    v = vm(initrd, disk, nic_mac="52:54:00:12:34:56")
    rc = v.wait_exit(180)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "using the configuration carried over from the running system (no DHCP)" in out
    assert "10.0.2.15/24 on eth0" in out
    assert "DHCP lease" not in out
    assert "target: /dev/vda" in out
    assert_disk_holds(disk, images.data)


def test_interface_with_another_mac_is_found_by_bus_path(nginx, served, images, build_flasher,
                                                         vm, tmp_path):
    """Boards without a fixed MAC make one up at boot: the flasher finds the NIC by its bus
    path and gives it the recorded MAC again, so DHCP reservations and firewalls still match."""
    disk = new_disk(tmp_path)
    job = tmp_path / "job.conf"
    job.write_text("src = %s\ndst = /dev/vda\nsha256 = %s\n"
                   "net-mac = 52:54:00:aa:bb:cc\nnet-path = pci-0000:00:04.0\n"
                   "net-address = 10.0.2.15/24\nnet-gateway = 10.0.2.2\ndhcp-fallback = no\n"
                   % (guest_url(nginx, served["zstd"]), images.sha("zstd")))
    initrd = build_flasher("--job", job)
    v = vm(initrd, disk, nic_mac="52:54:00:12:34:56")
    rc = v.wait_exit(180)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "came up with another MAC; gave it the recorded 52:54:00:aa:bb:cc again" in out
    assert "using the configuration carried over from the running system (no DHCP)" in out
    assert_disk_holds(disk, images.data)


def test_minisign_signature_in_job(nginx, served, images, build_flasher, vm, tmp_path):
    """The job carries a minisign key and signature; the flasher checks it while streaming."""
    import shutil
    import subprocess
    if not shutil.which("minisign"):
        pytest.fail("minisign is not installed (scripts/install-deps installs it)")
    subprocess.run(["minisign", "-G", "-W", "-f", "-p", str(tmp_path / "k.pub"), "-s",
                    str(tmp_path / "k.key")], check=True, capture_output=True)
    src = tmp_path / "img.zst"
    shutil.copyfile(images.path("zstd"), src)
    subprocess.run(["minisign", "-S", "-s", str(tmp_path / "k.key"), "-m", str(src), "-t",
                    "e2e release 7"], check=True, capture_output=True)
    sig = (tmp_path / "img.zst.minisig").read_text().splitlines()
    key = (tmp_path / "k.pub").read_text().splitlines()[1]
    job = tmp_path / "job.conf"
    job.write_text("src = %s\ndst = /dev/vda\nminisign-pubkey = %s\nminisign-sig = %s\n"
                   "minisign-comment = %s\nminisign-global-sig = %s\n"
                   % (guest_url(nginx, served["zstd"]), key, sig[1],
                      sig[2][len("trusted comment: "):], sig[3]))
    disk = new_disk(tmp_path)
    v = vm(build_flasher("--job", job), disk)
    rc = v.wait_exit(180)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "verified minisign: " in out
    assert "trusted comment: e2e release 7" in out
    assert_disk_holds(disk, images.data)


def test_image_larger_than_ram(nginx, build_flasher, vm, tmp_path):
    """320 MiB of non-zero data written by a flasher with 256 MiB of RAM."""
    size = 320 * MiB
    raw = tmp_path / "big.img"
    h = hashlib.sha256()
    with open(raw, "wb") as f:
        for i in range(size // MiB):
            block = (b"reimage big image block %06d " % i) * (MiB // 32)
            block = block[:MiB].ljust(MiB, b"#")
            h.update(block)
            f.write(block)
    import subprocess
    subprocess.run(["zstd", "-q", "-3", "-T0", "-f", str(raw), "-o", str(tmp_path / "big.img.zst")],
                   check=True)
    url = nginx.put("big.img.zst", src=tmp_path / "big.img.zst")
    disk = new_disk(tmp_path, size=384 * MiB)
    initrd = build_flasher("--src", guest_url(nginx, "big.img.zst"), "--dst", "/dev/vda",
                           "--image-sha256", h.hexdigest())
    v = vm(initrd, disk, mem=256)
    rc = v.wait_exit(400)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "verified image-sha256: " + h.hexdigest() in out
    with open(disk, "rb") as d, open(raw, "rb") as r:
        while True:
            a, b = d.read(4 * MiB), r.read(4 * MiB)
            if not b:
                break
            assert a == b, "the disk differs from the big image"
    nginx.remove("big.img.zst")


def random_image(tmp_path, size, seed):
    """Random bytes with no zero 4 KiB block (zero on the disk then means 'not written')."""
    import random
    data = bytearray(random.Random(seed).randbytes(size))
    for off in range(0, size, 4096):
        data[off] |= 1
    return bytes(data)


def wait_for_bytes(v, disk, offset, want, timeout):
    """Wait until the guest's writes of want at offset reached the disk file."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(disk, "rb") as f:
            f.seek(offset)
            if f.read(len(want)) == want:
                return
        assert v.proc.poll() is None, "the VM ended early:\n" + v.text()[-4000:]
        time.sleep(0.2)
    pytest.fail("the body never reached the disk:\n" + v.text()[-4000:])


def test_power_cut_mid_write_leaves_no_bootable_head(nginx, build_flasher, vm, tmp_path):
    """Pull the plug (SIGKILL QEMU) while the flasher writes: the disk's first and last MiB,
    which held the old system's partition table and backup GPT, are already zero."""
    size = 40 * MiB
    img = random_image(tmp_path, size, 11)
    nginx.put("powercut.img", img)
    disk = new_disk(tmp_path, size=64 * MiB)
    initrd = build_flasher("--src", nginx.url_slow("powercut.img", host="10.0.2.2"), "--dst",
                           "/dev/vda", "--sha256", hashlib.sha256(img).hexdigest())
    v = vm(initrd, disk)
    try:
        probe = 6 * MiB
        wait_for_bytes(v, disk, probe, img[probe:probe + 4096], 240)
    finally:
        v.proc.kill()  # the power cut: no handler, no flush, no goodbye
        v.proc.wait()
    with open(disk, "rb") as f:
        head = f.read(MiB)
        f.seek(-MiB, os.SEEK_END)
        tail = f.read(MiB)
        f.seek(probe)
        body = f.read(4096)
    assert body == img[probe:probe + 4096], "the write was not under way"
    assert head == bytes(MiB), "the old head survived a power cut mid-write"
    assert tail == bytes(MiB), "the old last MiB (backup GPT) survived a power cut mid-write"
    nginx.remove("powercut.img")


def test_flasher_fetches_through_the_carried_proxy(nginx, served, images, build_flasher, vm,
                                                   tmp_path, forward_proxy):
    """The job's proxy (as `reimage go` carries it from its environment) is what the flasher's
    libcurl uses: the source's host name is known only to the proxy."""
    url = "http://images.reimage-test.invalid/" + served["zstd"]
    initrd = build_flasher("--src", url, "--dst", "/dev/vda", "--sha256", images.sha("zstd"),
                           "--proxy", forward_proxy.url("op:pr0xy-pw", host="10.0.2.2"))
    disk = new_disk(tmp_path)
    v = vm(initrd, disk)
    rc = v.wait_exit(180)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "proxy for http: http://***@10.0.2.2:%d" % forward_proxy.port in out, out[-4000:]
    assert "pr0xy-pw" not in out
    assert any(t == url and a for m, t, a in forward_proxy.requests), forward_proxy.requests
    assert_disk_holds(disk, images.data)


def test_failed_job_that_wrote_nothing_reboots_after_its_timeout(nginx, build_flasher, vm,
                                                                 tmp_path):
    """A job that fails before touching the disk (here the source does not exist) does not
    hold forever: after the job's timeout it reboots into the untouched old system."""
    job = tmp_path / "job.conf"
    job.write_text("src = %s\ndst = /dev/vda\nsha256 = %s\nattempts = 1\nhold-timeout = 20s\n"
                   % (guest_url(nginx, "no-such-image.img.zst"), "0" * 64))
    initrd = build_flasher("--job", job)
    disk = new_disk(tmp_path)
    before = hashlib.sha256(disk.read_bytes()).hexdigest()
    v = vm(initrd, disk)
    rc = v.wait_exit(240)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "nothing was written to any disk: rebooting into the untouched old system in 20s" \
        in out, out[-4000:]
    assert "rebooting into the untouched old system now" in out, out[-4000:]
    assert re.search(r"reboot: (Restarting system|machine restart)", out), out[-3000:]
    assert hashlib.sha256(disk.read_bytes()).hexdigest() == before, "the disk changed"
