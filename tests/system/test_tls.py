"""System tests of TLS in `reimage flash` against the TLS section of docs/reimage-flash.1.md.

A private nginx (tests/system/conftest.py: tls_nginx) serves the same image over https with a
trusted certificate, one for another name, an expired one, and behind a client-certificate
check, plus a plain-http copy for the downgrade test. Every refusal must be exit 3, name the
cause, leave the target alone and come at once (a TLS failure is never retried).
"""

import json
import os
import subprocess
import time

import pytest

from conftest import job_of_initrd

INSECURE_WARNING = ("TLS certificate verification is OFF (--insecure): anyone on the network "
                    "path can serve a forged image; only the digest and signature checks "
                    "protect you")
# A retried failure waits 0.5 s, 1 s, 2 s, ... (10 retries by default): far above this.
FAST = 5.0


def timed(flash, *args, **kw):
    t0 = time.monotonic()
    r = flash(*args, **kw)
    return r, time.monotonic() - t0


def assert_ok(r, dst, data):
    assert r.rc == 0, r.err
    assert dst.read_bytes() == data


def assert_refused(r, elapsed, dst, *needles):
    """Exit 3 at once, with a message naming the cause, and nothing written."""
    assert r.rc == 3, (r.rc, r.err)
    low = r.err.lower()
    for n in needles:
        assert n.lower() in low, "%r not in: %s" % (n, r.err)
    assert "retry" not in low, "a TLS failure was retried: " + r.err
    assert elapsed < FAST, "took %.1f s: retried?" % elapsed
    assert not dst.exists(), "the target was created"


# --------------------------------------------------------------------------
# server certificate verification
# --------------------------------------------------------------------------

def test_trusted_with_cacert(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--cacert", tls_pki.ca, tls_nginx.url("trusted"), dst)
    assert_ok(r, dst, tls_nginx.data)
    assert "--insecure" not in r.err


def test_unknown_ca_refused(flash, tls_nginx, tmp_path):
    """Without --cacert only the system's CAs count, and they did not issue the test CA."""
    dst = tmp_path / "out.img"
    r, t = timed(flash, tls_nginx.url("trusted"), dst)
    assert_refused(r, t, dst, "certificate of 127.0.0.1 is not trusted", "unknown CA", "--cacert")
    assert "nothing was written" in r.err


def test_cacert_is_the_only_trust(flash, tls_nginx, tls_pki, tmp_path):
    """--cacert with another CA (the client CA) does not fall back to anything else."""
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.client_ca, tls_nginx.url("trusted"), dst)
    assert_refused(r, t, dst, "not trusted", "unknown CA", str(tls_pki.client_ca))


def test_wrong_host_name_refused(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, tls_nginx.url("wrong_name"), dst)
    assert_refused(r, t, dst, "certificate of 127.0.0.1", "host name mismatch")


def test_expired_refused(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, tls_nginx.url("expired"), dst)
    assert_refused(r, t, dst, "certificate of 127.0.0.1 has expired", "clock")


