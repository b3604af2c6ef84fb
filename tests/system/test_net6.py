"""The flasher's network as servers have it (issue 16), in network namespaces named i16-*:

- the flasher's whole bring-up (src/init/network.c, run by tests/net/test-net-up.c) against
  dnsmasq: DHCPv6 stateful with no DHCPv4 server (a silent DHCPv4 must not hold up an IPv6
  source), SLAAC with DHCPv6 information-only for DNS and a host-name source, DHCPv4 with no
  IPv6 router, nothing at all (the error says what each method got), and a carried bridge
  that it rebuilds over a NIC found by MAC before configuring the address;
- `reimage go --dry-run` in a namespace: it carries a bridge stack and an IPv6-only
  configuration with a link-local gateway, shows them in the plan, and refuses a kind of link
  the flasher cannot rebuild before anything is loaded.

VLANs and bonds need the 8021q and bonding modules, which the development VM's kernel lacks;
tests/e2e/test_net6.py covers them in QEMU with Debian's kernel. Every namespace and process
started here is removed/stopped (by PID) on teardown.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IP = shutil.which("ip") or "/usr/sbin/ip"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
MiB = 1 << 20

# a tiny HTTP server that does not look its own name up in DNS (http.server does, and that
# hangs in a namespace without DNS)
HTTP_SERVER = r"""
import functools, http.server, socket, socketserver, sys
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
S((sys.argv[1], int(sys.argv[2])), h).serve_forever()
"""


def _build_dir():
    if os.environ.get("REIMAGE_BUILD_DIR"):
        return Path(os.environ["REIMAGE_BUILD_DIR"])
    if os.environ.get("REIMAGE_BIN"):
        return Path(os.environ["REIMAGE_BIN"]).resolve().parent
    return REPO / "build"


HELPER = _build_dir() / "tests" / "test-net-up"


def ip(*args, check=True):
    r = subprocess.run([IP] + [str(a) for a in args], capture_output=True, text=True)
    if check and r.returncode != 0:
        pytest.fail("ip %s failed: %s" % (" ".join(map(str, args)), r.stderr))
    return r.stdout


class Namespaces:
    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.names = []
        self.procs = []

    def add(self, tag):
        name = "i16-%s-%d" % (tag, os.getpid())
        subprocess.run([IP, "netns", "del", name], capture_output=True)
        ip("netns", "add", name)
        self.names.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def sysctl(self, ns, key, value):
        subprocess.run([IP, "netns", "exec", ns, "sysctl", "-qw", "%s=%s" % (key, value)],
                       check=True, capture_output=True)

    def spawn(self, ns, argv, **kw):
        p = subprocess.Popen([IP, "netns", "exec", ns] + [str(a) for a in argv], **kw)
        self.procs.append(p)
        return p

    def run(self, ns, argv, timeout=120, **kw):
        return subprocess.run([IP, "netns", "exec", ns] + [str(a) for a in argv],
                              capture_output=True, text=True, timeout=timeout, **kw)

    def http(self, ns, addr, port):
        www = self.tmp / "www"
        www.mkdir(exist_ok=True)
        (www / "x.img").write_bytes(os.urandom(256 << 10))
        self.spawn(ns, ["/usr/bin/python3", "-c", HTTP_SERVER, addr, port, www],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            r = self.run(ns, ["ss", "-Hltn", "sport = :%d" % port])
            if r.stdout.strip():
                return
            time.sleep(0.1)
        pytest.fail("the test HTTP server did not start")

    def teardown(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        for ns in self.names:
            subprocess.run([IP, "netns", "del", ns], capture_output=True)


@pytest.fixture
def netns(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("network namespaces need root")
    if not os.access(HELPER, os.X_OK):
        pytest.fail("%s not built (set REIMAGE_BUILD_DIR)" % HELPER)
    n = Namespaces(tmp_path)
    try:
        yield n
    finally:
        n.teardown()


def lan(n):
    """A server namespace (vsrv: 10.16.0.1/24, fd16::1/64) and a flasher namespace (vcli,
    down and unconfigured), joined by a veth pair."""
    srv, cli = n.add("srv"), n.add("cli")
    ip("link", "add", "vsrv", "netns", srv, "type", "veth", "peer", "name", "vcli", "netns", cli)
    n.sysctl(srv, "net.ipv6.conf.vsrv.accept_dad", "0")
    ip("-n", srv, "addr", "add", "10.16.0.1/24", "dev", "vsrv")
    ip("-n", srv, "addr", "add", "fd16::1/64", "dev", "vsrv", "nodad")
    ip("-n", srv, "link", "set", "vsrv", "up")
    return srv, cli


def dnsmasq(n, ns, *opts):
    log = n.tmp / "dnsmasq.log"
    n.spawn(ns, [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                 "--no-hosts", "--port=0", "--interface=vsrv", "--bind-interfaces",
                 "--log-dhcp", "--log-facility=%s" % log, "--user=root",
                 "--pid-file=%s" % (n.tmp / "dnsmasq.pid"),
                 "--dhcp-leasefile=%s" % (n.tmp / "dnsmasq.leases"), *opts])
    time.sleep(0.5)
    return log


def flasher_net(n, ns, job, timeout=120, stay_ms=0):
    """Run the flasher's network bring-up on job (a dict of job keys) in ns."""
    text = "dst = /dev/vda\n" + "".join(
        "%s = %s\n" % (k, x) for k, v in job.items() for x in (v if isinstance(v, list) else [v]))
    (n.tmp / "job.conf").write_text(text)
    resolv = n.tmp / "resolv.conf"
    r = n.run(ns, [HELPER, "--resolv-conf", resolv, "--stay-ms", stay_ms, n.tmp / "job.conf"],
              timeout=timeout)
    r.resolv = resolv.read_text() if resolv.exists() else ""
    # in the sanitizer build (tests/run) a report exits 86 or 87
    assert r.returncode not in (86, 87) and "Sanitizer" not in r.stderr, r.stderr
    return r


