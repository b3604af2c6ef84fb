"""The flasher on an IPv6-only network (issue 16): QEMU's user network with ipv4=off,ipv6=on
gives router advertisements with the fec0::/64 prefix and no DHCPv4; the host's [::1] is
fec0::2 from the guest. The flasher must reach the source by SLAAC as soon as it has an
address, without waiting for a DHCPv4 lease that never comes, and write the image."""

import hashlib
import os
import re
import shutil
import tempfile

import pytest

from vmlib import start_nginx

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def test_flasher_on_an_ipv6_only_network(images, build_flasher, vm, tmp_path):
    # nginx's workers run as www-data: a docroot they can read, outside the 0700 tmp_path
    base = tempfile.mkdtemp(prefix="reimage-i16-")
    os.chmod(base, 0o755)
    www = os.path.join(base, "www")
    os.mkdir(www, 0o755)
    shutil.copyfile(images.path("zstd"), os.path.join(www, "img.zst"))
    os.chmod(os.path.join(www, "img.zst"), 0o644)
    proc, port = start_nginx(os.path.join(base, "nginx"), www, ipv6=True)
    try:
        disk = tmp_path / "disk.raw"
        with open(disk, "wb") as f:
            f.truncate(64 * MiB)
        # an IPv6 literal in the URL, a net-timeout that DHCPv4 alone would run into
        initrd = build_flasher("--src", "http://[fec0::2]:%d/img.zst" % port, "--dst", "/dev/vda",
                               "--sha256", images.sha("zstd"), "--then", "poweroff")
        v = vm(initrd, disk, netdev_opts=",ipv4=off,ipv6=on")
        rc = v.wait_exit(240)
        out = v.text()
        assert rc == 0, out[-4000:]
        # which address, which method
        m = re.search(r"network: \[fec0::2\] reachable from (fec0::[0-9a-f:]+) on eth0 \(SLAAC\)",
                      out)
        assert m, out[-4000:]
        assert "verified sha256: " + images.sha("zstd") in out
        with open(disk, "rb") as f:
            got = f.read(len(images.data))
        assert hashlib.sha256(got).digest() == hashlib.sha256(images.data).digest()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)