def test_refusal_leaves_an_existing_target_untouched(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    before = b"previous contents\n" * 1000
    dst.write_bytes(before)
    r, t = timed(flash, "--cacert", tls_pki.ca, tls_nginx.url("expired"), dst)
    assert r.rc == 3 and t < FAST, r.err
    assert dst.read_bytes() == before


def test_refusal_in_json_mode(flash, tls_nginx, tmp_path):
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--json", tls_nginx.url("trusted"), dst)
    assert r.rc == 3 and t < FAST, r.err
    evs = [json.loads(line) for line in r.out.splitlines() if line.strip()]
    assert not [e for e in evs if e["event"] == "retry"], r.out
    err = [e for e in evs if e["event"] == "error"]
    assert err and err[-1]["exit"] == 3 and "unknown CA" in err[-1]["message"], r.out
    assert not dst.exists()


# --------------------------------------------------------------------------
# public key pinning
# --------------------------------------------------------------------------

def test_pin_match(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--cacert", tls_pki.ca, "--pin", tls_pki.pin, tls_nginx.url("trusted"), dst)
    assert_ok(r, dst, tls_nginx.data)


def test_pin_one_of_several(flash, tls_nginx, tls_pki, tmp_path):
    """A list pins the next key before a rollover: any of them is accepted."""
    dst = tmp_path / "out.img"
    pins = tls_pki.other_pin + ";" + tls_pki.pin
    r = flash("--cacert", tls_pki.ca, "--pin", pins, tls_nginx.url("trusted"), dst)
    assert_ok(r, dst, tls_nginx.data)


def test_pin_mismatch_refused(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, "--pin", tls_pki.other_pin,
                 tls_nginx.url("trusted"), dst)
    assert_refused(r, t, dst, "public key of 127.0.0.1 does not match --pin", "pin mismatch")


def test_pin_holds_with_insecure(flash, tls_nginx, tls_pki, tmp_path):
    """--insecure turns off the CA check only: a pin is still enforced."""
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--insecure", "--pin", tls_pki.other_pin, tls_nginx.url("trusted"), dst)
    assert_refused(r, t, dst, "pin mismatch")
    r = flash("--insecure", "--pin", tls_pki.pin, tls_nginx.url("trusted"), dst)
    assert_ok(r, dst, tls_nginx.data)


@pytest.mark.parametrize("pin", [
    "V28OH9LGABJ8gAsglI+ueL+chJ4jLoZ1fFwjiqu2x40=",             # no sha256// prefix
    "sha256//",                                                 # empty
    "sha256//abc",                                              # too short
    "sha256//V28OH9LGABJ8gAsglI+ueL+chJ4jLoZ1fFwjiqu2x40",      # no padding
    "sha256//V28OH9LGABJ8gAsglI+ueL+chJ4jLoZ1fFwjiqu2x40=;",    # empty second pin
    "sha256//V28OH9LGABJ8gAsglI+ueL+chJ4jLoZ1fFwjiqu2x4!=",     # not base64
    "sha256//V28OH9LGABJ8gAsglI+ueL+chJ4jLoZ1fFwjiqu2x40= ",    # trailing space
    "sha1//V28OH9LGABJ8gAsglI+ueL+chJ4jLoZ1fFwjiqu2x40=",       # another hash
])
def test_malformed_pin_is_usage_error(flash, tls_nginx, tmp_path, pin):
    dst = tmp_path / "out.img"
    r = flash("--pin", pin, tls_nginx.url("trusted"), dst)
    assert r.rc == 2, r.err
    assert "--pin wants sha256//" in r.err
    assert not dst.exists()


# --------------------------------------------------------------------------
# client certificates
# --------------------------------------------------------------------------

def test_client_cert_works(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--cacert", tls_pki.ca, "--client-cert", tls_pki.client_cert,
              "--client-key", tls_pki.client_key, tls_nginx.url("client_auth"), dst)
    assert_ok(r, dst, tls_nginx.data)


def test_client_cert_missing_refused(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, tls_nginx.url("client_auth"), dst)
    assert_refused(r, t, dst, "127.0.0.1 requires a client certificate",
                   "--client-cert FILE --client-key FILE")


def test_client_cert_not_accepted_refused(flash, tls_nginx, tls_pki, tmp_path):
    """A certificate the server's client CA did not issue (the server's own)."""
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, "--client-cert", tls_pki.server_cert,
                 "--client-key", tls_pki.server_key, tls_nginx.url("client_auth"), dst)
    assert_refused(r, t, dst, "refused the client certificate " + str(tls_pki.server_cert))


def test_client_key_not_matching_refused(flash, tls_nginx, tls_pki, tmp_path):
    """Paths may be printed, key material never."""
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, "--client-cert", tls_pki.client_cert,
                 "--client-key", tls_pki.server_key, tls_nginx.url("client_auth"), dst)
    assert_refused(r, t, dst, "client certificate " + str(tls_pki.client_cert),
                   str(tls_pki.server_key), "cannot be used")
    key_lines = [l for l in tls_pki.server_key.read_text().splitlines() if "-----" not in l]
    for line in key_lines + [l for l in tls_pki.client_key.read_text().splitlines()
                             if "-----" not in l]:
        assert line not in r.out + r.err


