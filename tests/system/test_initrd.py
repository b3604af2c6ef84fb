"""reimage initrd: contents, job archive and its mode, every compression readable by --list,
reproducible output, bad jobs refused. (Booting the result is in tests/e2e.)"""

import json
import os
import re
import stat
import subprocess

import pytest


def build(run_reimage, out, *args, env=None):
    # xz -9 of the whole flasher takes about 10 s of CPU; give a loaded machine room
    return run_reimage("initrd", "-o", str(out), "--modules", "none", *map(str, args), env=env,
                       timeout=300)


def listing(run_reimage, path):
    r = run_reimage("initrd", "--list", str(path))
    assert r.rc == 0, r.err
    return r.out


@pytest.mark.parametrize("comp", ["zstd", "xz", "gzip", "none"])
def test_contents_and_compressions(comp, run_reimage, tmp_path):
    out = tmp_path / "flasher.img"
    r = build(run_reimage, out, "--compression", comp)
    assert r.rc == 0, r.err
    assert re.search(r"binary .*\n\s+libraries", r.out), r.out
    text = listing(run_reimage, out)
    assert "# member 0 (%s)" % comp in text
    for entry in ("-0755 ", " init\n", "c0600    5,1    dev/console", "l0777 ",
                  "etc/ssl/certs/ca-certificates.crt", "ld-linux-x86-64.so.2", "libc.so.6",
                  "libcurl.so.4"):
        assert entry in text, "%r missing from:\n%s" % (entry, text)
    # directories come before what they contain
    names = [l.split()[-1] for l in text.splitlines() if not l.startswith("#")]
    for i, n in enumerate(names):
        parent = n.rsplit("/", 1)[0] if "/" in n else None
        if parent:
            assert parent in names[:i], "%s listed before its directory" % n
    # the kernel's xz decoder only knows CRC32; the file must say so in its stream flags
    if comp == "xz":
        data = out.read_bytes()
        assert data[:6] == b"\xfd7zXZ\x00" and data[7] == 0x01, "xz check is not CRC32"


def test_job_archive_is_separate_and_private(run_reimage, tmp_path):
    out = tmp_path / "flasher.img"
    r = build(run_reimage, out, "--src", "https://h/img.zst", "--dst", "/dev/vda",
              "--header", "Authorization: Bearer TOPSECRET99")
    assert r.rc == 0, r.err
    assert "TOPSECRET99" not in r.out + r.err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    text = listing(run_reimage, out)
    assert "# member 1 (none)" in text
    member1 = text.split("# member 1 (none)")[1]
    assert "-0600       " in member1 and "etc/reimage/job.conf" in member1
    assert "job.conf" not in text.split("# member 1")[0]


def test_reproducible(run_reimage, tmp_path):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    a, b = tmp_path / "a.img", tmp_path / "b.img"
    assert build(run_reimage, a, "--src", "https://h/x", "--dst", "/dev/sda", env=env).rc == 0
    assert build(run_reimage, b, "--src", "https://h/x", "--dst", "/dev/sda", env=env).rc == 0
    assert a.read_bytes() == b.read_bytes()


def test_include_adds_program_with_libraries(run_reimage, tmp_path):
    out = tmp_path / "flasher.img"
    r = build(run_reimage, out, "--include", "/usr/bin/kmod")
    assert r.rc == 0, r.err
    text = listing(run_reimage, out)
    assert "usr/bin/kmod" in text and "libkmod.so.2" in text


def test_bad_job_refused(run_reimage, tmp_path):
    job = tmp_path / "job.conf"
    job.write_text("src = https://h/x\ndst = /dev/sda\nthen = explode\n")
    out = tmp_path / "flasher.img"
    r = build(run_reimage, out, "--job", job)
    assert r.rc == 2, r.err
    assert "line 3" in r.err and "reboot, poweroff, hold or kexec" in r.err
    assert not out.exists()
    r = build(run_reimage, out, "--job", job, "--src", "https://h/y")
    assert r.rc == 2 and "not both" in r.err


