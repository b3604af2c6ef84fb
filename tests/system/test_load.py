"""The fleet load test (issue 13): 50 `reimage flash` clients start at once against one nginx
that takes 8 connections (limit_conn; the others get 503 with Retry-After: 2) at 4 MiB/s each
(limit_rate). Every client must end with a byte-identical image, none may give up, and every
retry after a 503 must wait at least the Retry-After the server asked for.

The measuring code is bench/fleet-load.py (the same run gives the figures in
docs/performance.md)."""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fleet-load.py"


def _bench():
    spec = importlib.util.spec_from_file_location("fleet_load", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fifty_clients_against_eight_connections(reimage_bin, tmp_path):
    if not os.access("/usr/sbin/nginx", os.X_OK) or not shutil.which("zstd"):
        pytest.fail("needs nginx and zstd (scripts/install-deps)")
    res = _bench().run(str(reimage_bin), clients=50, conns=8, rate="4m", size=8 << 20,
                       retry_after=2, timeout=600)
    print(res)
    assert res["failures"] == [], res["failures"]
    assert res["identical"] == 50
    # the limit was reached: clients were turned away and came back
    assert res["http_503"] >= 10, res
    assert res["retries"] == res["http_503"], res
    # Retry-After: 2 was honoured by every client (the backoff never came back sooner)
    assert res["min_retry_delay_ms"] >= 2000, res
