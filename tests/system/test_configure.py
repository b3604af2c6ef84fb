"""The step after a verified write, on loop devices: `reimage configure DISK` does what the
flasher does after writing (docs/flasher.md, "Configuring the new system").

Each test builds a small GPT (or MBR) image with an ESP and a root file system that holds
/etc/os-release, puts it at the start of a larger sparse disk (so the backup GPT sits in the
middle, as after writing a small image), attaches it, and checks what configure did - or, for
the refusals, that not one byte of the disk changed.
"""

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.loop

ROOT_X86 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX_DATA = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
MiB = 1 << 20


def sh(*argv, **kw):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        pytest.fail("%s failed: %s%s" % (" ".join(map(str, argv)), r.stdout, r.stderr))
    return r.stdout


def base_root(d):
    (d / "etc/ssh").mkdir(parents=True)
    (d / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    (d / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\timage-name\n::1\tlocalhost\n")
    (d / "etc/hostname").write_text("image-name\n")
    (d / "root").mkdir(mode=0o700)


def make_fs(fs, path, size, rootdir):
    with open(path, "wb") as f:
        f.truncate(size)
    if fs in ("ext4", "ext2"):
        sh("mkfs." + fs, "-q", "-F", "-d", rootdir, path)
    elif fs == "btrfs":
        sh("mkfs.btrfs", "-q", "-f", "-r", rootdir, path)
    elif fs == "xfs":
        sh("mkfs.xfs", "-q", "-f", path)
        mp = tempfile.mkdtemp(prefix="xfs-")
        sh("mount", "-o", "loop", path, mp)
        try:
            sh("cp", "-a", str(rootdir) + "/.", mp)
        finally:
            sh("umount", mp)
            os.rmdir(mp)
    elif fs == "vfat":
        sh("mkfs.vfat", path)
    else:
        raise ValueError(fs)


class Disk:
    """A loop device over IMAGE + free space; .part(n), .sha(), .mounted(n)."""

    def __init__(self, path, backing):
        self.path, self.backing = path, backing

    def part(self, n):
        return "%sp%d" % (self.path, n)

    def sha(self):
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            for chunk in iter(lambda: f.read(4 * MiB), b""):
                h.update(chunk)
        return h.hexdigest()

    def dump(self):
        return sh("sfdisk", "-d", self.path)

    def verify(self):
        return subprocess.run(["sfdisk", "--verify", self.path], capture_output=True, text=True)

    def partitions(self):
        import json
        return json.loads(sh("sfdisk", "-J", self.path))["partitiontable"]


@pytest.fixture
def disk(tmp_path):
    """disk(root_fs, image_mb, disk_mb, setup=None, root_type=ROOT_X86, label='gpt') -> Disk.

    setup(rootdir) adds files to the root file system before it is made."""
    attached, mounts = [], []

    def make(root_fs="ext4", image_mb=40, disk_mb=100, setup=None, root_type=ROOT_X86,
             label="gpt", esp=True):
        n = len(attached)
        rootdir = tmp_path / ("root%d" % n)
        base_root(rootdir)
        if setup:
            setup(rootdir)
        img = tmp_path / ("disk%d.img" % n)
        with open(img, "wb") as f:
            f.truncate(image_mb * MiB)
        if label == "gpt":
            script = "label: gpt\n" + ("size=8M, type=%s\n" % ESP if esp else "") + \
                "type=%s\n" % root_type
        else:
            script = "label: dos\n" + ("size=8M, type=ef\n" if esp else "") + "type=83\n"
        sh("sfdisk", "-q", img, input=script)
        parts = Disk(str(img), img).partitions()["partitions"]
        rootp = parts[-1]
        part = tmp_path / ("part%d.img" % n)
        make_fs(root_fs, part, rootp["size"] * 512, rootdir)
        sh("dd", "if=%s" % part, "of=%s" % img, "bs=1M", "seek=%d" % (rootp["start"] * 512),
           "oflag=seek_bytes", "conv=notrunc,sparse", "status=none")
        part.unlink()
        if esp:
            espimg = tmp_path / ("esp%d.img" % n)
            make_fs("vfat", espimg, parts[0]["size"] * 512, None)
            sh("dd", "if=%s" % espimg, "of=%s" % img, "bs=1M",
               "seek=%d" % (parts[0]["start"] * 512), "oflag=seek_bytes", "conv=notrunc",
               "status=none")
            espimg.unlink()
        with open(img, "r+b") as f:
            f.truncate(disk_mb * MiB)
        dev = sh("losetup", "-f", "--show", img).strip()
        attached.append(dev)
        sh("partx", "-a", dev)
        d = Disk(dev, img)

        def mounted(num):
            mp = Path(tempfile.mkdtemp(prefix="mnt-", dir=tmp_path))
            sh("mount", "-o", "ro", d.part(num), mp)
            mounts.append(mp)
            return mp
        d.mounted = mounted
        return d

    try:
        yield make
    finally:
        for mp in reversed(mounts):
            subprocess.run(["umount", mp], capture_output=True)
        for dev in reversed(attached):
            subprocess.run(["partx", "-d", dev], capture_output=True)
            for _ in range(20):
                if subprocess.run(["losetup", "-d", dev], capture_output=True).returncode == 0:
                    break
                time.sleep(0.25)


@pytest.fixture
def keys(tmp_path):
    """Host keys and an operator key made for this test; the env that points reimage at them."""
    hk = tmp_path / "hostkeys"
    hk.mkdir()
    for t in ("ed25519", "ecdsa"):
        sh("ssh-keygen", "-q", "-t", t, "-N", "", "-C", "host-%s" % t, "-f",
           hk / ("ssh_host_%s_key" % t))
    op = tmp_path / "operator"
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "operator@test", "-f", op)
    env = dict(os.environ, REIMAGE_SSH_HOST_KEY_DIR=str(hk),
               REIMAGE_AUTHORIZED_KEYS=str(op) + ".pub")

    class K:
        pass
    k = K()
    k.hostdir, k.operator, k.env = hk, op, env
    return k


def configure(run_reimage, d, *args, env=None):
    return run_reimage("configure", d.path, "--yes", *args, env=env, timeout=120)


def fs_bytes(mp):
    st = os.statvfs(mp)
    return st.f_blocks * st.f_frsize


def last_usable_lba(d):
    return int(d.partitions()["lastlba"])


# --- disk fit ---------------------------------------------------------------------------------

def test_backup_gpt_moves_to_the_end_and_nothing_else(run_reimage, disk):
    d = disk("ext4", 40, 100)
    assert "not on the end" in d.verify().stderr + d.verify().stdout
    before = d.partitions()["partitions"]
    r = configure(run_reimage, d)
    assert r.rc == 0, r.err
    v = d.verify()
    assert v.returncode == 0 and "No errors detected" in v.stdout, v.stdout + v.stderr
    assert d.partitions()["partitions"] == before
    assert last_usable_lba(d) == 100 * MiB // 512 - 34


@pytest.mark.parametrize("fs", ["xfs", "btrfs"])
def test_grow_fills_the_disk(run_reimage, disk, fs):
    d = disk(fs, 400, 700)
    r = configure(run_reimage, d, "--grow", "--hostname", "grown.example.org")
    assert r.rc == 0, r.err
    assert d.verify().returncode == 0, d.verify().stdout
    root = d.partitions()["partitions"][-1]
    assert root["start"] + root["size"] - 1 == last_usable_lba(d)
    part_bytes = root["size"] * 512
    mp = d.mounted(2)
    # the file system spans its partition (less its own metadata: xfs's log, btrfs's chunks)
    assert fs_bytes(mp) > part_bytes * 0.9, (fs_bytes(mp), part_bytes)
    assert fs_bytes(mp) > 600 * MiB
    assert (mp / "etc/hostname").read_text() == "grown.example.org\n"
    hosts = (mp / "etc/hosts").read_text()
    assert "127.0.1.1\tgrown.example.org grown\n" in hosts and "image-name" not in hosts
    assert "127.0.0.1\tlocalhost" in hosts


def test_grow_on_an_mbr_disk(run_reimage, disk):
    d = disk("btrfs", 200, 400, label="dos")
    r = configure(run_reimage, d, "--grow")
    assert r.rc == 0, r.err
    root = d.partitions()["partitions"][-1]
    assert root["start"] + root["size"] == 400 * MiB // 512
    assert fs_bytes(d.mounted(2)) > 350 * MiB


# --- refusals: the disk is left exactly as written ----------------------------------------------

def test_unknown_root_is_refused_untouched(run_reimage, disk):
    # a Linux data partition whose file system has no os-release: not a system root
    def no_os_release(root):
        (root / "etc/os-release").unlink()
    d = disk("ext4", 40, 100, setup=no_os_release, root_type=LINUX_DATA)
    before = d.sha()
    r = configure(run_reimage, d, "--hostname", "x")
    assert r.rc == 1
    assert "finding the new system's root" in r.err and "os-release" in r.err
    assert d.sha() == before


def test_ungrowable_file_system_is_refused_untouched(run_reimage, disk):
    d = disk("ext2", 40, 100)
    before = d.sha()
    r = configure(run_reimage, d, "--grow", "--hostname", "x")
    assert r.rc == 1
    assert "ext2" in r.err and "cannot grow" in r.err and "--grow" in r.err
    assert d.sha() == before


@pytest.mark.parametrize("link", ["/tmp", "../../../../../tmp", "/etc/ssh"])
def test_copy_through_a_link_is_refused_untouched(run_reimage, disk, tmp_path, link):
    def evil(root):
        os.symlink(link, root / "etc/evil")
    d = disk("ext4", 40, 100, setup=evil)
    src = tmp_path / "payload"
    src.write_text("payload\n")
    before = d.sha()
    r = configure(run_reimage, d, "--hostname", "x", "--copy", "%s:/etc/evil/payload" % src)
    assert r.rc == 1
    assert "checking where the files go" in r.err and "/etc/evil" in r.err
    assert "symbolic link" in r.err
    assert d.sha() == before
    assert not Path("/tmp/payload").exists() or Path("/tmp/payload").read_text() != "payload\n"


def test_copy_onto_a_link_is_refused(run_reimage, disk, tmp_path):
    def evil(root):
        os.symlink("/etc/shadow", root / "etc/target")
    d = disk("ext4", 40, 100, setup=evil)
    src = tmp_path / "payload"
    src.write_text("payload\n")
    before = d.sha()
    r = configure(run_reimage, d, "--copy", "%s:/etc/target" % src)
    assert r.rc == 1 and "/etc/target" in r.err and "symbolic link" in r.err
    assert d.sha() == before


# --- identity -----------------------------------------------------------------------------------

def test_identity_files_land_with_their_modes(run_reimage, disk, keys, tmp_path):
    d = disk("ext4", 40, 100)
    secret = tmp_path / "app.conf"
    secret.write_text("token=hunter2-not-shown\n")
    os.chmod(secret, 0o640)
    extra = tmp_path / "extra.pub"
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "extra@test", "-f", tmp_path / "extra")
    r = configure(run_reimage, d, "--keep-ssh-host-keys", "--keep-authorized-keys",
                  "--ssh-authorized-keys", tmp_path / "extra.pub", "--hostname", "newhost",
                  "--copy", "%s:/etc/app/app.conf" % secret,
                  "--copy", "%s:/opt/deep/dir/secret:0400" % secret, env=keys.env)
    assert r.rc == 0, r.err
    # the plan shows fingerprints, never a key
    for t in ("ed25519", "ecdsa"):
        fp = sh("ssh-keygen", "-l", "-f", keys.hostdir / ("ssh_host_%s_key.pub" % t)).split()[1]
        assert fp in r.out
        priv = (keys.hostdir / ("ssh_host_%s_key" % t)).read_text()
        body = "".join(priv.splitlines()[1:-1])
        assert body[:40] not in r.out + r.err
    assert "hunter2" not in r.out + r.err
    mp = d.mounted(2)
    for t in ("ed25519", "ecdsa"):
        k, p = mp / ("etc/ssh/ssh_host_%s_key" % t), mp / ("etc/ssh/ssh_host_%s_key.pub" % t)
        assert k.read_bytes() == (keys.hostdir / k.name).read_bytes()
        assert p.read_bytes() == (keys.hostdir / p.name).read_bytes()
        assert stat.S_IMODE(k.stat().st_mode) == 0o600 and k.stat().st_uid == 0
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
    ak = mp / "root/.ssh/authorized_keys"
    assert stat.S_IMODE(ak.stat().st_mode) == 0o600
    assert stat.S_IMODE((mp / "root/.ssh").stat().st_mode) == 0o700
    text = ak.read_text()
    assert "operator@test" in text and "extra@test" in text
    assert (mp / "etc/hostname").read_text() == "newhost\n"
    c = mp / "etc/app/app.conf"
    assert c.read_text() == "token=hunter2-not-shown\n"
    assert stat.S_IMODE(c.stat().st_mode) == 0o640
    assert stat.S_IMODE((mp / "etc/app").stat().st_mode) == 0o755
    assert stat.S_IMODE((mp / "opt/deep/dir/secret").stat().st_mode) == 0o400
    # no cloud-init in this image: no seed
    assert not (mp / "var/lib/cloud").exists()