def test_list_refuses_garbage(run_reimage, tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"this is not an initramfs" * 10)
    r = run_reimage("initrd", "--list", str(junk))
    assert r.rc == 5 and "not a readable initramfs" in r.err  # corrupt data, reimage(1)


def _job_text(path):
    """The job file from the flasher's uncompressed second member (newc)."""
    data = path.read_bytes()
    i = data.index(b"etc/reimage/job.conf\0")
    hdr = data[data.rindex(b"070701", 0, i):i]
    size = int(hdr[54:62], 16)
    start = (i + len("etc/reimage/job.conf") + 1 + 3) & ~3
    return data[start:start + size].decode()


def test_tls_options_go_into_the_job(run_reimage, tmp_path):
    """--cacert/--client-cert/--client-key/--pin travel as PEM text in the 0600 job; the
    file names do not matter to the flasher, and the key counts as a secret."""
    pem = lambda kind, body: "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (kind, body, kind)
    ca, cert, key = tmp_path / "ca.pem", tmp_path / "c.pem", tmp_path / "k.pem"
    ca.write_text(pem("CERTIFICATE", "Q0EtQ0VSVA=="))
    cert.write_text(pem("CERTIFICATE", "Q0xJRU5U"))
    key.write_text(pem("PRIVATE KEY", "S0VZLVNFQ1JFVC0xMjM0NTY="))
    out = tmp_path / "flasher.img"
    pin = "sha256//" + "A" * 43 + "="
    r = build(run_reimage, out, "--src", "https://h/img.zst", "--dst", "/dev/vda", "--cacert", ca,
              "--client-cert", cert, "--client-key", key, "--pin", pin)
    assert r.rc == 0, r.err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    job = _job_text(out)
    assert "tls-cacert = Q0EtQ0VSVA==" in job
    assert "tls-client-key = S0VZLVNFQ1JFVC0xMjM0NTY=" in job
    assert "tls-pin = " + pin in job
    assert str(tmp_path) not in job
    # what goes wrong is said before anything is built
    r = build(run_reimage, out, "--src", "https://h/i", "--dst", "/dev/vda", "--client-key", key)
    assert r.rc != 0 and "go together" in r.err
    der = tmp_path / "ca.der"
    der.write_bytes(b"\x30\x82\x01\x0a" + bytes(200))
    r = build(run_reimage, out, "--src", "https://h/i", "--dst", "/dev/vda", "--cacert", der)
    assert r.rc != 0 and "is not PEM text" in r.err
    r = build(run_reimage, out, "--cacert", ca)
    assert r.rc != 0 and "belong to a job" in r.err


def test_identity_options_go_into_the_job_archive(run_reimage, tmp_path):
    """--hostname, --ssh-authorized-keys, --copy, --cloud-init-*, --grow: job keys, and the
    files in the 0600 archive under etc/reimage/identity (never in the job text)."""
    src = tmp_path / "app.conf"
    src.write_text("token=identity-secret-42\n")
    keys = tmp_path / "keys.pub"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "op@initrd", "-f",
                    str(tmp_path / "keys")], check=True)
    ud = tmp_path / "ud"
    ud.write_text("#cloud-config\n")
    out = tmp_path / "flasher.img"
    r = build(run_reimage, out, "--src", "https://h/img.zst", "--dst", "/dev/vda",
              "--hostname", "web-7", "--ssh-authorized-keys", keys, "--copy",
              "%s:/etc/app.conf:0640" % src, "--cloud-init-user-data", ud, "--grow")
    assert r.rc == 0, r.err
    assert "identity-secret-42" not in r.out + r.err
    job = _job_text(out)
    for line in ("hostname = web-7", "authorized-keys = yes", "copy = 0640 /etc/app.conf",
                 "cloud-init-user-data = yes", "grow = yes"):
        assert line + "\n" in job, job
    assert "identity-secret-42" not in job
    member1 = listing(run_reimage, out).split("# member 1 (none)")[1]
    for name in ("etc/reimage/identity\n", "etc/reimage/identity/copy-0",
                 "etc/reimage/identity/authorized_keys", "etc/reimage/identity/user-data"):
        assert name in member1, member1
    assert "d0700" in member1 and "-0600        25 etc/reimage/identity/copy-0" in member1
    # without a job there is no new system to configure
    r = build(run_reimage, out, "--hostname", "web-7")
    assert r.rc != 0 and "--src and --dst" in r.err
    r = build(run_reimage, out, "--src", "https://h/i", "--dst", "/dev/vda", "--copy",
              "%s:etc/x" % src)
    assert r.rc != 0 and "absolute path" in r.err


