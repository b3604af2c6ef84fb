"""Live tests of the flasher's network code (src/net/) against real servers.

Two network namespaces joined by a veth pair stand in for the flasher and its LAN: dnsmasq
(DHCPv4) or a scripted IPv6 router runs in one, tests/net/test-dhcp-live.c (built by meson,
not a meson test) in the other. Nothing touches the host's own interfaces; namespaces and
every process started here are removed/stopped (by PID) on teardown.

The helper is found in $REIMAGE_BUILD_DIR (default: the directory of $REIMAGE_BIN, else
build/ in the repository).
"""

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _build_dir():
    if os.environ.get("REIMAGE_BUILD_DIR"):
        return Path(os.environ["REIMAGE_BUILD_DIR"])
    if os.environ.get("REIMAGE_BIN"):
        return Path(os.environ["REIMAGE_BIN"]).resolve().parent
    return REPO / "build"


HELPER = _build_dir() / "tests" / "test-dhcp-live"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
IP = shutil.which("ip") or "/usr/sbin/ip"

SRV_ADDR = "10.77.0.1"
RANGE = ("10.77.0.100", "10.77.0.150")
DNS = "10.77.0.53"
DOMAIN = "test.example"


def _unavailable_reason():
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not os.access(IP, os.X_OK):
        return "iproute2 (ip) is not installed"
    probe = "rimg-probe-%d" % os.getpid()
    r = subprocess.run([IP, "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return "ip netns is unavailable: %s" % r.stderr.strip()
    subprocess.run([IP, "netns", "del", probe], capture_output=True)
    if not os.access(HELPER, os.X_OK):
        return "%s not built (set REIMAGE_BUILD_DIR)" % HELPER
    return None


_REASON = _unavailable_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def ip(*args, check=True):
    r = subprocess.run([IP] + [str(a) for a in args], capture_output=True, text=True)
    if check and r.returncode != 0:
        pytest.fail("ip %s failed: %s" % (" ".join(map(str, args)), r.stderr))
    return r.stdout


def ip_json(*args):
    return json.loads(ip("-j", *args) or "[]")


class Net:
    """Namespaces srv (vsrv, 10.77.0.1/24) and cli (vcli, down, unconfigured)."""

    def __init__(self, tag, tmp):
        self.srv = "rimg-srv-%s" % tag
        self.cli = "rimg-cli-%s" % tag
        self.tmp = Path(tmp)
        self.procs = []
        self.created = []

    def setup(self):
        for ns in (self.srv, self.cli):
            ip("netns", "add", ns)
            self.created.append(ns)
        ip("link", "add", "vsrv", "netns", self.srv, "type", "veth", "peer", "name", "vcli",
           "netns", self.cli)
        ip("-n", self.srv, "addr", "add", SRV_ADDR + "/24", "dev", "vsrv")
        # so that the IPv6 router's link-local source is usable at once
        self.sysctl(self.srv, "net.ipv6.conf.vsrv.accept_dad", "0")
        ip("-n", self.srv, "link", "set", "lo", "up")
        ip("-n", self.srv, "link", "set", "vsrv", "up")
        ip("-n", self.cli, "link", "set", "lo", "up")

    def sysctl(self, ns, key, value):
        path = "/proc/sys/" + key.replace(".", "/")
        subprocess.run([IP, "netns", "exec", ns, "sh", "-c", "echo %s > %s" % (value, path)],
                       check=True)

    def spawn(self, ns, argv, **kw):
        p = subprocess.Popen([IP, "netns", "exec", ns] + [str(a) for a in argv], **kw)
        self.procs.append(p)
        return p

    def teardown(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        for ns in self.created:
            subprocess.run([IP, "netns", "del", ns], capture_output=True)

    # -- dnsmasq ------------------------------------------------------------
    def dnsmasq(self, *extra, lease="2m", netmask="255.255.255.0", routes=True):
        """Start dnsmasq on vsrv; returns the path of its log."""
        log = self.tmp / "dnsmasq.log"
        argv = [DNSMASQ, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--interface=vsrv", "--bind-interfaces", "--no-ping", "--log-dhcp",
                "--log-facility=%s" % log,
                "--dhcp-range=%s,%s,%s,%s" % (RANGE[0], RANGE[1], netmask, lease),
                "--dhcp-option=option:dns-server,%s" % DNS,
                "--dhcp-option=option:domain-name,%s" % DOMAIN,
                "--dhcp-leasefile=%s" % (self.tmp / "dnsmasq.leases"),
                "--pid-file=%s" % (self.tmp / "dnsmasq.pid"), "--user=root"]
        if routes:
            argv.append("--dhcp-option=121,0.0.0.0/0,%s,192.168.50.0/24,10.77.0.254" % SRV_ADDR)
        argv += list(extra)
        p = self.spawn(self.srv, argv, stdout=subprocess.DEVNULL,
                       stderr=open(self.tmp / "dnsmasq.stderr", "wb"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if p.poll() is not None:
                pytest.fail("dnsmasq exited: %s" % (self.tmp / "dnsmasq.stderr").read_text())
            if log.exists() and "DHCP, IP range" in log.read_text(errors="replace"):
                return log
            time.sleep(0.05)
        pytest.fail("dnsmasq did not start: %s" % self.dnsmasq_log())

    def dnsmasq_log(self):
        try:
            return (self.tmp / "dnsmasq.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- the client ---------------------------------------------------------
    def client(self, *args, timeout=60):
        argv = [IP, "netns", "exec", self.cli, str(HELPER), "--verbose"] + \
            [str(a) for a in args] + ["vcli"]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            pytest.fail("helper timed out: %s\n%s\n%s" % (argv, e.stdout, e.stderr))
        print("$ %s\n-> rc=%d\n--- stdout:\n%s--- stderr:\n%s--- dnsmasq:\n%s"
              % (" ".join(argv), r.returncode, r.stdout, r.stderr, self.dnsmasq_log()[-3000:]))
        assert r.returncode == 0, r.stderr
        events = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        return events, r.stderr

    def addresses(self, family="inet"):
        out = []
        for link in ip_json("-n", self.cli, "-f", family, "addr", "show", "dev", "vcli"):
            out += link.get("addr_info", [])
        return out

    def routes(self, family="-4"):
        return ip_json("-n", self.cli, family, "route", "show", "dev", "vcli")


@pytest.fixture
def net(tmp_path):
    n = Net("%d-%d" % (os.getpid(), int(time.monotonic() * 1000) % 100000), tmp_path)
    try:
        n.setup()
        yield n
    finally:
        n.teardown()


def by_event(events, name):
    found = [e for e in events if e["event"] == name]
    assert found, "no %r event in %r" % (name, events)
    return found[-1]


def in_range(a):
    lo, hi = (ipaddress.ip_address(x) for x in RANGE)
    return lo <= ipaddress.ip_address(a) <= hi


def test_acquire_apply_and_renew(net):
    net.dnsmasq()
    resolv = net.tmp / "resolv.conf"
    events, _ = net.client("--retransmit-ms", "500", "--resolv-conf", resolv, "--renew")
    lease = by_event(events, "lease")
    assert in_range(lease["address"])
    assert lease["prefix"] == 24
    assert lease["server"] == SRV_ADDR
    assert lease["lease"] == 120
    assert 0 < lease["t1"] < lease["t2"] < 120
    assert lease["dns"] == [DNS]
    assert lease["domain"] == DOMAIN
    assert lease["router"] == "0.0.0.0"  # option 121 present: option 3 ignored
    assert {(r["dst"], r["prefix"], r["gateway"]) for r in lease["routes"]} == {
        ("0.0.0.0", 0, SRV_ADDR), ("192.168.50.0", 24, "10.77.0.254")}

    renew = by_event(events, "renew")
    assert renew["address"] == lease["address"]
    assert renew["lease"] == 120

    # what the kernel has now
    addrs = [a for a in net.addresses() if a["local"] == lease["address"]]
    assert len(addrs) == 1, net.addresses()
    assert addrs[0]["prefixlen"] == 24
    assert 100 <= addrs[0]["valid_life_time"] <= 120  # a lease, not "forever"
    assert addrs[0].get("dynamic") is True
    routes = net.routes()
    default = [r for r in routes if r["dst"] == "default"]
    assert default and default[0]["gateway"] == SRV_ADDR and default[0]["protocol"] == "dhcp"
    assert default[0]["prefsrc"] == lease["address"]
    assert [r for r in routes if r["dst"] == "192.168.50.0/24"
            and r["gateway"] == "10.77.0.254"], routes

    text = resolv.read_text()
    assert "nameserver %s\n" % DNS in text
    assert "search %s\n" % DOMAIN in text

    # dnsmasq saw the selecting REQUEST and the renewing (unicast) one, and recorded the lease
    log = net.dnsmasq_log()
    assert log.count("DHCPACK(vsrv) %s" % lease["address"]) == 2, log
    leases = (net.tmp / "dnsmasq.leases").read_text()
    assert lease["address"] in leases


def test_rebind_broadcast(net):
    net.dnsmasq()
    events, _ = net.client("--retransmit-ms", "500", "--rebind")
    lease, rebind = by_event(events, "lease"), by_event(events, "rebind")
    assert rebind["address"] == lease["address"]
    assert net.dnsmasq_log().count("DHCPACK(vsrv) %s" % lease["address"]) == 2


def test_cloud_style_32_lease_onlink(net):
    # a /32 netmask and a plain router (no option 121): the router is outside the subnet
    net.dnsmasq("--dhcp-option=option:netmask,255.255.255.255",
                "--dhcp-option=option:router,%s" % SRV_ADDR, routes=False)
    events, _ = net.client("--retransmit-ms", "500")
    lease = by_event(events, "lease")
    assert lease["prefix"] == 32
    assert lease["router"] == SRV_ADDR
    assert lease["routes"] == []
    default = [r for r in net.routes() if r["dst"] == "default"]
    assert default, net.routes()
    assert default[0]["gateway"] == SRV_ADDR
    assert "onlink" in default[0].get("flags", []), default
    # and it works: dnsmasq's DNS port answers through that route
    probe = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3)\n"
        "q=b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00"
        "\\x07example\\x03com\\x00\\x00\\x01\\x00\\x01'\n"
        "s.sendto(q,('%s',53)); d=s.recv(512); sys.exit(0 if d[:2]==q[:2] else 1)\n" % SRV_ADDR)
    r = subprocess.run([IP, "netns", "exec", net.cli, sys.executable, "-c", probe],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr


def test_mac_change_before_lease(net):
    net.dnsmasq()
    events, _ = net.client("--retransmit-ms", "500", "--mac", "02:12:34:56:78:9a")
    lease = by_event(events, "lease")
    state = by_event(events, "state")
    assert [l for l in state["links"] if l["name"] == "vcli"][0]["mac"] == "02:12:34:56:78:9a"
    assert "02:12:34:56:78:9a %s" % lease["address"] in (net.tmp / "dnsmasq.leases").read_text()


def test_maintain_renews_at_t1(net):
    # Ask for T1 = 2 s, T2 = 5 s (dnsmasq 2.90 raises T1 to 4 s); the renewal loop must renew
    # (unicast, RENEWING) once per T1 within the window.
    window = 6.5
    net.dnsmasq("--dhcp-option=option:T1,2", "--dhcp-option=option:T2,5")
    events, err = net.client("--retransmit-ms", "500", "--maintain-ms", int(window * 1000))
    lease = by_event(events, "lease")
    assert 0 < lease["t1"] <= 4 and lease["t1"] < lease["t2"] <= 5
    assert by_event(events, "maintain")["rc"] == 0
    renewals = int(window // lease["t1"])
    assert err.count("T1 reached, renewing") == renewals
    assert "rebinding" not in err
    log = net.dnsmasq_log()
    assert log.count("DHCPACK(vsrv) %s" % lease["address"]) == 1 + renewals, log
    addr = [a for a in net.addresses() if a["local"] == lease["address"]][0]
    elapsed_since_renewal = window - renewals * lease["t1"]
    assert addr["valid_life_time"] >= 120 - elapsed_since_renewal - 1.5


RA_SENDER = r"""
import socket, struct, sys, time
idx = socket.if_nametoindex("vsrv")
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
# RFC 4861 4.2: type, code, checksum (the kernel fills it), hop limit, flags, router lifetime,
# reachable time, retrans timer; then a prefix information option (L+A) and RDNSS (RFC 8106)
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
pi = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 3600, 1800, 0) + \
    socket.inet_pton(socket.AF_INET6, "2001:db8:1::")
rdnss = struct.pack("!BBHI", 25, 3, 0, 600) + socket.inet_pton(socket.AF_INET6, "2001:db8::53")
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        s.sendto(ra + pi + rdnss, ("ff02::1", 0, 0, idx))
    except OSError:
        pass  # link-local address not ready yet
    time.sleep(0.3)
"""


def test_slaac_and_rdnss(net):
    sender = net.spawn(net.srv, [sys.executable, "-c", RA_SENDER, "30"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    events, _ = net.client("--ndisc", "--timeout-ms", "20000")
    nd = by_event(events, "ndisc")
    assert nd["dns"] == ["2001:db8::53"]
    assert nd["lifetime"] == 600
    assert ipaddress.ip_address(nd["address"]) in ipaddress.ip_network("2001:db8:1::/64")
    addrs = [a for a in net.addresses("inet6") if a["local"] == nd["address"]]
    assert addrs and not addrs[0].get("tentative"), net.addresses("inet6")
    sender.terminate()
