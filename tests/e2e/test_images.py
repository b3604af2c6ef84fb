"""The flasher under QEMU writing a qcow2 (issue 12): in 256 MiB of RAM, Debian's cloud kernel
with reimage as PID 1 reads the qcow2's tables with Range requests from the test nginx, then
the whole file once in order, and writes the raw disk onto the virtio disk. The disk must then
hold exactly what `qemu-img convert -O raw` makes of the same file."""

import hashlib
import re
import subprocess

import pytest

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def test_flasher_writes_a_compressed_qcow2_over_http(nginx, images, build_flasher, vm, tmp_path):
    src = tmp_path / "img.raw"
    src.write_bytes(images.data)
    qcow2 = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", str(src),
                    str(qcow2)], check=True)
    ref = tmp_path / "ref.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(qcow2), str(ref)],
                   check=True)
    ref_data = ref.read_bytes()
    nginx.put("e2e-disk.qcow2", src=qcow2)
    log = nginx.base / "access.log"
    before = len(log.read_text().splitlines())

    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:  # a pattern: unallocated clusters must come back as zeros
        for _ in range(32):
            f.write(b"\xa5" * MiB)
    initrd = build_flasher("--src", nginx.url("e2e-disk.qcow2", host="10.0.2.2"),
                           "--dst", "/dev/vda",
                           "--sha256", hashlib.sha256(qcow2.read_bytes()).hexdigest(),
                           "--image-sha256", hashlib.sha256(ref_data).hexdigest(),
                           "--then", "poweroff")
    v = vm(initrd, disk, mem=256)
    rc = v.wait_exit(240)
    out = v.text()
    assert rc == 0, out[-4000:]
    assert "tables read first, then the file once in order" in out, out[-3000:]
    assert "verified image-sha256" in out or "image-sha256" in out, out[-3000:]
    assert "reboot: Power down" in out
    with open(disk, "rb") as f:
        got = f.read(len(ref_data))
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(ref_data).hexdigest(), \
        "the disk does not hold what qemu-img convert makes of the qcow2"
    lines = [ln for ln in log.read_text().splitlines()[before:] if "e2e-disk.qcow2" in ln]
    assert any(re.search(r'" 206 "bytes=\d+-\d+"', ln) for ln in lines), lines
    assert sum(1 for ln in lines if '" 200 "-"' in ln) == 1, lines