@pytest.mark.loop
def test_go_json_plan_lists_the_new_system_and_the_loader(run_reimage, loopdev, nginx, served,
                                                          images, tmp_path):
    """go --dry-run --json carries what the text plan says of the configure step (host key
    fingerprints, key comments, name, copies with their sizes and modes, grow) and which
    kexec system call would load the flasher, never a key or a copied file's contents."""
    hostkeys = tmp_path / "hostkeys"
    hostkeys.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kept-host", "-f",
                    str(hostkeys / "ssh_host_ed25519_key")], check=True)
    fp = subprocess.run(["ssh-keygen", "-l", "-f", str(hostkeys / "ssh_host_ed25519_key.pub")],
                        capture_output=True, text=True, check=True).stdout.split()[1]
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "op@json", "-f",
                    str(tmp_path / "op")], check=True)
    src = tmp_path / "app.conf"
    src.write_text("token=json-plan-secret-99\n")
    dev = loopdev(16 * 1024 * 1024, pattern=False)
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"not loaded in a dry run")
    env = dict(os.environ, REIMAGE_SSH_HOST_KEY_DIR=str(hostkeys))
    r = run_reimage("go", nginx.url(served["zstd"]), "--to", dev.path, "--kernel", kernel,
                    "--sha256", images.sha("zstd"), "--dry-run", "--no-carry-network",
                    "--json", "--keep-ssh-host-keys", "--ssh-authorized-keys",
                    tmp_path / "op.pub", "--hostname", "web-7", "--copy",
                    "%s:/etc/app.conf:0640" % src, "--grow", env=env, timeout=180)
    assert r.rc == 0, r.err
    assert "json-plan-secret-99" not in r.out + r.err
    assert "PRIVATE KEY" not in r.out + r.err
    plan = json.loads(r.out)
    new = plan["new_system"]
    assert new["configure"] is True
    assert new["host_keys"] == [{"type": "ssh-ed25519", "fingerprint": fp,
                                 "from": str(hostkeys)}], new
    assert new["authorized_keys"] == ["op@json"], new
    assert new["hostname"] == "web-7" and new["network"] is False and new["grow"] is True
    assert new["copies"] == [{"source": str(src), "destination": "/etc/app.conf",
                              "mode": "0640", "bytes": len(src.read_bytes())}], new
    assert new["cloud_init_user_data"] is False and new["cloud_init_meta_data"] is False
    # the loader: what the text plan says, whether or not this kernel can kexec
    r = run_reimage("go", nginx.url(served["zstd"]), "--to", dev.path, "--kernel", kernel,
                    "--sha256", images.sha("zstd"), "--dry-run", "--no-carry-network",
                    timeout=180)
    assert r.rc == 0, r.err
    text = [l.split(":", 1)[1].strip() for l in r.out.splitlines()
            if l.strip().startswith("loader:")][0]
    loader = plan["loader"]
    if loader["syscall"]:
        assert loader["syscall"] in ("kexec_file_load", "kexec_load") and \
            loader["why_not"] is None and text == loader["syscall"], (loader, text)
    else:
        assert loader["why_not"] and loader["why_not"] in text, (loader, text)
    # without identity options: nothing to configure, and the plan says so
    r = run_reimage("go", nginx.url(served["zstd"]), "--to", dev.path, "--kernel", kernel,
                    "--sha256", images.sha("zstd"), "--dry-run", "--no-carry-network",
                    "--json", timeout=180)
    assert r.rc == 0, r.err
    new = json.loads(r.out)["new_system"]
    assert new["configure"] is False and new["host_keys"] == [] and new["copies"] == []
