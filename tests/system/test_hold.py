"""Hold mode on the host: what `reimage go --hold --dry-run` and `reimage initrd --hold` put
into the flasher (dropbear, a shell, the operators' keys and the converted host keys in the
0600 archive), the fingerprints in the plan, refusals, and `reimage status` / `reimage done`
outside a flasher. Booting a hold is in tests/e2e/test_hold.py.

Every key here is made by the test in a temporary directory; REIMAGE_SSH_HOST_KEY_DIR and
REIMAGE_AUTHORIZED_KEYS keep reimage away from this machine's own keys."""

import json
import os
import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("dropbearconvert") or not shutil.which("ssh-keygen"),
                                reason="needs dropbear-bin and openssh-client (scripts/install-deps)")


def keygen(path, kind, comment):
    args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(path)]
    if kind == "rsa":
        args[4:4] = ["-b", "2048"]
    subprocess.run(args, check=True)


def fingerprint(pub):
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


@pytest.fixture
def keys(tmp_path):
    """Host keys in OpenSSH format (as in /etc/ssh) and two operators' authorized_keys files."""
    hk = tmp_path / "etc-ssh"
    hk.mkdir()
    for kind in ("ed25519", "ecdsa", "rsa"):
        keygen(hk / ("ssh_host_%s_key" % kind), kind, "root@old-system")
    keygen(tmp_path / "alice", "ed25519", "alice@laptop")
    keygen(tmp_path / "bob", "ecdsa", "bob@desk")
    root_keys = tmp_path / "root_authorized_keys"
    root_keys.write_text("# root\n%s\nnot a key\n" % (tmp_path / "alice.pub").read_text().strip())
    # alice again (deduplicated) and bob
    extra = tmp_path / "extra_keys"
    extra.write_text((tmp_path / "alice.pub").read_text() + (tmp_path / "bob.pub").read_text())
    return dict(host_dir=hk, root_keys=root_keys, extra=extra, tmp=tmp_path)


def env_for(keys, host_dir=None, authorized=None):
    env = dict(os.environ)
    env["REIMAGE_SSH_HOST_KEY_DIR"] = str(host_dir or keys["host_dir"])
    env["REIMAGE_AUTHORIZED_KEYS"] = str(keys["root_keys"]) if authorized is None else authorized
    env.pop("SUDO_USER", None)
    return env


def listing(run_reimage, path):
    r = run_reimage("initrd", "--list", str(path))
    assert r.rc == 0, r.err
    return r.out


