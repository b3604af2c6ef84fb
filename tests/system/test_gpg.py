"""Signed checksum lists: --sums-sig/--keyring checked with gpgv before the list is believed,
for reimage flash and in the plan of reimage go --dry-run. Keys are made by GnuPG here."""

import os
import subprocess

import pytest

MiB = 1024 * 1024

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "openpgp")


def msg(r):
    return r.out + r.err


class Signer:
    def __init__(self, home, uid):
        self.home = home
        self.uid = uid
        home.mkdir(mode=0o700)
        self.gpg("--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
        self.keyring = home / "keyring.gpg"
        self.keyring.write_bytes(self.gpg("--export", capture=True))
        self.armored = home / "keyring.asc"
        self.armored.write_bytes(self.gpg("--export", "--armor", capture=True))

    def gpg(self, *args, capture=False):
        r = subprocess.run(["gpg", "--batch", "--quiet", "--homedir", str(self.home)] + list(args),
                           capture_output=True, check=True)
        return r.stdout

    def stop_agent(self):
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"],
                       capture_output=True)

    def sign(self, path, armor=False):
        out = path.with_name(path.name + (".asc" if armor else ".gpg"))
        self.gpg("--detach-sign", "--yes", "-o", str(out), *(["--armor"] if armor else []),
                 str(path))
        return out


@pytest.fixture(scope="session")
def signers(tmp_path_factory):
    base = tmp_path_factory.mktemp("gnupg")
    pair = (Signer(base / "distro", "Distro Image Signing <images@distro.test>"),
            Signer(base / "other", "Somebody Else <x@other.test>"))
    yield pair
    for s in pair:  # the gpg-agent each home started
        s.stop_agent()


def sums_for(tmp_path, served, images, fmt="zstd"):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("%s  other.img\n%s  %s\n" % ("1" * 64, images.sha(fmt), served[fmt]))
    return sums


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armored"])
def test_signed_sums_good(armor, flash, nginx, served, images, signers, tmp_path):
    distro, _ = signers
    sums = sums_for(tmp_path, served, images)
    sig = distro.sign(sums, armor=armor)
    sums_url = nginx.put("SUMS-good-%d" % armor, src=sums)
    sig_url = nginx.put("SUMS-good-%d.sig" % armor, src=sig)
    dst = tmp_path / "out.img"
    keyring = distro.armored if armor else distro.keyring
    r = flash("--sums", sums_url, "--sums-sig", sig_url, "--keyring", keyring,
              nginx.url(served["zstd"]), dst)
    assert r.rc == 0, msg(r)
    assert dst.read_bytes() == images.data
    assert "signed by Distro Image Signing <images@distro.test>" in msg(r)


def test_signed_sums_tampered_list(flash, nginx, served, images, signers, tmp_path):
    distro, _ = signers
    sums = sums_for(tmp_path, served, images)
    sig = distro.sign(sums)
    # an attacker who controls the server swaps in the digest of their own image
    sums.write_text(sums.read_text().replace(images.sha("zstd"), "f" * 64))
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", distro.keyring,
              nginx.url(served["zstd"]), dst)
    assert r.rc == 4, msg(r)
    assert "BAD signature" in msg(r)
    assert "nothing was written" in msg(r)
    assert not dst.exists()


def test_signed_sums_unknown_key(flash, nginx, served, images, signers, tmp_path):
    distro, other = signers
    sums = sums_for(tmp_path, served, images)
    sig = other.sign(sums)
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", distro.keyring,
              nginx.url(served["zstd"]), dst)
    assert r.rc == 4, msg(r)
    assert "not in the keyring" in msg(r)
    assert not dst.exists()


def test_signed_sums_existing_target_untouched(flash, nginx, served, images, signers, tmp_path):
    distro, other = signers
    sums = sums_for(tmp_path, served, images)
    sig = other.sign(sums)
    dst = tmp_path / "out.img"
    before = os.urandom(2 * MiB)
    dst.write_bytes(before)
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", distro.keyring,
              nginx.url(served["zstd"]), dst)
    assert r.rc == 4, msg(r)
    assert dst.read_bytes() == before