def test_dhcpv6_stateful_without_a_dhcpv4_server(netns):
    """RA with the M flag: the flasher gets its address from DHCPv6 and reaches the IPv6
    source, although no DHCPv4 server ever answers (net-timeout is far away)."""
    srv, cli = lan(netns)
    dnsmasq(netns, srv, "--enable-ra", "--dhcp-range=fd16::100,fd16::1ff,64,2m",
            "--dhcp-option=option6:dns-server,[fd16::53]")
    start = time.monotonic()
    r = flasher_net(netns, cli, {"src": "http://[fd16::1]:8080/x.img", "net-timeout": "100"})
    took = time.monotonic() - start
    assert "NETWORK-UP" in r.stdout, r.stdout + r.stderr
    assert "asks for DHCPv6 (M flag: an address)" in r.stderr, r.stderr
    m = re.search(r"network: (fd16::1[0-9a-f]{2})/128 on vcli from DHCPv6", r.stderr)
    assert m, r.stderr
    # the source address it fetches from, and how it got it
    assert re.search(r"\[fd16::1\] reachable from %s on vcli \(DHCPv6\)" % m.group(1), r.stderr), \
        r.stderr
    assert "nameserver fd16::53" in r.resolv
    assert took < 60, "a silent DHCPv4 held up the IPv6 source for %.0f s" % took


def test_slaac_with_dhcpv6_information_only_and_a_host_name(netns):
    """RA with the O flag and a SLAAC prefix: the address from SLAAC, the DNS server from a
    DHCPv6 Information-request; a host-name source is ready once that server has a route."""
    srv, cli = lan(netns)
    log = dnsmasq(netns, srv, "--enable-ra", "--dhcp-range=fd16::,ra-stateless,64",
                  "--dhcp-option=option6:dns-server,[fd16::53]",
                  "--dhcp-option=option6:domain-search,test.example")
    r = flasher_net(netns, cli, {"src": "http://images.example:8080/x.img", "net-timeout": "100"},
                    stay_ms=3000)
    assert "NETWORK-UP" in r.stdout, r.stdout + r.stderr
    assert "asks for DHCPv6 (O flag: information only)" in r.stderr, r.stderr
    # dnsmasq also puts its DNS server into the RA (RDNSS); the search domain comes only from
    # the Reply to our Information-request
    assert "DHCPINFORMATION-REQUEST(vsrv)" in log.read_text(), log.read_text()
    assert "search test.example" in r.resolv, r.resolv
    assert re.search(r"images\.example reachable from fd16::[0-9a-f:]+ on vcli \(SLAAC\), DNS "
                     r"server fd16::53", r.stderr), r.stderr
    assert "nameserver fd16::53" in r.resolv


def test_dhcpv4_without_an_ipv6_router(netns):
    """The reverse: no router advertisement ever comes, DHCPv4 answers, the IPv4 source is
    reached."""
    srv, cli = lan(netns)
    dnsmasq(netns, srv, "--dhcp-range=10.16.0.100,10.16.0.150,255.255.255.0,2m",
            "--dhcp-option=6,10.16.0.53")
    r = flasher_net(netns, cli, {"src": "http://10.16.0.1:8080/x.img", "net-timeout": "100"})
    assert "NETWORK-UP" in r.stdout, r.stdout + r.stderr
    assert re.search(r"10\.16\.0\.1 reachable from 10\.16\.0\.1[0-5][0-9] on vcli \(DHCPv4\)",
                     r.stderr), r.stderr
    assert "nameserver 10.16.0.53" in r.resolv


def test_nothing_answers_says_what_each_method_got(netns):
    srv, cli = lan(netns)
    r = flasher_net(netns, cli, {"src": "http://[fd16::1]/x.img", "net-timeout": "6"})
    assert "NETWORK-FAILED: no route to [fd16::1] after 6 s" in r.stdout, r.stdout + r.stderr
    assert "vcli: no DHCPv4 answer; no IPv6 router advertisement" in r.stdout, r.stdout


