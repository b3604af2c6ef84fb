"""reimage bundle: building one, --info from the bundle itself and from reimage, every kind of
damage refused, secrets and file modes, and --dry-run loading nothing. A bundle is never run
here without --info or --dry-run: it would reimage this machine."""

import hashlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

MiB = 1024 * 1024
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SECRET = "bundle-SECRET-t0ken-77"
TRAILER = 160


def running_kernel():
    k = Path("/boot/vmlinuz-" + os.uname().release)
    return k if k.exists() else None


def _vmlib():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "vmlib", Path(__file__).resolve().parents[1] / "e2e" / "vmlib.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cloud_kernel():
    """The e2e tests' Debian kernel, when it is in the cache (a real bzImage with modules)."""
    cache = Path(os.environ.get("REIMAGE_TEST_CACHE", "/var/cache/reimage-test"))
    for root in sorted(cache.glob("sysroot-*")):
        v = root.name[len("sysroot-"):]
        if (root / "boot" / ("vmlinuz-" + v)).exists():
            return root, v
    return None


@pytest.fixture(scope="module")
def kernel_args():
    ck = cloud_kernel()
    if ck:
        root, v = ck
        return ["--kernel", str(root / "boot" / ("vmlinuz-" + v)), "--sysroot", str(root)], v
    # an empty cache is filled (Debian's cloud kernel, as the e2e tests use), never skipped
    try:
        k = _vmlib().fetch_kernel()
        return ["--kernel", str(k.vmlinuz), "--sysroot", str(k.sysroot)], k.version
    except Exception as e:  # no package registry: the running kernel still makes a bundle
        fetch_error = e
    k = running_kernel()
    if k:
        return ["--kernel", str(k)], os.uname().release
    pytest.fail("no x86 kernel to carry: the test cache is empty, fetching Debian's cloud "
                "kernel failed (%s), and /boot has none" % fetch_error)


def bundle(run_reimage, kernel_args, out, *args):
    r = run_reimage("bundle", "-o", str(out), *kernel_args[0], "--modules", "none",
                    *map(str, args), timeout=300)
    return r