def test_signed_sums_usage_errors(flash, nginx, served, images, signers, tmp_path):
    distro, _ = signers
    sums = sums_for(tmp_path, served, images)
    sig = distro.sign(sums)
    dst = tmp_path / "out.img"
    src = nginx.url(served["zstd"])
    r = flash("--sums", sums, "--sums-sig", sig, src, dst)
    assert r.rc == 2 and "--sums-sig and --keyring go together" in msg(r)
    r = flash("--sums-sig", sig, "--keyring", distro.keyring, src, dst)
    assert r.rc == 2 and "with --sums" in msg(r)
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", nginx.url("keyring.gpg"), src, dst)
    assert r.rc == 2 and "must be a local file" in msg(r)
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", tmp_path / "missing.gpg", src, dst)
    assert r.rc == 2 and "cannot read the keyring" in msg(r)
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", sums, src, dst)
    assert r.rc == 2 and "not an OpenPGP key file" in msg(r)
    r = flash("--sums", sums, "--sums-sig", nginx.url("no-such.sig"), "--keyring",
              distro.keyring, src, dst)
    assert r.rc == 3 and "cannot read the signature" in msg(r)
    assert not dst.exists()


def test_signed_sums_without_gpgv(flash, nginx, served, images, signers, tmp_path):
    distro, _ = signers
    sums = sums_for(tmp_path, served, images)
    sig = distro.sign(sums)
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", distro.keyring,
              nginx.url(served["zstd"]), dst,
              env=dict(os.environ, REIMAGE_GPGV="/nonexistent/gpgv"))
    assert r.rc == 2, msg(r)
    assert "gpgv is not installed" in msg(r)
    assert not dst.exists()


def test_go_dry_run_checks_the_signature(run_reimage, nginx, served, images, signers, loopdev,
                                          tmp_path):
    """reimage go checks the list's signature on this machine and puts only the digest into
    the job; a bad signature stops it before anything is built."""
    distro, other = signers
    dev = loopdev(64 * MiB, pattern=False)
    kernel = tmp_path / "vmlinuz"  # a dry run never loads it
    kernel.write_bytes(b"not loaded in a dry run")
    sums = sums_for(tmp_path, served, images)
    sig = distro.sign(sums)
    common = ["go", nginx.url(served["zstd"]), "--to", dev.path, "--kernel", kernel,
              "--dry-run", "--no-carry-network", "--sums", sums, "--keyring", distro.keyring]
    r = run_reimage(*common, "--sums-sig", sig, "--save-initrd", tmp_path / "flasher.img")
    assert r.rc == 0, msg(r)
    assert "its signature checked" in r.out
    assert "Distro Image Signing" in r.out
    assert images.sha("zstd") in r.out
    bad = other.sign(sums)
    r = run_reimage(*common, "--sums-sig", bad)
    assert r.rc == 4, msg(r)
    assert "not in the keyring" in msg(r) and "nothing was loaded" in msg(r)


def test_thousands_of_signatures_read_to_the_end(flash, nginx, served, images, signers, tmp_path):
    """A signature file holding thousands of (good) signatures makes gpgv write far more status
    than any one verdict needs: it is read to the end, and neither gpgv nor reimage waits on a
    full pipe."""
    distro, _ = signers
    sums = sums_for(tmp_path, served, images)
    one = distro.sign(sums).read_bytes()
    many = tmp_path / "SHA256SUMS.many.gpg"
    many.write_bytes(one * min(2000, (1 << 20) // len(one)))
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, "--sums-sig", many, "--keyring", distro.keyring,
              nginx.url(served["zstd"]), dst, timeout=240)
    assert r.rc == 0, msg(r)
    assert "Distro Image Signing" in msg(r)


def test_gpgv_that_never_finishes_is_stopped(flash, nginx, served, images, signers, tmp_path):
    """gpgv runs under a time limit: one that hangs is killed and the list is not trusted."""
    distro, _ = signers
    sums = sums_for(tmp_path, served, images)
    sig = distro.sign(sums)
    fake = tmp_path / "gpgv"
    fake.write_text("#!/bin/sh\necho '[GNUPG:] NEWSIG' >&${2:-1}\nexec sleep 600\n")
    fake.chmod(0o755)
    dst = tmp_path / "out.img"
    r = flash("--sums", sums, "--sums-sig", sig, "--keyring", distro.keyring,
              nginx.url(served["zstd"]), dst, timeout=60,
              env=dict(os.environ, REIMAGE_GPGV=str(fake), REIMAGE_GPGV_TIMEOUT_MS="2000"))
    assert r.rc != 0, msg(r)
    assert "did not finish" in msg(r) and "not trusted" in msg(r), msg(r)
    assert not dst.exists()