def members(text):
    """{member number: [lines]} of a --list output."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"# member (\d+)", line)
        if m:
            cur = int(m.group(1))
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def test_go_hold_dry_run_plan_and_flasher(run_reimage, keys, tmp_path):
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"\0" * 4096)  # a dry run never loads it
    saved = tmp_path / "flasher.img"
    r = run_reimage("go", "--hold", "--hold-timeout", "20s", "--ssh-port", "2222",
                    "--authorized-keys", keys["extra"], "--kernel", kernel, "--dry-run",
                    "--no-carry-network", "--save-initrd", saved, env=env_for(keys), timeout=180)
    assert r.rc == 0, r.err
    assert "source:   none: the flasher holds" in r.out
    assert re.search(r"hold: +SSH on port 2222 .*nothing written after 20s it reboots", r.out), r.out
    # two keys: alice (from both files, once) and bob; the bad line is named
    assert "2 authorized keys (alice@laptop, bob@desk)" in r.out
    assert re.search(r"root_authorized_keys line 3: not a public key line, skipped", r.err)
    for kind, typ in (("ed25519", "ssh-ed25519"), ("ecdsa", "ecdsa-sha2-nistp256"),
                      ("rsa", "ssh-rsa")):
        fp = fingerprint(keys["host_dir"] / ("ssh_host_%s_key.pub" % kind))
        assert "host key %s %s (converted from OpenSSH" % (typ, fp) in r.out, r.out
    assert "then:     hold" in r.out
    assert "dry run: nothing was loaded" in r.out
    assert oct(os.stat(saved).st_mode & 0o777) == "0o600"

    m = members(listing(run_reimage, saved))
    main, secret = "\n".join(m[0]), "\n".join(m[1])
    for entry in ("usr/sbin/dropbear", "bin/busybox", "bin/sh", "etc/passwd", "etc/shells",
                  "libtomcrypt.so", "usr/bin/reimage", "dev/pts"):
        assert entry in main, "%s missing from the main archive:\n%s" % (entry, main)
    # secrets only in the 0600 archive
    for entry in ("-0600", "root/.ssh/authorized_keys", "etc/dropbear/dropbear_ed25519_host_key",
                  "etc/dropbear/dropbear_ecdsa_host_key", "etc/dropbear/dropbear_rsa_host_key",
                  "etc/reimage/job.conf"):
        assert entry in secret, "%s missing from the job archive:\n%s" % (entry, secret)
    assert "authorized_keys" not in main and "host_key" not in main
    # the private keys are in dropbear's format, not copies of the OpenSSH files
    data = saved.read_bytes()
    assert b"OPENSSH PRIVATE KEY" not in data
    assert b"hold = yes" in data and b"ssh-port = 2222" in data and b"hold-timeout = 20.000" in data


def test_initrd_hold_without_host_keys_makes_a_new_one(run_reimage, keys, tmp_path):
    empty = tmp_path / "no-keys"
    empty.mkdir()
    out = tmp_path / "f.img"
    r = run_reimage("initrd", "-o", out, "--modules", "none", "--hold",
                    env=env_for(keys, host_dir=empty), timeout=120)
    assert r.rc == 0, r.err
    assert re.search(r"host key:  ssh-ed25519 SHA256:[A-Za-z0-9+/]{43} \(new\)", r.out), r.out
    assert "1 authorized keys from %s" % keys["root_keys"] in r.out
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    # nothing is left behind in the private directory
    assert not [p for p in os.listdir("/run") if p.startswith("reimage-go.")]


def test_hold_refuses_without_keys(run_reimage, keys, tmp_path):
    r = run_reimage("initrd", "-o", tmp_path / "f.img", "--modules", "none", "--hold",
                    env=env_for(keys, authorized=str(tmp_path / "missing")), timeout=60)
    assert r.rc == 2
    assert "hold mode needs at least one SSH public key" in r.err
    assert "--authorized-keys FILE" in r.err
    assert not (tmp_path / "f.img").exists()
    r = run_reimage("initrd", "-o", tmp_path / "f.img", "--modules", "none", "--hold",
                    "--authorized-keys", tmp_path / "nope", env=env_for(keys), timeout=60)
    assert r.rc != 0 and "cannot read the authorized keys file" in r.err


@pytest.mark.parametrize("args,want", [
    (["--hold", "--then", "reboot"], "--then does not go with --hold"),
    (["--ssh-port", "22"], "go with --hold"),
    (["--hold", "--ssh-port", "0"], "--ssh-port wants a TCP port"),
    (["--hold", "--hold-timeout", "soon"], "--hold-timeout wants a duration"),
    (["http://127.0.0.1:9/x.img"], "missing --to DISK"),
    # options that describe a source, without one
    (["--hold", "--sha256", "0" * 64], "describe SRC: give SRC, or leave them out"),
    (["--hold", "--sums", "/nonexistent/SHA256SUMS"], "describe SRC"),
    (["--hold", "--insecure"], "describe SRC"),
])
def test_go_hold_usage_errors(run_reimage, keys, args, want):
    r = run_reimage("go", *args, "--dry-run", env=env_for(keys))
    assert r.rc == 2, r.err
    assert want in r.err


def test_status_and_done_outside_a_flasher(run_reimage):
    r = run_reimage("status")
    assert r.rc == 1 and "not inside a reimage flasher" in r.err
    r = run_reimage("done", "reboot")
    assert r.rc == 1 and "not a reimage flasher in hold mode" in r.err
    r = run_reimage("done", "sideways")
    assert r.rc == 2 and "expected reboot, poweroff or kexec" in r.err
    r = run_reimage("done", "reboot", "/dev/null")
    assert r.rc == 2 and "only 'kexec' takes a disk" in r.err


def test_go_dry_run_json_plan(run_reimage, keys, tmp_path):
    """go --dry-run --json: the plan as one JSON object on stdout, the rest on stderr."""
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"\0" * 4096)  # a dry run never loads it
    r = run_reimage("go", "--hold", "--hold-timeout", "20s", "--ssh-port", "2222",
                    "--authorized-keys", keys["extra"], "--kernel", kernel, "--dry-run",
                    "--no-carry-network", "--json", env=env_for(keys), timeout=180)
    assert r.rc == 0, r.err
    plan = json.loads(r.out)  # nothing but the document on stdout
    assert plan["command"] == "go" and plan["dry_run"] is True and plan["loaded"] is False
    assert plan["source"] == {"url": None} and plan["target"] is None
    assert plan["kernel"]["path"] == str(kernel)
    assert plan["then"] == "hold"
    assert plan["hold"]["ssh_port"] == 2222 and plan["hold"]["timeout_seconds"] == 20
    assert plan["hold"]["authorized_keys"] == 2
    types = {k["type"] for k in plan["hold"]["host_keys"]}
    assert types == {"ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"}
    assert plan["flasher"]["size"] > 0 and plan["flasher"]["unpacked"] > plan["flasher"]["size"]
    assert plan["network"].startswith("DHCP") and "(--no-carry-network)" in plan["network"]
    assert "panic=10" in plan["cmdline"]
    assert "dry run: nothing was loaded" in r.err