@pytest.fixture(scope="module")
def made(kernel_args, reimage_bin, tmp_path_factory):
    """One bundle for /dev/vda, reused by the read-only tests (copies are damaged, not it)."""
    out = tmp_path_factory.mktemp("bundle") / "vda.run"
    r = subprocess.run([reimage_bin, "bundle", "-o", str(out), *kernel_args[0], "--modules",
                        "none", "--src", "http://10.0.2.2:8080/disk.img.zst", "--dst",
                        "/dev/vda", "--sha256", SHA, "--append", "quiet loglevel=4",
                        "--then", "poweroff"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out, r.stdout


def run_bundle(path, *args, timeout=120):
    return subprocess.run([str(path), *args], capture_output=True, text=True, timeout=timeout)


def test_build_output_and_mode(made, kernel_args):
    out, text = made
    assert re.search(r"Wrote .*vda\.run: [\d.]+ MiB, mode 0755", text), text
    assert "loader " in text and "kernel " in text and kernel_args[1] in text
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o755
    data = out.read_bytes()
    m = re.search(r"file +([0-9a-f]{64}) +\(sha256sum", text)
    assert m and m.group(1) == hashlib.sha256(data).hexdigest(), text
    assert data[:4] == b"\x7fELF", "the bundle does not start with the loader"
    assert data[-8:] == b"RIMGBNDL"


def test_info_from_the_bundle_and_from_reimage(made, kernel_args, run_reimage):
    out, _ = made
    r = run_bundle(out, "--info")
    assert r.returncode == 0, r.stderr
    for want in ("reimage bundle (made by reimage", "source:   http://10.0.2.2:8080/disk.img.zst",
                 "SHA-256 " + SHA, "target:   /dev/vda", "then:     poweroff",
                 "kernel:   " + kernel_args[1], "command line additions: quiet loglevel=4",
                 "(verified)"):
        assert want in r.stdout, "%r missing from:\n%s" % (want, r.stdout)
    # the same, without running the file
    r2 = run_reimage("bundle", "--info", str(out))
    assert r2.rc == 0, r2.err
    assert r.stdout.split("  loader:")[0] in r2.out
    assert "sections: loader " in r2.out


def test_help_and_bad_options(made):
    out, _ = made
    r = run_bundle(out, "--help")
    assert r.returncode == 0 and "--dry-run" in r.stdout and "--yes" in r.stdout
    r = run_bundle(out, "--bogus")
    assert r.returncode == 2
    r = run_bundle(out, "--info", "--yes")
    assert r.returncode == 2 and "--info only reads the file" in r.stderr


def damaged_copies(src, tmp_path):
    """(label, path) of copies with one byte changed in each part, or cut short."""
    data = src.read_bytes()
    n = len(data)
    loader_size = int.from_bytes(data[n - TRAILER + 8: n - TRAILER + 16], "little")
    cases = {
        # the end of the loader ELF (its section headers, which nothing executes), and the
        # padding after it: a loader whose own code is damaged may not get to check anything,
        # which is why `reimage bundle --info` exists (see test_damaged_loader_code)
        "loader": loader_size - 10,
        "loader-padding": loader_size + 10,
        "kernel": 200 * 1024,
        "payload-middle": n // 2,
        "flasher-end": n - TRAILER - 600,
        "trailer-offsets": n - TRAILER + 20,
        "trailer-digest": n - TRAILER + 120,
        "trailer-magic": n - 3,
    }
    out = []
    for label, off in cases.items():
        p = tmp_path / ("damaged-" + label)
        b = bytearray(data)
        b[off] ^= 0x01
        p.write_bytes(bytes(b))
        os.chmod(p, 0o755)
        out.append((label, p))
    p = tmp_path / "truncated"
    p.write_bytes(data[: n - 4096])
    os.chmod(p, 0o755)
    out.append(("truncated", p))
    return out


def test_damage_is_detected_by_info_dry_run_and_reimage(made, tmp_path, run_reimage):
    out, _ = made
    for label, p in damaged_copies(out, tmp_path):
        for args in (["--info"], ["--dry-run"]):
            r = run_bundle(p, *args)
            assert r.returncode == 3, "%s %s: rc %d\n%s%s" % (label, args, r.returncode,
                                                            r.stdout, r.stderr)
            assert re.search(r"corrupted|cut short|not a reimage bundle", r.stderr), \
                "%s: %s" % (label, r.stderr)
            assert "plan" not in r.stdout, "%s: a damaged bundle showed its plan" % label
        r = run_reimage("bundle", "--info", str(p))
        assert r.rc == 3, "%s: %s" % (label, r.err)
    # a damaged bundle says so plainly
    r = run_bundle(tmp_path / "damaged-payload-middle", "--info")
    assert "SHA-256 of its contents does not match" in r.stderr
    r = run_bundle(tmp_path / "truncated", "--info")
    assert "cut short" in r.stderr


def test_damaged_loader_code(made, tmp_path, run_reimage):
    """reimage reads a bundle without running it, so it sees damage to the loader's code."""
    out, _ = made
    b = bytearray(out.read_bytes())
    b[1000] ^= 0xff
    p = tmp_path / "damaged-code"
    p.write_bytes(bytes(b))
    r = run_reimage("bundle", "--info", str(p))
    assert r.rc == 3 and "corrupted" in r.err


def test_not_a_bundle(reimage_bin, tmp_path, run_reimage):
    loader = Path(reimage_bin).parent / "reimage-bundle-loader"
    p = tmp_path / "bare-loader"
    shutil.copy2(loader, p)
    r = run_bundle(p, "--info")
    assert r.returncode == 3
    assert "not a reimage bundle" in r.stderr
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello\n" * 100)
    r = run_reimage("bundle", "--info", str(junk))
    assert r.rc == 3 and "not a reimage bundle" in r.err


def kexec_loaded():
    try:
        return Path("/sys/kernel/kexec_loaded").read_text().strip()
    except FileNotFoundError:
        return None


def test_dry_run_loads_nothing(made):
    """As root: everything is checked and shown, nothing is loaded. Whether this machine could
    kexec decides the exit status (0, or 4 with the reason), never a load."""
    out, _ = made
    before = kexec_loaded()
    assert before in (None, "0"), "a kexec image is loaded on this machine already"
    r = run_bundle(out, "--dry-run")
    assert kexec_loaded() == before
    assert "(verified)" in r.stdout
    assert "on this machine" in r.stdout
    assert "command line: " in r.stdout and "panic=10 init_on_free=1 printk.devkmsg=on quiet loglevel=4" in r.stdout
    if os.path.exists("/dev/vda"):
        assert "target:   /dev/vda: " in r.stdout
    if r.returncode == 0:
        assert "kexec:    kexec_file_load" in r.stdout
        assert "dry run: verified and checked; nothing was loaded" in r.stdout
    else:
        assert r.returncode == 4, r.stderr
        assert "this machine cannot run this bundle" in r.stderr
        assert "nothing was loaded" in r.stderr


def test_missing_target_is_refused(run_reimage, kernel_args, tmp_path):
    out = tmp_path / "nodisk.run"
    r = bundle(run_reimage, kernel_args, out, "--src", "http://h/img", "--dst", "/dev/nvme9n9")
    assert r.rc == 0, r.err
    before = kexec_loaded()
    p = run_bundle(out, "--dry-run")
    assert kexec_loaded() == before
    assert p.returncode == 4
    assert "the target /dev/nvme9n9 does not exist on this machine" in p.stderr
    assert "nothing was loaded" in p.stderr


def test_not_root_is_refused(made, tmp_path):
    out, _ = made
    p = tmp_path / "copy.run"
    shutil.copy2(out, p)
    os.chmod(tmp_path, 0o755)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(p),
                        "--yes"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 4, r.stderr
    assert "run it as root" in r.stderr
    # --info works for anyone
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(p),
                        "--info"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_secrets_make_it_private_and_never_show(run_reimage, kernel_args, tmp_path):
    out = tmp_path / "secret.run"
    r = bundle(run_reimage, kernel_args, out, "--src", "https://h/img.zst?token=" + SECRET,
               "--dst", "/dev/vda", "--header", "Authorization: Bearer " + SECRET)
    assert r.rc == 0, r.err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
    assert "0700 (the job holds secrets)" in r.out
    assert SECRET not in r.out + r.err
    i = run_bundle(out, "--info")
    assert i.returncode == 0, i.stderr
    assert SECRET not in i.stdout + i.stderr
    assert "headers:  1 (values: ***)" in i.stdout
    assert "token=***" in i.stdout


def test_build_refusals(run_reimage, kernel_args, tmp_path):
    out = tmp_path / "x.run"
    r = bundle(run_reimage, kernel_args, out)
    assert r.rc == 2 and "a bundle needs a job" in r.err
    r = bundle(run_reimage, kernel_args, out, "--src", "http://h/i", "--dst", "vda")
    assert r.rc == 2 and "must be a device path" in r.err
    r = run_reimage("bundle", "-o", str(out), "--kernel", "/etc/hostname", "--src", "http://h/i",
                    "--dst", "/dev/vda")
    assert r.rc == 1 and "is neither an x86 bzImage nor an arm64 Image" in r.err
    r = bundle(run_reimage, kernel_args, out, "--src", "http://h/i", "--dst", "/dev/vda",
               "--kernel-version", "9.9.9-nope")
    assert r.rc == 2 and "modules must match the kernel" in r.err
    r = run_reimage("bundle", "-o", str(out), *kernel_args[0], "--modules", "none",
                    "--src", "http://h/i", "--dst", "/dev/vda", "--loader", "/etc/hostname")
    assert r.rc == 1 and "not a static x86_64 program" in r.err
    assert not out.exists()


def test_build_is_reproducible(run_reimage, kernel_args, tmp_path):
    a, b = tmp_path / "a.run", tmp_path / "b.run"
    for p in (a, b):
        r = bundle(run_reimage, kernel_args, p, "--src", "http://h/i", "--dst", "/dev/vda")
        assert r.rc == 0, r.err
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.loop
def test_bundle_reads_the_image_header_when_built(run_reimage, kernel_args, nginx, loopdev,
                                                   tmp_path):
    """Issue 12: the bundle's build reads the source's first bytes: a format the flasher
    cannot write stops it; a qcow2's virtual size goes into the meta, and the loader refuses
    a disk that is smaller, before anything is loaded."""
    vmdk = tmp_path / "d.vmdk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(vmdk), "4M"], check=True)
    r = bundle(run_reimage, kernel_args, tmp_path / "x.run", "--src",
               nginx.put("b-d.vmdk", src=vmdk), "--dst", "/dev/vda")
    assert r.rc != 0, r.err
    assert "VMDK" in r.err and "qemu-img convert -O raw" in r.err
    assert not (tmp_path / "x.run").exists()
    big = tmp_path / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(big), "64M"], check=True)
    dev = loopdev(16 * MiB, pattern=False)
    out = tmp_path / "big.run"
    r = bundle(run_reimage, kernel_args, out, "--src", nginx.put("b-big.qcow2", src=big),
               "--dst", dev.path)
    assert r.rc == 0, r.err
    assert "qcow2 version 3, virtual size 64.0 MiB" in r.err + r.out
    before = kexec_loaded()
    p = run_bundle(out, "--dry-run")
    assert kexec_loaded() == before
    assert p.returncode == 4, p.stdout + p.stderr
    assert "needs 64.0 MiB" in p.stderr and "too small" in p.stderr
def test_keep_options_are_refused_for_a_bundle(run_reimage, kernel_args, tmp_path):
    """A bundle runs on another machine: what it would keep is not here."""
    out = tmp_path / "x.run"
    for opt in ("--keep-identity", "--keep-ssh-host-keys", "--keep-network"):
        r = bundle(run_reimage, kernel_args, out, "--src", "http://h/i", "--dst", "/dev/vda", opt)
        assert r.rc == 2 and "a bundle runs on another machine" in r.err, r.err
    assert not out.exists()
