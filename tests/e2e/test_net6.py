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

from vmlib import start_nginx  # noqa: E402

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
        rc = v.wait_exit(480)
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


# The running system's network for the test below, set up by its test command (iproute2's ip,
# since busybox's cannot make bonds or bridges). First a VLAN on an active-backup bond of both
# NICs with an IPv4 address (a local busybox httpd as the source, since QEMU's user network
# drops tagged frames): `go --dry-run` must carry bond and VLAN. Then, IPv6 only: a bridge on
# the bond with a static address in QEMU's prefix and the default route from the router's
# advertisement (via its link-local address), and `go` for real: the flasher rebuilds bond and
# bridge, puts the carried address on the bridge and writes the image from the host's nginx.
STACK_SCRIPT = """
set -x
IP={ip}
modprobe bonding max_bonds=0; modprobe 8021q; modprobe bridge
$IP addr flush dev eth0
$IP link set eth0 down; $IP link set eth1 down
$IP link add bond0 type bond mode active-backup miimon 100
$IP link set eth0 master bond0; $IP link set eth1 master bond0
# a bridge port has no addresses of its own
echo 1 > /proc/sys/net/ipv6/conf/bond0/disable_ipv6
$IP link set bond0 up
$IP link add link bond0 name bond0.7 type vlan id 7
$IP link set bond0.7 up
$IP addr add 10.7.0.5/24 dev bond0.7
$IP route add default via 10.7.0.1
mkdir -p /tmp/www; dd if=/dev/urandom of=/tmp/www/x.img bs=64k count=4 2>/dev/null
busybox httpd -p 10.7.0.5:8080 -h /tmp/www
reimage go http://10.7.0.5:8080/x.img --to /dev/nvme0n1 --dry-run
echo "VLAN-GO-EXIT=$?"
$IP link del bond0.7
echo 0 > /proc/sys/net/ipv6/conf/all/forwarding
$IP link add br0 type bridge
echo 0 > /proc/sys/net/ipv6/conf/br0/autoconf
echo 2 > /proc/sys/net/ipv6/conf/br0/accept_ra
$IP link set bond0 master br0
$IP link set br0 up
$IP addr add fec0::15/64 dev br0
for i in $(seq 1 120); do
    $IP -6 route show default dev br0 | grep -q via && [ -z "$($IP -6 addr show dev br0 tentative)" ] && break
    sleep 0.5
done
$IP -6 addr; $IP -6 route
reimage go {url} --to /dev/nvme0n1 --sha256 {sha} --yes
"""


def relevant(out):
    """The lines a failure here is about, not the kernel's boot messages."""
    return "\n".join(l for l in out.splitlines()
                     if re.search(r"network|VLAN|RTNETLINK|error|go:|plan|\+ ", l))


def test_go_carries_bond_vlan_bridge_and_ipv6_only(images, kernel, reimage_bin, tmp_path):
    from vmlib import RunningSystem, build_running_root, make_system_disk
    base = tempfile.mkdtemp(prefix="reimage-i16-")
    os.chmod(base, 0o755)
    www = os.path.join(base, "www")
    os.mkdir(www, 0o755)
    shutil.copyfile(images.path("zstd"), os.path.join(www, "img.zst"))
    os.chmod(os.path.join(www, "img.zst"), 0o644)
    proc, port = start_nginx(os.path.join(base, "nginx"), www, ipv6=True)
    v = None
    try:
        iproute2 = os.path.realpath(shutil.which("ip") or "/usr/bin/ip")
        root = build_running_root(kernel, reimage_bin, tmp_path / "running", include=[iproute2])
        (root / "etc" / "reimage-test.sh").write_text(STACK_SCRIPT.format(
            ip=iproute2,
            url="http://[fec0::2]:%d/img.zst" % port, sha=images.sha("zstd")))
        disk = tmp_path / "system-disk.raw"
        make_system_disk(root, disk, "512M")
        v = RunningSystem(kernel, disk, tmp_path / "console.log", 512,
                          netdev_opts=",ipv4=off,ipv6=on",
                          extra=("-netdev", "user,id=n1,ipv4=off,ipv6=on", "-device",
                                 "virtio-net-pci,netdev=n1,mac=52:54:00:12:34:57"))
        rc = v.wait_exit(1200)  # two boots and a flasher build under TCG on a loaded host
        out = v.text()
        assert rc == 0, relevant(out)
        # the VLAN on the bond, carried by the dry run
        assert "VLAN-GO-EXIT=0" in out, relevant(out)
        assert re.search(r"network: +bond0\.7 52:54:00:12:34:56 10\.7\.0\.5/24 via 10\.7\.0\.1.*"
                         r"over bond0 bond mode=active-backup lower=52:54:00:12:34:56,"
                         r"52:54:00:12:34:57; bond0\.7 vlan id=7 lower=bond0", out), relevant(out)
        # IPv6 only: the bridge on the bond, a static address, a link-local gateway
        m = re.search(r"network: +br0 52:54:00:12:34:56 fec0::15/64 via (fe80::[0-9a-f:]+).*"
                      r"over bond0 bond mode=active-backup lower=52:54:00:12:34:56,"
                      r"52:54:00:12:34:57; br0 bridge lower=bond0", out)
        assert m, relevant(out)
        # the flasher rebuilt the stack and used the carried address
        assert "reimage: flasher started" in out
        assert "network: rebuilt bond0 bond mode=active-backup" in out, relevant(out)
        assert "network: rebuilt br0 bridge lower=bond0" in out
        assert "network: fec0::15/64 on br0 (carried over from the running system)" in out
        assert "network: default route via %s" % m.group(1) in out
        assert re.search(r"\[fec0::2\] reachable from fec0::15 on br0 \(carried over\)", out), \
            relevant(out)
        assert "verified sha256: " + images.sha("zstd") in out, relevant(out)
        with open(disk, "rb") as f:
            got = f.read(len(images.data))
        assert hashlib.sha256(got).digest() == hashlib.sha256(images.data).digest()
    finally:
        if v:
            v.stop()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)
