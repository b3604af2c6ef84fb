"""reimage flash with minisign signatures (--minisig, --pubkey), against signatures made by
Debian's minisign: the prehashed signature is checked while streaming, the key id before
anything is fetched, the trusted comment is verified and printed, legacy signatures are refused
with advice, and a failed check leaves the target's first MiB zeroed."""

import json
from pathlib import Path
import shutil
import subprocess

import pytest

from test_flash import assert_fail_closed_file, assert_same_as_image, by_kind, events, msg

MiB = 1024 * 1024

pytestmark = pytest.mark.skipif(not shutil.which("minisign"), reason="minisign not installed")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("minisign")
    for name in ("release", "other"):
        subprocess.run(["minisign", "-G", "-W", "-f", "-p", str(d / (name + ".pub")),
                        "-s", str(d / (name + ".key"))], check=True, capture_output=True)
    return d


def sign(keys, path, comment="release 1.0", legacy=False):
    sig = str(path) + ".minisig"
    subprocess.run(["minisign", "-S", "-s", str(keys / "release.key"), "-m", str(path),
                    "-x", sig, "-t", comment] + (["-l"] if legacy else []),
                   check=True, capture_output=True)
    return sig


def test_signature_verified_and_comment_shown(flash, nginx, images, keys, tmp_path):
    src = tmp_path / "disk.img.zst"
    shutil.copyfile(images.path("zstd"), src)
    sig = sign(keys, src, "debian 13 build 42")
    url = nginx.put("signed.img.zst", src=src)
    sig_url = nginx.put("signed.img.zst.minisig", src=sig)
    dst = tmp_path / "out.img"
    r = flash("--json", url, dst, "--minisig", sig_url, "--pubkey", keys / "release.pub")
    assert r.rc == 0, msg(r)
    ver = [e for e in by_kind(events(r.out), "verified") if e["check"] == "minisign"]
    assert ver, r.out
    assert_same_as_image(dst, images)
    r = flash(url, tmp_path / "out2.img", "--minisig", sig, "--progress", "line",
              "--pubkey", (keys / "release.pub").read_text().splitlines()[1])
    assert r.rc == 0, msg(r)
    assert "trusted comment: debian 13 build 42" in msg(r)


def test_tampered_image_refused_and_zeroed(flash, nginx, images, keys, tmp_path):
    data = bytearray(images.data)
    src = tmp_path / "disk.img"
    src.write_bytes(bytes(data))
    sig = sign(keys, src)
    data[8 * MiB + 123] ^= 0x40          # one bit, after the first MiB
    url = nginx.put("tampered.img", bytes(data))
    dst = tmp_path / "out.img"
    r = flash(url, dst, "--minisig", sig, "--pubkey", keys / "release.pub")
    assert r.rc == 4, msg(r)
    assert "minisign signature check failed" in msg(r)
    assert assert_fail_closed_file(dst, r) == "zeroed"


def test_wrong_key_refused_before_anything_is_written(flash, nginx, served, images, keys,
                                                      tmp_path):
    src = tmp_path / "disk.img.zst"
    shutil.copyfile(images.path("zstd"), src)
    sig = sign(keys, src)
    dst = tmp_path / "out.img"
    r = flash(nginx.url(served["zstd"]), dst, "--minisig", sig, "--pubkey", keys / "other.pub")
    assert r.rc == 4, msg(r)
    assert "was made with key" in msg(r)
    assert assert_fail_closed_file(dst, r) == "nothing"


def test_legacy_signature_refused_with_advice(flash, nginx, served, images, keys, tmp_path):
    src = tmp_path / "disk.img.zst"
    shutil.copyfile(images.path("zstd"), src)
    sig = sign(keys, src, legacy=True)
    dst = tmp_path / "out.img"
    r = flash(nginx.url(served["zstd"]), dst, "--minisig", sig, "--pubkey", keys / "release.pub")
    assert r.rc == 4, msg(r)
    assert "minisign -S" in msg(r)
    assert not dst.exists()


def test_bad_usage(flash, nginx, served, keys, tmp_path):
    url = nginx.url(served["zstd"])
    r = flash(url, tmp_path / "o", "--minisig", tmp_path / "missing.minisig", "--pubkey",
              keys / "release.pub")
    assert r.rc == 2, msg(r)
    r = flash(url, tmp_path / "o", "--minisig", tmp_path / "x", "--pubkey", "RWnotakey")
    assert r.rc == 2 and "minisign public key" in msg(r), msg(r)
    r = flash(url, tmp_path / "o", "--pubkey", keys / "release.pub")
    assert r.rc == 2 and "go together" in msg(r), msg(r)


EVIL = "build 7 \x1b[2J\x1b]0;owned\x07 done"
EVIL_SHOWN = "build 7 \\x1b[2J\\x1b]0;owned\\x07 done"


def test_trusted_comment_shown_escaped_after_verification(flash, nginx, images, keys, tmp_path):
    """A signed comment with terminal control sequences is shown, after the check, with its
    control characters escaped: it cannot clear the screen or retitle the window."""
    src = tmp_path / "disk.img.zst"
    shutil.copyfile(images.path("zstd"), src)
    sig = sign(keys, src, EVIL)
    url = nginx.put("evil-comment.img.zst", src=src)
    r = flash(url, tmp_path / "out.img", "--minisig", sig, "--progress", "line",
              "--pubkey", keys / "release.pub")
    assert r.rc == 0, msg(r)
    assert "trusted comment: " + EVIL_SHOWN in msg(r), msg(r)
    assert "\x1b" not in r.err and "\x07" not in r.err


def test_go_shows_the_comment_only_once_verified(run_reimage, nginx, served, images, keys,
                                                 loopdev, tmp_path):
    """reimage go checks the comment's global signature before its plan shows the comment
    (escaped); a comment changed after signing stops it before anything is loaded, and the
    changed text is not shown."""
    dev = loopdev(64 * MiB, pattern=False)
    kernel = tmp_path / "vmlinuz"  # a dry run never loads it
    kernel.write_bytes(b"not loaded in a dry run")
    src = tmp_path / "disk.img.zst"
    shutil.copyfile(images.path("zstd"), src)
    sig = Path(sign(keys, src, EVIL))
    common = ["go", nginx.url(served["zstd"]), "--to", dev.path, "--kernel", kernel,
              "--dry-run", "--no-carry-network", "--pubkey", keys / "release.pub"]
    r = run_reimage(*common, "--minisig", sig)
    assert r.rc == 0, msg(r)
    assert 'trusted comment, verified: "%s"' % EVIL_SHOWN in r.out, r.out
    assert "\x1b" not in r.out + r.err
    lines = sig.read_text().split("\n")
    forged = tmp_path / "forged.minisig"
    forged.write_text("\n".join(l.replace("build 7", "build 8") if l.startswith("trusted comment:")
                                else l for l in lines))
    r = run_reimage(*common, "--minisig", forged)
    assert r.rc == 4, msg(r)
    assert "trusted comment of the signature was altered" in msg(r) and "nothing was loaded" in msg(r)
    assert "build 8" not in msg(r)
