"""Building reimage's Debian package from this source tree, for the package's system test and
its end-to-end test (apt install in a fresh Debian VM)."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ignore_top(directory, names):
    """Leave out build trees, VCS data and caches of the checkout being copied."""
    if Path(directory).resolve() != ROOT:
        return {n for n in names if n == "__pycache__"}
    return {n for n in names if n.startswith(("build", "obj-", ".git", ".cache")) or
            n == "__pycache__"}


def build_deb(dest):
    """dpkg-buildpackage -us -uc -b on a copy of the tree in dest; returns the paths of the
    .deb and the .changes. The unit tests are left out of the package build (nocheck): the
    test run has them already."""
    dest = Path(dest)
    src = dest / "reimage"
    shutil.copytree(ROOT, src, ignore=_ignore_top, symlinks=True)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d" % (os.cpu_count() or 1),
               LC_ALL="C.UTF-8")
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, "dpkg-buildpackage failed:\n%s\n%s" % (r.stdout[-4000:],
                                                                     r.stderr[-4000:])
    debs = [p for p in dest.glob("reimage_*.deb")]
    changes = list(dest.glob("reimage_*.changes"))
    assert len(debs) == 1 and len(changes) == 1, sorted(p.name for p in dest.iterdir())
    return debs[0], changes[0]
