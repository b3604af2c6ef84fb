"""Proxies: `reimage go` fetches through the proxy of its environment (or --proxy) and carries
the same settings into the job, so the flasher reaches the source the way the checks did; a
proxy password is a secret like any other. The flasher's side is tested under QEMU
(tests/e2e/test_flasher.py::test_flasher_fetches_through_the_carried_proxy)."""

import os

import pytest

from conftest import job_of_initrd

PASSWORD = "pr0xy-PASSW0RD-77"
# a host name no resolver knows: only the proxy (which sends everything to nginx) reaches it
ONLY_VIA_PROXY = "images.reimage-test.invalid"


def _env(**kw):
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(kw)
    return env


def _go(run_reimage, loopdev, tmp_path, url, *args, env):
    dev = loopdev(16 * 1024 * 1024, pattern=False)
    kernel = tmp_path / "vmlinuz"  # a dry run never loads it
    kernel.write_bytes(b"not loaded in a dry run")
    saved = tmp_path / "flasher.img"
    r = run_reimage("go", url, "--to", dev.path, "--kernel", kernel, "--dry-run",
                    "--no-carry-network", "--save-initrd", saved, *args, env=env)
    return r, saved


@pytest.mark.loop
def test_go_uses_and_carries_the_environment_proxy(run_reimage, loopdev, tmp_path, nginx,
                                                   served, images, forward_proxy):
    url = "http://%s/%s" % (ONLY_VIA_PROXY, served["zstd"])
    proxy = forward_proxy.url("op:" + PASSWORD)
    r, saved = _go(run_reimage, loopdev, tmp_path, url, "--sha256", images.sha("zstd"),
                   env=_env(http_proxy=proxy, no_proxy="localhost,.internal.example"))
    out = r.out + r.err
    assert r.rc == 0, out
    # go's own check went through the proxy, with its credentials
    assert any(m == "GET" and t == url and a and a.startswith("Basic ")
               for m, t, a in forward_proxy.requests), forward_proxy.requests
    assert "proxy:    http: http://***@127.0.0.1:%d from http_proxy, https: direct" % \
        forward_proxy.port in r.out, r.out
    assert "not for localhost,.internal.example" in r.out, r.out
    assert PASSWORD not in out, "the proxy password was printed"
    job = job_of_initrd(saved)
    assert "http-proxy = " + proxy in job
    assert "no-proxy = localhost,.internal.example" in job
    assert "https-proxy" not in job  # only what the environment says


@pytest.mark.loop
def test_go_proxy_option_overrides_the_environment(run_reimage, loopdev, tmp_path, nginx,
                                                   served, images, forward_proxy):
    url = "http://%s/%s" % (ONLY_VIA_PROXY, served["zstd"])
    r, saved = _go(run_reimage, loopdev, tmp_path, url, "--sha256", images.sha("zstd"),
                   "--proxy", forward_proxy.url(),
                   env=_env(http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9"))
    assert r.rc == 0, r.out + r.err
    assert "(from --proxy)" in r.out, r.out
    job = job_of_initrd(saved)
    assert "http-proxy = " + forward_proxy.url() in job
    assert "https-proxy = " + forward_proxy.url() in job
    assert "127.0.0.1:9" not in job


@pytest.mark.loop
@pytest.mark.parametrize("var,value", [("http_proxy", "ftp://proxy.example:21"),
                                       ("https_proxy", "http://proxy example:3128")])
def test_go_refuses_a_malformed_proxy(run_reimage, loopdev, tmp_path, nginx, served, images,
                                      var, value):
    r, saved = _go(run_reimage, loopdev, tmp_path, nginx.url(served["zstd"]),
                   "--sha256", images.sha("zstd"), env=_env(**{var: value}))
    assert r.rc == 2, r.out + r.err
    assert "%s is not a usable proxy" % var in r.err, r.err
    assert not saved.exists()


def test_initrd_proxy_option_goes_into_the_job(run_reimage, tmp_path):
    out = tmp_path / "flasher.img"
    r = run_reimage("initrd", "-o", out, "--modules", "none",
                    "--src", "http://img.example/x.img", "--dst", "/dev/vda",
                    "--proxy", "http://u:%s@10.0.2.2:3128" % PASSWORD)
    assert r.rc == 0, r.out + r.err
    assert PASSWORD not in r.out + r.err
    assert oct(os.stat(out).st_mode & 0o777) == "0o600", "a proxy password makes it secret"
    job = job_of_initrd(out)
    assert "http-proxy = http://u:%s@10.0.2.2:3128" % PASSWORD in job
    assert "https-proxy = http://u:%s@10.0.2.2:3128" % PASSWORD in job