@pytest.mark.parametrize("given", ["--client-cert", "--client-key"])
def test_client_cert_and_key_go_together(flash, tls_nginx, tls_pki, tmp_path, given):
    dst = tmp_path / "out.img"
    path = tls_pki.client_cert if given == "--client-cert" else tls_pki.client_key
    r = flash("--cacert", tls_pki.ca, given, path, tls_nginx.url("client_auth"), dst)
    assert r.rc == 2, r.err
    assert "--client-cert and --client-key go together" in r.err
    assert not dst.exists()


@pytest.mark.parametrize("opt", ["--cacert", "--client-cert", "--client-key"])
def test_unreadable_tls_file_is_usage_error(flash, tls_nginx, tls_pki, tmp_path, opt):
    dst = tmp_path / "out.img"
    missing = tmp_path / "missing.pem"
    args = {"--cacert": tls_pki.ca, "--client-cert": tls_pki.client_cert,
            "--client-key": tls_pki.client_key}
    args[opt] = missing
    argv = [a for kv in args.items() for a in kv]
    r = flash(*argv, tls_nginx.url("client_auth"), dst)
    assert r.rc == 2, r.err
    assert "cannot read %s %s" % (opt, missing) in r.err
    assert not dst.exists()


# --------------------------------------------------------------------------
# --insecure
# --------------------------------------------------------------------------