def test_flasher_rebuilds_a_carried_bridge(netns):
    """net-link = br0 bridge lower=MAC: the flasher finds the NIC by MAC, makes the bridge
    with it as a port, and puts the carried address on the bridge."""
    srv, cli = lan(netns)
    mac = json.loads(ip("-j", "-n", cli, "link", "show", "vcli"))[0]["address"]
    netns.http(srv, "10.16.0.1", 8016)
    r = flasher_net(netns, cli, {"src": "http://10.16.0.1:8016/x.img", "net-mac": mac,
                                 "net-address": "10.16.0.7/24",
                                 "net-link": "br0 bridge lower=%s" % mac,
                                 "dhcp-fallback": "no"})
    assert "NETWORK-UP" in r.stdout, r.stdout + r.stderr
    assert "rebuilt br0 bridge lower=%s" % mac in r.stderr, r.stderr
    assert "10.16.0.1 reachable from 10.16.0.7 on br0 (carried over)" in r.stderr, r.stderr
    links = {l["ifname"]: l for l in json.loads(ip("-j", "-d", "-n", cli, "link", "show"))}
    assert links["br0"]["linkinfo"]["info_kind"] == "bridge"
    assert links["vcli"].get("master") == "br0"
    addrs = json.loads(ip("-j", "-n", cli, "addr", "show", "dev", "br0"))[0]["addr_info"]
    assert any(a["local"] == "10.16.0.7" and a["prefixlen"] == 24 for a in addrs), addrs
    # and it works: the server answers through the bridge
    assert netns.run(cli, ["curl", "-sf", "-o", "/dev/null", "http://10.16.0.1:8016/x.img"],
                     timeout=30).returncode == 0


# ---------------------------------------------------------------------------------------------
# reimage go --dry-run in a namespace that stands in for the running system
# ---------------------------------------------------------------------------------------------

def go_dry_run(netns, reimage_bin, loopdev, ns, url):
    dev = loopdev(64 * MiB, pattern=False)
    kernel = netns.tmp / "vmlinuz"
    kernel.write_bytes(b"never loaded by a dry run")
    return netns.run(ns, [reimage_bin, "go", url, "--to", dev.path, "--kernel", kernel,
                          "--dry-run"], timeout=300)


def test_go_carries_a_bridge(netns, reimage_bin, loopdev):
    ns = netns.add("go")
    ip("-n", ns, "link", "add", "nic0", "type", "veth", "peer", "name", "far0")
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    ip("-n", ns, "link", "set", "nic0", "master", "br0")
    for l in ("nic0", "far0", "br0"):
        ip("-n", ns, "link", "set", l, "up")
    ip("-n", ns, "addr", "add", "10.16.1.5/24", "dev", "br0")
    ip("-n", ns, "route", "add", "default", "via", "10.16.1.1")
    mac = json.loads(ip("-j", "-n", ns, "link", "show", "nic0"))[0]["address"]
    netns.http(ns, "10.16.1.5", 8016)
    r = go_dry_run(netns, reimage_bin, loopdev, ns, "http://10.16.1.5:8016/x.img")
    assert r.returncode == 0, r.stdout + r.stderr
    line = [l for l in r.stdout.splitlines() if l.strip().startswith("network:")][0]
    assert "br0" in line and "10.16.1.5/24 via 10.16.1.1" in line, line
    assert "over br0 bridge lower=%s" % mac in line, line
    assert "dry run: nothing was loaded" in r.stdout


def test_go_carries_an_ipv6_only_configuration(netns, reimage_bin, loopdev):
    """No IPv4 at all: a static global address and a default route via a link-local router."""
    ns = netns.add("go6")
    ip("-n", ns, "link", "add", "nic0", "type", "veth", "peer", "name", "far0")
    for l in ("nic0", "far0"):
        ip("-n", ns, "link", "set", l, "up")
    ip("-n", ns, "addr", "add", "fd16:2::5/64", "dev", "nic0", "nodad")
    ip("-n", ns, "-6", "route", "add", "default", "via", "fe80::1", "dev", "nic0")
    netns.http(ns, "fd16:2::5", 8016)
    r = go_dry_run(netns, reimage_bin, loopdev, ns, "http://[fd16:2::5]:8016/x.img")
    assert r.returncode == 0, r.stdout + r.stderr
    line = [l for l in r.stdout.splitlines() if l.strip().startswith("network:")][0]
    assert "nic0" in line and "fd16:2::5/64 via fe80::1" in line, line
    assert "carried over" in line, line


def test_go_refuses_a_kind_it_cannot_rebuild(netns, reimage_bin, loopdev):
    """The default route goes through an ifb link: go names the kind and loads nothing
    (DHCP on the bare NIC would come up outside the network the address is on)."""
    ns = netns.add("gox")
    ip("-n", ns, "link", "add", "odd0", "type", "ifb")
    ip("-n", ns, "link", "set", "odd0", "up")
    ip("-n", ns, "addr", "add", "10.16.3.5/24", "dev", "odd0")
    ip("-n", ns, "route", "add", "default", "via", "10.16.3.1")
    netns.http(ns, "10.16.3.5", 8016)
    r = go_dry_run(netns, reimage_bin, loopdev, ns, "http://10.16.3.5:8016/x.img")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "odd0 is a ifb link" in r.stderr, r.stderr
    assert "--no-carry-network" in r.stderr and "nothing was loaded" in r.stderr
    assert "plan" not in r.stdout
