"""Secrets under QEMU: reimage go in a running system fetches its image over https with a CA,
a client certificate and key, a bearer header, and a password and token in the URL.
Everything must work, and none of the secrets may show up in any output channel."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_hold import hold_root  # noqa: F401 (a fixture)
from vmlib import start_nginx

pytestmark = pytest.mark.e2e

TOKEN = "tok-8d1f5c0e7a2b49e6"
COPIED = "copied-9b4e1f7a3c2d5068"
BEARER = "bearer-3f9a0c6d2e8b41a7"
PASSWORD = "pw-5e2c9b7a1d4f8063"


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + [str(a) for a in args], cwd=cwd, check=True,
                   capture_output=True)


def make_pki(d):
    """A CA, a server certificate for the guest's view of the host (10.0.2.2) and a client
    certificate the server requires."""
    d.mkdir()
    (d / "ext.cnf").write_text(
        "[server]\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:10.0.2.2\n"
        "[client]\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n")
    _openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj",
             "/CN=reimage e2e CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    for name, ext in (("server", "server"), ("client", "client")):
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", name + ".crt", "-days", "30", "-extfile", "ext.cnf",
                 "-extensions", ext, cwd=d)
    return d


def make_system_image(path):
    """A 24 MiB GPT disk with an ext4 root (the x86-64 root type) holding /etc/os-release: a
    system the flasher can configure (host keys, copied files)."""
    tree = path.parent / "sys-root"
    (tree / "etc" / "ssh").mkdir(parents=True)
    (tree / "etc" / "os-release").write_text("ID=debian\n")
    root = path.parent / "sys-root.img"
    subprocess.run(["truncate", "-s", "20M", str(root)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), str(root)], check=True)
    subprocess.run(["truncate", "-s", "24M", str(path)], check=True)
    subprocess.run(["sfdisk", "-q", str(path)], check=True, text=True,
                   input="label: gpt\nstart=2048, size=20M, "
                         "type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\n")
    subprocess.run(["dd", "if=%s" % root, "of=%s" % path, "bs=1M", "seek=1", "conv=notrunc",
                    "status=none"], check=True)
    return path


@pytest.fixture
def tls_server(tmp_path, images):
    """nginx on 127.0.0.1 with TLS and a required client certificate; logs the
    Authorization header and the query so the test can see the secrets arrived."""
    pki = make_pki(tmp_path / "pki")
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="reimage-e2e-tls-"))  # workers (nobody) must read it
    www = base / "www"
    www.mkdir(parents=True)
    shutil.copy(images.paths["zstd"], www / "disk.img.zst")
    make_system_image(www / "system.img")
    for p in (base, www, www / "disk.img.zst", www / "system.img"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    proc, port = start_nginx(
        base, www, listen_extra=" ssl",
        http_extra="log_format main '$request \"$http_authorization\" $ssl_client_s_dn';",
        server_extra="ssl_certificate {p}/server.crt; ssl_certificate_key {p}/server.key; "
                     "ssl_verify_client on; ssl_client_certificate {p}/ca.crt;".format(p=pki))
    yield pki, base, port
    proc.terminate()
    proc.wait()
    shutil.rmtree(base, ignore_errors=True)


def test_every_channel_of_a_go_run_is_clean(tls_server, kernel, hold_root, nginx, served, images,
                                           tmp_path):
    """reimage go with every kind of secret (URL password and token, bearer header, TLS client
    key), in hold mode so that the test can log in to the flasher afterwards and look at every
    channel: the console, the kernel log (dmesg), /proc/cmdline, the flasher's files (its whole
    root and /run), `reimage status`, and the --json events of a `reimage flash` run in the
    flasher with a header and a URL token. The job also keeps the machine's SSH host keys and
    copies a file into the new system: those are secrets too. The secrets must have reached
    the servers (and the new system), and appear nowhere else."""
    from test_hold import free_port, known_hosts, ssh_cmd, ssh_retry, start

    pki, base, port = tls_server
    tree = hold_root["tree"]
    etc = tree / "etc" / "secret-test"
    etc.mkdir(exist_ok=True)
    for f in ("ca.crt", "client.crt", "client.key"):
        shutil.copy(pki / f, etc / f)
    (etc / "headers").write_text("Authorization: Bearer %s\n" % BEARER)
    (etc / "copied").write_text("%s\n" % COPIED)
    key_lines = [l for l in (pki / "client.key").read_text().splitlines()
                 if l and not l.startswith("-----")]
    host_key_lines = [l for p in sorted((tree / "etc" / "ssh").glob("ssh_host_*_key"))
                      for l in p.read_text().splitlines() if l and not l.startswith("-----")]
    assert host_key_lines
    secrets = [TOKEN, BEARER, PASSWORD, COPIED] + key_lines + host_key_lines
    system_sha = hashlib.sha256((base / "www" / "system.img").read_bytes()).hexdigest()
    url = "https://reimage:%s@10.0.2.2:%d/system.img?token=%s" % (PASSWORD, port, TOKEN)
    ssh_port = free_port()
    v = start(kernel, hold_root, tmp_path,
              "modprobe virtio_rng; reimage go '%s' --to /dev/nvme0n1 --sha256 %s "
              "--header-file /etc/secret-test/headers --cacert /etc/secret-test/ca.crt "
              "--client-cert /etc/secret-test/client.crt "
              "--client-key /etc/secret-test/client.key --hold --hold-timeout 10m --yes "
              "--keep-ssh-host-keys --copy /etc/secret-test/copied:/etc/copied:0600"
              % (url, system_sha),
              hostfwd=["tcp:127.0.0.1:%d-:22" % ssh_port])
    try:
        known = known_hosts(tmp_path, ssh_port, 
                            tree / "etc" / "ssh" / "ssh_host_ed25519_key.pub")
        ssh = ssh_cmd(hold_root, ssh_port, known)
        v.wait_console(r"the image was written and verified; inspect it", 600)
        assert "tls:      CA certificates from /etc/secret-test/ca.crt, client certificate " \
               "/etc/secret-test/client.crt (key ***)" in v.text()

        def run(cmd):
            return ssh_retry(ssh, cmd, timeout=300, until_ok=False)

        status = run("reimage status")
        assert status.returncode == 0, status.stderr
        assert "written:  /dev/nvme0n1" in status.stdout
        # the identity went into the new system, and its files left the flasher's RAM
        new = run("mkdir -p /tmp/new && mount -o ro /dev/nvme0n1p1 /tmp/new && "
                  "cat /tmp/new/etc/copied && ls -l /tmp/new/etc/ssh && umount /tmp/new; "
                  "ls /etc/reimage/identity")
        assert COPIED in new.stdout and "ssh_host_ed25519_key" in new.stdout, new.stdout + new.stderr
        assert "No such file" in new.stderr, "the identity files are still in the flasher"
        dmesg = run("dmesg")
        assert dmesg.returncode == 0 and "reimage: flasher started" in dmesg.stdout
        cmdline = run("cat /proc/cmdline")
        assert cmdline.returncode == 0 and "init_on_free=1" in cmdline.stdout
        # every regular file of the flasher's root file system and of /run
        files = run("find / -xdev -type f > /tmp/all; find /run -type f >> /tmp/all; "
                    "wc -l < /tmp/all; echo CONTROL; xargs grep -l -F -e 'root:x:0:0' < /tmp/all; "
                    "echo SECRETS; for s in %s; do xargs grep -l -F -e \"$s\" < /tmp/all; "
                    "done; echo GREP-DONE" % " ".join("'%s'" % s for s in secrets))
        assert "GREP-DONE" in files.stdout, files.stderr
        count, rest = files.stdout.split("CONTROL", 1)
        control, found = rest.split("SECRETS", 1)
        assert int(count) > 30, "the file list looks too short"
        # the search works (it finds what is there) ...
        assert "/etc/passwd" in control, control
        # ... and no file holds a secret
        assert found.strip() == "GREP-DONE", "files holding a secret: %s" % found
        jobfile = run("ls /etc/reimage/job.conf")
        assert jobfile.returncode != 0, "the job file is still in the flasher"
        # the --json events of a reimage flash in the flasher, with a header and URL secrets
        plain = "http://reimage:%s@10.0.2.2:%d/%s?token=%s" % (
            PASSWORD, nginx.port, served["zstd"], TOKEN)
        js = run("reimage flash --json --sha256 %s --header 'Authorization: Bearer %s' '%s' "
                 "/dev/nvme0n1" % (images.sha("zstd"), BEARER, plain))
        assert js.returncode == 0, js.stdout + js.stderr
        events = [json.loads(l) for l in js.stdout.splitlines() if l.startswith("{")]
        assert events and events[-1].get("event") == "done", js.stdout[-2000:]

        r = run("reimage done poweroff")
        assert r.returncode in (0, 255), r.stderr
        assert v.wait_exit(180) == 0
        console = v.text()
        # the secrets arrived where they were meant to go
        log = (base / "access.log").read_text()
        assert "Bearer " + BEARER in log and "token=" + TOKEN in log and "CN=client" in log
        # ... and nowhere else
        channels = {"console": console, "dmesg": dmesg.stdout, "/proc/cmdline": cmdline.stdout,
                    "reimage status": status.stdout, "files": files.stdout,
                    "--json events": js.stdout + js.stderr}
        for name, text in channels.items():
            for s in secrets:
                assert s not in text, "a secret (%r) reached %s" % (s[:12], name)
        assert "configure: wrote /etc/copied" in console
        with open(v.disk, "rb") as f:
            assert hashlib.sha256(f.read(images.size)).hexdigest() == images.sha256
    finally:
        v.stop()
