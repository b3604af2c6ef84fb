"""Files and processes that hold secrets (issue 10): a flasher image with a job (initrd -o,
go --save-initrd) is written to a new file and renamed into place, never through a file or a
symlink that is already there; every reimage process is non-dumpable (PR_SET_DUMPABLE 0)."""

import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

MiB = 1024 * 1024
SECRET = "Bearer TOPSECRET-files-77"


def initrd_with_job(run_reimage, out):
    return run_reimage("initrd", "-o", str(out), "--modules", "none", "--src", "https://h/img.zst",
                       "--dst", "/dev/vda", "--header", "Authorization: " + SECRET)


def test_initrd_output_symlink_is_replaced_not_followed(run_reimage, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("someone else's file\n")
    victim.chmod(0o644)
    out = tmp_path / "flasher.img"
    out.symlink_to(victim)
    r = initrd_with_job(run_reimage, out)
    assert r.rc == 0, r.err
    assert victim.read_text() == "someone else's file\n"
    st = os.lstat(out)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("flasher.img.")]


def test_initrd_output_existing_file_is_replaced_not_written(run_reimage, tmp_path):
    """Someone who opened the old file (world-readable) must not read the new secrets
    through it: the new contents go to a new inode."""
    out = tmp_path / "flasher.img"
    out.write_bytes(b"old contents")
    out.chmod(0o644)
    with open(out, "rb") as held:
        old_ino = os.fstat(held.fileno()).st_ino
        r = initrd_with_job(run_reimage, out)
        assert r.rc == 0, r.err
        held.seek(0)
        assert held.read() == b"old contents"
    st = os.stat(out)
    assert st.st_ino != old_ino and stat.S_IMODE(st.st_mode) == 0o600


def test_go_save_initrd_symlink_is_replaced_not_followed(run_reimage, nginx, served, loopdev,
                                                         tmp_path):
    dev = loopdev(64 * MiB, pattern=False)
    kernel = tmp_path / "vmlinuz"  # a dry run never loads it
    kernel.write_bytes(b"not loaded in a dry run")
    victim = tmp_path / "victim.txt"
    victim.write_text("someone else's file\n")
    save = tmp_path / "saved.img"
    save.symlink_to(victim)
    r = run_reimage("go", nginx.url(served["zstd"]), "--to", dev.path, "--kernel", kernel,
                    "--dry-run", "--no-carry-network", "--sha256", "0" * 64,
                    "--header", "Authorization: " + SECRET, "--save-initrd", save)
    assert r.rc == 0, r.out + r.err
    assert victim.read_text() == "someone else's file\n"
    st = os.lstat(save)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)


def test_processes_are_not_dumpable(reimage_bin, proxy, served, tmp_path):
    """Run as an unprivileged user, a dumpable process owns its /proc/PID files; a
    non-dumpable one's are root's, so that user cannot read its memory or environment."""
    if not shutil.which("setpriv"):
        pytest.fail("setpriv (util-linux) is needed")
    d = Path(tempfile.mkdtemp(prefix="reimage-dumpable-"))
    try:
        os.chmod(d, 0o777)
        binary = d / "reimage"
        shutil.copy2(reimage_bin, binary)
        os.chmod(binary, 0o755)
        proxy.stall_after(64 * 1024)
        p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              str(binary), "flash", "--header", "Authorization: " + SECRET,
                              "--progress", "none", proxy.url(served["raw"]), str(d / "out.img")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        try:
            assert proxy.stall_event.wait(30), "the transfer never started"
            st = os.stat("/proc/%d/status" % p.pid)
            uid_line = [l for l in Path("/proc/%d/status" % p.pid).read_text().splitlines()
                        if l.startswith("Uid:")][0]
            assert uid_line.split()[1] == "65534", uid_line  # it really runs as nobody
            assert st.st_uid == 0, "reimage is dumpable: /proc/%d is owned by uid %d" % (
                p.pid, st.st_uid)
        finally:
            p.kill()  # our own child, by PID
            p.wait(10)
    finally:
        shutil.rmtree(d, ignore_errors=True)