def test_existing_authorized_keys_are_kept(run_reimage, disk, keys):
    def has_keys(root):
        (root / "root/.ssh").mkdir(mode=0o700)
        (root / "root/.ssh/authorized_keys").write_text(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdG7KXoSyYVjZ8v5wU4OQYf1e7U0R2aD2j0e0Xf0a5b image@key\n")
    d = disk("ext4", 40, 100, setup=has_keys)
    r = configure(run_reimage, d, "--keep-authorized-keys", env=keys.env)
    assert r.rc == 0, r.err
    text = (d.mounted(2) / "root/.ssh/authorized_keys").read_text()
    assert "image@key" in text and "operator@test" in text
    assert text.count("operator@test") == 1


JOB_NET = """\
src = http://192.0.2.9/image.raw
dst = /dev/vda
net-mac = 52:54:00:12:34:56
net-ifname = ens3
net-address = 203.0.113.10/32
net-address = 2001:db8::10/64
net-gateway = 203.0.113.1
net-gateway = 2001:db8::1
net-dns = 192.0.2.53
keep-network = yes
hostname = static-host
"""


def networked(root):
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    os.symlink("/lib/systemd/system/systemd-networkd.service",
               wants / "systemd-networkd.service")
    (root / "etc/network").mkdir()
    (root / "etc/network/interfaces").write_text("source /etc/network/interfaces.d/*\n")
    (root / "sbin").mkdir()
    (root / "sbin/ifup").write_text("#!/bin/sh\n")
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/NetworkManager").write_text("")


def test_network_for_networkd_ifupdown_and_networkmanager(run_reimage, disk, tmp_path):
    """The flasher's view: a job file and an empty identity directory."""
    d = disk("ext4", 40, 100, setup=networked)
    job = tmp_path / "job.conf"
    job.write_text(JOB_NET)
    idir = tmp_path / "identity"
    idir.mkdir()
    r = run_reimage("configure", d.path, "--yes", "--job", job, "--identity-dir", idir)
    assert r.rc == 0, r.err
    mp = d.mounted(2)
    nd = (mp / "etc/systemd/network/10-reimage.network").read_text()
    assert "MACAddress=52:54:00:12:34:56" in nd
    assert "Address=203.0.113.10/32" in nd and "Address=2001:db8::10/64" in nd
    # a /32 address: the gateway is outside every prefix and must be on-link
    assert "Gateway=203.0.113.1\nGatewayOnLink=yes" in nd
    assert "Gateway=2001:db8::1\n" in nd and "DNS=192.0.2.53" in nd
    ifu = (mp / "etc/network/interfaces.d/reimage").read_text()
    assert "auto ens3\niface ens3 inet static\n    address 203.0.113.10/32" in ifu
    assert "post-up ip -4 route add default via 203.0.113.1 dev ens3" in ifu
    assert "iface ens3 inet6 static\n    address 2001:db8::10/64\n    gateway 2001:db8::1" in ifu
    nm = mp / "etc/NetworkManager/system-connections/reimage.nmconnection"
    assert stat.S_IMODE(nm.stat().st_mode) == 0o600
    t = nm.read_text()
    assert "mac-address=52:54:00:12:34:56" in t and "address1=203.0.113.10/32" in t
    assert "gateway=203.0.113.1" in t and "dns=192.0.2.53;" in t
    assert (mp / "etc/hostname").read_text() == "static-host\n"


def test_keep_network_without_anything_to_use_it_is_refused(run_reimage, disk, tmp_path):
    d = disk("ext4", 40, 100)
    job = tmp_path / "job.conf"
    job.write_text(JOB_NET)
    before = d.sha()
    r = run_reimage("configure", d.path, "--yes", "--job", job, "--identity-dir", tmp_path)
    assert r.rc == 1 and "cloud-init" in r.err and "NetworkManager" in r.err
    assert d.sha() == before


def test_cloud_init_gets_a_merged_nocloud_seed(run_reimage, disk, keys, tmp_path):
    def cloudy(root):
        networked(root)
        (root / "usr/bin").mkdir(parents=True)
        (root / "usr/bin/cloud-init").write_text("#!/bin/sh\n")
    d = disk("ext4", 40, 100, setup=cloudy)
    ud = tmp_path / "user-data"
    ud.write_text("#cloud-config\npackages: [htop]\nruncmd:\n  - [touch, /run/operator-was-here]\n")
    md = tmp_path / "meta-data"
    md.write_text("instance-id: old-instance\nlocal-hostname: old\ncustom: kept\n")
    job = tmp_path / "job.conf"
    job.write_text(JOB_NET + "authorized-keys = yes\nssh-host-key = ed25519\n"
                   "cloud-init-user-data = yes\ncloud-init-meta-data = yes\n")
    idir = tmp_path / "identity"
    idir.mkdir()
    shutil.copy(ud, idir / "user-data")
    shutil.copy(md, idir / "meta-data")
    shutil.copy(str(keys.operator) + ".pub", idir / "authorized_keys")
    for n in ("ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"):
        shutil.copy(keys.hostdir / n, idir / n)
    r = run_reimage("configure", d.path, "--yes", "--job", job, "--identity-dir", idir)
    assert r.rc == 0, r.err
    mp = d.mounted(2)
    seed = mp / "var/lib/cloud/seed/nocloud"
    meta = (seed / "meta-data").read_text()
    assert "old-instance" not in meta and "instance-id: \"reimage-" in meta
    assert "custom: kept" in meta and 'local-hostname: "static-host"' in meta
    user = (seed / "user-data").read_text()
    assert user.startswith("Content-Type: multipart/mixed")
    assert "packages: [htop]" in user and "Content-Type: text/cloud-config" in user
    assert "ssh_deletekeys: false" in user and "operator@test" in user
    assert "disable_root: false" in user
    net = (seed / "network-config").read_text()
    assert "version: 2" in net and 'macaddress: "52:54:00:12:34:56"' in net
    assert 'set-name: "ens3"' in net and "on-link: true" in net
    assert stat.S_IMODE((seed / "user-data").stat().st_mode) == 0o600
    # cloud-init renders the network itself: no second configuration beside it
    assert not (mp / "etc/systemd/network/10-reimage.network").exists()
    assert not (mp / "etc/network/interfaces.d/reimage").exists()
    # the direct files too
    assert "operator@test" in (mp / "root/.ssh/authorized_keys").read_text()
    assert (mp / "etc/ssh/ssh_host_ed25519_key").read_bytes() == \
        (keys.hostdir / "ssh_host_ed25519_key").read_bytes()


def test_a_second_run_gets_a_fresh_instance_id(run_reimage, disk, tmp_path):
    def cloudy(root):
        (root / "usr/bin").mkdir(parents=True)
        (root / "usr/bin/cloud-init").write_text("#!/bin/sh\n")
    d = disk("ext4", 40, 100, setup=cloudy)
    ids = []
    for _ in range(2):
        r = configure(run_reimage, d, "--hostname", "again")
        assert r.rc == 0, r.err
        mp = d.mounted(2)
        ids.append([l for l in (mp / "var/lib/cloud/seed/nocloud/meta-data").read_text()
                    .splitlines() if l.startswith("instance-id")])
        sh("umount", mp)
    assert ids[0] != ids[1]


def test_missing_identity_file_is_refused_untouched(run_reimage, disk, tmp_path):
    d = disk("ext4", 40, 100)
    job = tmp_path / "job.conf"
    job.write_text("src = http://192.0.2.9/i\ndst = /dev/vda\ncopy = 0600 /etc/x\n")
    before = d.sha()
    r = run_reimage("configure", d.path, "--yes", "--job", job, "--identity-dir", tmp_path)
    assert r.rc == 1 and "copy-0" in r.err and "preparing the files" in r.err
    assert d.sha() == before


@pytest.mark.parametrize("args,msg", [
    (["--copy", "/etc/hostname:relative/path"], "absolute path"),
    (["--copy", "/etc/hostname:/etc/../x"], "absolute path"),
    (["--copy", "/nonexistent:/etc/x"], "not a regular file"),
    (["--copy", "/etc/hostname:/etc/x:999"], "octal"),
    (["--hostname", "bad_name"], "host name"),
])
def test_bad_options_are_refused_before_anything(run_reimage, disk, args, msg):
    d = disk("ext4", 40, 100)
    before = d.sha()
    r = configure(run_reimage, d, *args)
    assert r.rc == 2 and msg in r.err, r.err
    assert d.sha() == before