def test_insecure_works_and_warns(flash, tls_nginx, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--insecure", tls_nginx.url("trusted"), dst)
    assert_ok(r, dst, tls_nginx.data)
    assert INSECURE_WARNING in r.err
    assert r.err.count(INSECURE_WARNING) == 1


def test_insecure_warns_on_stderr_in_json_and_quiet_mode(flash, tls_nginx, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--insecure", "--json", "-q", tls_nginx.url("wrong_name"), dst)
    assert_ok(r, dst, tls_nginx.data)
    assert INSECURE_WARNING in r.err
    for line in r.out.splitlines():  # stdout stays pure JSON
        json.loads(line)
    assert "OFF" not in r.out


def test_no_warning_without_insecure(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--cacert", tls_pki.ca, tls_nginx.url("trusted"), dst)
    assert_ok(r, dst, tls_nginx.data)
    assert "verification is OFF" not in r.err


# --------------------------------------------------------------------------
# redirects and the checksum list
# --------------------------------------------------------------------------

def test_https_to_http_redirect_refused(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, tls_nginx.url("trusted", "downgrade/disk.img"),
                 dst)
    assert_refused(r, t, dst, "redirected to " + tls_nginx.url("plain"),
                   "from https to plain http")
    assert "GET /downgrade/disk.img HTTP/1.1" in tls_nginx.requests("trusted")
    assert not tls_nginx.requests("plain"), "the plain-http copy was fetched"


def test_https_to_https_redirect_followed(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--cacert", tls_pki.ca, tls_nginx.url("trusted", "moved/disk.img"), dst)
    assert_ok(r, dst, tls_nginx.data)


def test_sums_url_over_tls(flash, tls_nginx, tls_pki, tmp_path):
    dst = tmp_path / "out.img"
    r = flash("--cacert", tls_pki.ca, "--sums", tls_nginx.url("trusted", "SHA256SUMS"),
              tls_nginx.url("trusted"), dst)
    assert_ok(r, dst, tls_nginx.data)


def test_sums_url_verified_too(flash, tls_nginx, tls_pki, tmp_path):
    """The checksum list is fetched with the same TLS settings, and refused the same way."""
    dst = tmp_path / "out.img"
    r, t = timed(flash, "--cacert", tls_pki.ca, "--sums",
                 tls_nginx.url("expired", "SHA256SUMS"), tls_nginx.url("trusted"), dst)
    assert_refused(r, t, dst, "checksum list", "has expired")


def test_encrypted_client_key_refused_without_prompting(flash, tls_nginx, tls_pki, tmp_path):
    """No passphrase prompt on a console nobody watches: an encrypted key is an error."""
    dst = tmp_path / "out.img"
    enc = tmp_path / "client-enc.key"
    subprocess.run(["openssl", "pkey", "-in", str(tls_pki.client_key), "-aes256",
                    "-passout", "pass:secret", "-out", str(enc)], check=True, capture_output=True)
    r, t = timed(flash, "--cacert", tls_pki.ca, "--client-cert", tls_pki.client_cert,
                 "--client-key", enc, tls_nginx.url("client_auth"), dst, timeout=20)
    assert_refused(r, t, dst, "cannot be used", str(enc))


# --------------------------------------------------------------------------
# reimage go: the same options are checked on this machine and carried into the job
# --------------------------------------------------------------------------

def _go(run_reimage, loopdev, tmp_path, url, *args):
    dev = loopdev(16 * 1024 * 1024, pattern=False)
    kernel = tmp_path / "vmlinuz"  # a dry run never loads it
    kernel.write_bytes(b"not loaded in a dry run")
    saved = tmp_path / "flasher.img"
    r = run_reimage("go", url, "--to", dev.path, "--kernel", kernel, "--dry-run",
                    "--no-carry-network", "--save-initrd", saved, *args)
    return r, saved


def test_go_carries_client_cert_and_ca_into_the_job(run_reimage, loopdev, tls_nginx, tls_pki,
                                                   tmp_path):
    r, saved = _go(run_reimage, loopdev, tmp_path, tls_nginx.url("client_auth"),
                   "--cacert", tls_pki.ca, "--client-cert", tls_pki.client_cert,
                   "--client-key", tls_pki.client_key, "--pin", tls_pki.pin)
    assert r.rc == 0, r.out + r.err
    # go's own probe went through the client-certificate server with these options
    assert "tls:      CA certificates from %s, public key pinned, client certificate %s " \
           "(key ***)" % (tls_pki.ca, tls_pki.client_cert) in r.out
    key = [l for l in tls_pki.client_key.read_text().splitlines() if not l.startswith("-----")]
    assert not any(k in r.out + r.err for k in key)
    assert oct(os.stat(saved).st_mode & 0o777) == "0o600"
    job = job_of_initrd(saved)
    for l in key:
        assert "tls-client-key = " + l in job
    assert "tls-cacert = -----BEGIN CERTIFICATE-----" in job
    assert "tls-pin = " + tls_pki.pin in job
    assert str(tls_pki.client_key) not in job  # contents, not file names


def test_go_insecure_is_loud_in_the_plan_and_the_job(run_reimage, loopdev, tls_nginx, tmp_path):
    r, saved = _go(run_reimage, loopdev, tmp_path, tls_nginx.url("trusted"), "--insecure")
    assert r.rc == 0, r.out + r.err
    assert "tls:      VERIFICATION OFF (--insecure)" in r.out
    assert "WARNING: TLS certificate verification is OFF" in r.out
    assert "tls-insecure = yes" in job_of_initrd(saved)


def test_go_refuses_an_untrusted_server_before_anything(run_reimage, loopdev, tls_nginx,
                                                        tmp_path):
    r, saved = _go(run_reimage, loopdev, tmp_path, tls_nginx.url("trusted"))
    assert r.rc == 3, r.out + r.err
    assert "unknown CA" in r.err and "nothing was loaded" in r.err
    assert not saved.exists()
