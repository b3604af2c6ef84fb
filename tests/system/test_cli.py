"""One command line across the subcommands: the target spelled --to (and --dst) everywhere,
--version on each, kexec-tools' spellings for reimage kexec and its -S exit status, the shared
exit codes, and the --json output of initrd --list (status --json, the run's events, is tested with the
fleet reports)."""

import hashlib
import json
import os
import re
import subprocess

import pytest

COMMANDS = ["flash", "go", "initrd", "bundle", "kexec", "configure", "status", "done", "init"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_version_on_every_subcommand(run_reimage, cmd):
    for opt in ("--version", "-V"):
        r = run_reimage(cmd, opt)
        assert r.rc == 0, r.err
        assert re.fullmatch(r"reimage \d+\.\d+\.\d+\n", r.out), r.out


def test_flash_to(run_reimage, tmp_path):
    data = os.urandom(256 * 1024)
    src = tmp_path / "img.raw"
    src.write_bytes(data)
    dst = tmp_path / "out.img"
    r = run_reimage("flash", src, "--to", dst, "--sha256", hashlib.sha256(data).hexdigest(), "--progress",
                    "none")
    assert r.rc == 0, r.err
    assert dst.read_bytes() == data
    # the positional form still works; both at once is refused before anything is written
    other = tmp_path / "other.img"
    r = run_reimage("flash", src, other, "--progress", "none")
    assert r.rc == 0 and other.read_bytes() == data
    third = tmp_path / "third.img"
    r = run_reimage("flash", src, third, "--to", dst)
    assert r.rc == 2 and "DST given twice" in r.err, r.err
    assert not third.exists()
    r = run_reimage("flash", src)
    assert r.rc == 2 and "SRC --to DST" in r.err


def job_text(path):
    data = path.read_bytes()
    i = data.rindex(b"etc/reimage/job.conf\0")  # the job archive comes last
    return data[i:i + 2048].decode("utf-8", "replace")


@pytest.mark.parametrize("spelling", ["--to", "--dst"])
def test_initrd_and_bundle_take_to(run_reimage, tmp_path, spelling):
    out = tmp_path / "f.img"
    r = run_reimage("initrd", "-o", out, "--modules", "none", "--compression", "none",
                    "--src", "http://h/img.zst", spelling, "/dev/vdz")
    assert r.rc == 0, r.err
    assert "dst = /dev/vdz" in job_text(out)
    # bundle parses the same option table: it gets as far as the kernel (a full bundle build
    # is in test_bundle.py)
    r = run_reimage("bundle", "-o", tmp_path / "b.run", "--src", "http://h/img", spelling,
                    "/dev/vdz", "--kernel", "/nonexistent", "--modules", "none")
    assert r.rc == 1, r.err
    assert "unrecognized option" not in r.err and "cannot read the kernel" in r.err, r.err


@pytest.mark.parametrize("spelling", ["--to", "--dst"])
def test_go_takes_dst(run_reimage, tmp_path, spelling):
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"\0" * 4096)
    r = run_reimage("go", "http://127.0.0.1:9/img.zst", spelling, tmp_path / "not-a-disk",
                    "--kernel", kernel, "--dry-run")
    assert r.rc == 6, r.err  # the target was looked at, and refused: not a block device
    assert "is not a block device" in r.err


def test_go_needs_root_exit_8(reimage_bin, tmp_path):
    os.chmod(tmp_path, 0o755)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        reimage_bin, "go", "http://127.0.0.1:9/img", "--to", "/dev/null",
                        "--yes"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 8, r.stderr
    assert "needs root" in r.stderr


def kexec_loaded():
    try:
        return open("/sys/kernel/kexec_loaded").read().strip() == "1"
    except FileNotFoundError:
        return False


def test_kexec_status_exit_code_and_spellings(run_reimage, tmp_path):
    assert not kexec_loaded(), "a kexec image is loaded on this machine"
    for opt in ("--status", "-S"):
        r = run_reimage("kexec", opt)
        assert r.rc == 1, r.err  # like kexec -S: nothing loaded
        assert "kexec image loaded: " in r.out
    r = run_reimage("kexec", "-s", "-S")  # -s (kexec_file_load) is accepted
    assert r.rc == 1 and "kexec image loaded" in r.out
    r = run_reimage("kexec", "-c", "/boot/vmlinuz")
    assert r.rc == 2 and "kexec_file_load" in r.err
    r = run_reimage("kexec", "-l")
    assert r.rc == 2 and "wants a KERNEL" in r.err
    r = run_reimage("kexec", "-u", "-S")
    assert r.rc == 2 and "give one of" in r.err
    # kexec-tools' spellings reach the loader: the error is about the file, not the options
    kernel = tmp_path / "not-a-kernel"
    kernel.write_bytes(b"\0" * 4096)
    initrd = tmp_path / "initrd"
    initrd.write_bytes(b"\0" * 512)
    r = run_reimage("kexec", "-l", kernel, "--ramdisk", initrd, "--command-line", "quiet")
    assert r.rc == 1, r.err
    assert "unrecognized" not in r.err and "run 'reimage kexec --help'" not in r.err, r.err
    assert not kexec_loaded()


def test_initrd_list_json(run_reimage, tmp_path):
    out = tmp_path / "f.img"
    r = run_reimage("initrd", "-o", out, "--modules", "none", "--src", "http://h/i.zst",
                    "--to", "/dev/vda")
    assert r.rc == 0, r.err
    r = run_reimage("initrd", "--list", out, "--json")
    assert r.rc == 0, r.err
    doc = json.loads(r.out)
    assert doc["file"] == str(out)
    members = doc["members"]
    assert [m["member"] for m in members] == [0, 1]
    assert members[0]["compression"] == "zstd" and members[1]["compression"] == "none"
    entries = {e["name"]: e for e in members[0]["entries"]}
    assert entries["init"]["type"] == "file" and entries["init"]["mode"] == "0755"
    assert entries["init"]["size"] > 100000
    assert entries["dev/console"]["type"] == "char"
    assert (entries["dev/console"]["major"], entries["dev/console"]["minor"]) == (5, 1)
    job = {e["name"]: e for e in members[1]["entries"]}["etc/reimage/job.conf"]
    assert job["mode"] == "0600" and job["type"] == "file"
    # the same listing as the text form
    text = run_reimage("initrd", "--list", out).out
    assert len([l for l in text.splitlines() if not l.startswith("#")]) == \
        sum(len(m["entries"]) for m in members)
    # damaged: an error and exit 5, never half a document
    junk = tmp_path / "junk"
    junk.write_bytes(out.read_bytes()[:5000])
    r = run_reimage("initrd", "--list", junk, "--json")
    assert r.rc == 5 and r.out == "", r.out
    r = run_reimage("initrd", "-o", tmp_path / "x", "--json")
    assert r.rc == 2 and "--json goes with --list" in r.err
