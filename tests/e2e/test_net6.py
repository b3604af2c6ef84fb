"""The flasher on networks as servers have them (issue 16).

- IPv6 only: QEMU's user network with ipv4=off,ipv6=on gives router advertisements with the
  fec0::/64 prefix and no DHCPv4; the host's [::1] is fec0::2 from the guest. The flasher must
  reach the source by SLAAC as soon as it has an address, without waiting for a DHCPv4 lease
  that never comes, and write the image.
- `go` carrying a VLAN on a bond (dry run), then a bridge on a bond for real.
- A VLAN trunk: the guest's NIC reaches QEMU's user network only through VlanTrunk, which
  passes frames tagged 42 and nothing else; the flasher rebuilds the carried VLAN."""

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


class VlanTrunk:
    """A switch port that is a VLAN trunk, between the guest's NIC and QEMU's user network:
    both are QEMU socket netdevs (each frame a 4-byte big-endian length, then the frame) that
    connect here. Frames from the guest tagged with `vid` go on untagged; frames the other way
    get the tag; anything else from the guest (untagged, another VLAN) is dropped, so only a
    VLAN interface on the guest reaches the network."""

    def __init__(self, vid):
        import socket
        self.vid = vid
        self.tagged_in = self.dropped = self.tagged_out = 0
        self.listeners = []
        for _ in range(2):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            self.listeners.append(s)
        self.guest_port = self.listeners[0].getsockname()[1]
        self.net_port = self.listeners[1].getsockname()[1]
        self.stopping = False
        import threading
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def qemu_netdev(self):
        """The guest's NIC on n0 (a socket to this trunk); this trunk's other side on a hub
        with QEMU's user network (10.0.2.2 is the host)."""
        return ["-netdev", "socket,id=n0,connect=127.0.0.1:%d" % self.guest_port,
                "-netdev", "socket,id=t1,connect=127.0.0.1:%d" % self.net_port,
                "-netdev", "user,id=u0",
                "-netdev", "hubport,id=h0,hubid=0,netdev=t1",
                "-netdev", "hubport,id=h1,hubid=0,netdev=u0"]

    def _run(self):
        import select
        import struct
        conns = [l.accept()[0] for l in self.listeners]  # QEMU connects both at start
        guest, net = conns
        bufs = {guest: b"", net: b""}
        tag = struct.pack(">HH", 0x8100, self.vid)
        while not self.stopping:
            ready, _, _ = select.select(conns, [], [], 0.5)
            for c in ready:
                data = c.recv(65536)
                if not data:
                    return
                bufs[c] += data
                while len(bufs[c]) >= 4:
                    n = struct.unpack(">I", bufs[c][:4])[0]
                    if len(bufs[c]) < 4 + n:
                        break
                    frame, bufs[c] = bufs[c][4:4 + n], bufs[c][4 + n:]
                    if c is guest:
                        if frame[12:14] == b"\x81\x00" and \
                                struct.unpack(">H", frame[14:16])[0] & 0xfff == self.vid:
                            self.tagged_in += 1
                            out = frame[:12] + frame[16:]
                            net.sendall(struct.pack(">I", len(out)) + out)
                        else:
                            self.dropped += 1
                    else:
                        self.tagged_out += 1
                        out = frame[:12] + tag + frame[12:]
                        guest.sendall(struct.pack(">I", len(out)) + out)

    def stop(self):
        self.stopping = True
        for l in self.listeners:
            l.close()


def test_flasher_rebuilds_a_carried_vlan(images, nginx, build_flasher, vm, tmp_path):
    """A server on a VLAN trunk: only frames tagged 42 reach the network. The job carries
    `net-link = eth0.42 vlan id=42 lower=MAC` with a static address; the flasher (built for
    another kernel, so with its network and storage drivers rather than the loaded ones) must
    load 8021q, make the VLAN on the NIC it finds by MAC, and fetch and write the image over
    it."""
    mac = "52:54:00:12:34:42"
    url = nginx.put("vlan.img.zst", src=images.path("zstd")).replace("127.0.0.1", "10.0.2.2")
    job = tmp_path / "job.conf"
    job.write_text("src = %s\ndst = /dev/vda\nsha256 = %s\nthen = poweroff\n"
                   "net-mac = %s\nnet-address = 10.0.2.77/24\nnet-gateway = 10.0.2.2\n"
                   "net-link = eth0.42 vlan id=42 lower=%s\ndhcp-fallback = no\n"
                   # a failure that wrote nothing reboots (ends QEMU) after this, not 15 min
                   "hold-timeout = 20\n"
                   % (url, images.sha("zstd"), mac, mac))
    initrd = build_flasher("--job", job)
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.truncate(64 * MiB)
    trunk = VlanTrunk(42)
    try:
        v = vm(initrd, disk, nic_mac=mac, netdev=trunk.qemu_netdev())
        rc = v.wait_exit(480)
        out = v.text()
    finally:
        trunk.stop()
    assert rc == 0, relevant(out)[-4000:]
    assert "network: rebuilt eth0.42 vlan id=42 lower=%s" % mac in out, relevant(out)
    assert "10.0.2.2 reachable from 10.0.2.77 on eth0.42 (carried over)" in out, relevant(out)
    assert "verified sha256: " + images.sha("zstd") in out
    assert trunk.tagged_in > 10 and trunk.tagged_out > 10, (trunk.tagged_in, trunk.tagged_out)
    with open(disk, "rb") as f:
        got = f.read(len(images.data))
    assert hashlib.sha256(got).digest() == hashlib.sha256(images.data).digest()
