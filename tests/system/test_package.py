"""The Debian package: built with dpkg-buildpackage from this tree, checked with lintian, and
its contents as a user gets them: the binary and the bundle loader where the binary looks for
it, man pages that render, completion that knows every option, shared-library dependencies.
One build per session (about a minute)."""

import re
import subprocess
from pathlib import Path

import pytest

from debpkg import build_deb

COMMANDS = ["flash", "go", "initrd", "bundle", "kexec", "status", "done"]
MAN_PAGES = ["man1/reimage.1.gz", "man1/reimage-flash.1.gz", "man1/reimage-go.1.gz",
             "man1/reimage-initrd.1.gz", "man1/reimage-kexec.1.gz", "man1/reimage-bundle.1.gz",
             "man5/reimage-job.5.gz"]
# named in a --help text but not options of that command: bundle's help describes the
# bundle file's own --yes
NOT_OPTIONS = {"bundle": {"--yes"}}
COMPLETION_BASH = "usr/share/bash-completion/completions/reimage"
COMPLETION_ZSH = "usr/share/zsh/vendor-completions/_reimage"


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """(deb, changes, root): the package and its contents unpacked into root."""
    d = tmp_path_factory.mktemp("deb")
    deb, changes = build_deb(d)
    root = d / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return deb, changes, root


def field(deb, name):
    r = subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                       check=True)
    return r.stdout.strip()


def test_lintian_has_no_errors(package):
    deb, changes, _ = package
    r = subprocess.run(["lintian", "--fail-on", "error", "--display-level", ">=warning",
                        str(changes)], capture_output=True, text=True, timeout=600)
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not re.search(r"^E: ", r.stdout, re.M), r.stdout


def test_control_fields(package):
    deb, _, _ = package
    depends = field(deb, "Depends")
    # from shlibs: the libraries the binary links, with versions
    for lib in ("libc6", "libcurl4", "libssl3", "libkmod2", "libmnl0", "libzstd1", "liblzma5",
                "zlib1g", "libbz2-1.0", "libblkid1"):
        assert re.search(r"\b%s \(>= " % re.escape(lib), depends) or lib in depends, depends
    recommends = [x.strip() for x in field(deb, "Recommends").split(",")]
    for pkg in ("dropbear-bin", "busybox-static", "gpgv", "kmod"):
        assert pkg in recommends, recommends
    # the static loader carries glibc's and nettle's code
    assert re.search(r"glibc \(= .+\).*nettle \(= .+\)", field(deb, "Built-Using"))


def test_contents(package):
    deb, _, root = package
    r = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True)
    listing = r.stdout
    for path in ["./usr/bin/reimage", "./usr/libexec/reimage/reimage-bundle-loader",
                 "./" + COMPLETION_BASH, "./" + COMPLETION_ZSH,
                 "./usr/share/doc/reimage/copyright", "./usr/share/doc/reimage/README.md.gz",
                 "./usr/share/doc/reimage/job-file.md.gz"] + \
            ["./usr/share/man/" + m for m in MAN_PAGES]:
        assert re.search(r" %s$" % re.escape(path), listing, re.M), path
    assert (root / "usr/bin/reimage").stat().st_mode & 0o111
    # the loader is static: it runs on machines with another libc or none
    r = subprocess.run(["file", "-b", str(root / "usr/libexec/reimage/reimage-bundle-loader")],
                       capture_output=True, text=True)
    if r.returncode == 0:
        assert "statically linked" in r.stdout or "static-pie" in r.stdout, r.stdout


def test_binary_looks_for_the_loader_where_the_package_puts_it(package, tmp_path):
    _, _, root = package
    exe = root / "usr/bin/reimage"
    r = subprocess.run([str(exe), "bundle", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "/usr/libexec/reimage" in r.stdout, r.stdout
    assert subprocess.run([str(exe), "--version"], capture_output=True,
                          text=True).stdout.startswith("reimage ")


@pytest.mark.parametrize("page", MAN_PAGES)
def test_man_page_renders(package, page):
    _, _, root = package
    path = root / "usr/share/man" / page
    r = subprocess.run(["man", "--warnings", "-l", "-Tutf8", str(path)], capture_output=True,
                       text=True, env={"MANWIDTH": "80", "LC_ALL": "C.UTF-8",
                                       "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    name = Path(page).name.rsplit(".", 2)[0]
    text = re.sub(r".\x08", "", r.stdout)
    assert text.startswith(name.upper() + "("), text[:200]
    for section in ("NAME", "DESCRIPTION"):
        assert re.search(r"^%s$" % section, text, re.M), (page, section)
    # groff's warnings mean a page that does not render right; a wide table (the job file's
    # keys) that cannot be justified exactly, or is squeezed to 80 columns, is only cosmetic
    cosmetic = (r"cannot adjust line|can't break line|table wider than line width|"
                r"table squeezed horizontally|^warning: file '<standard input>', around line")
    warnings = [l for l in r.stderr.splitlines() if l.strip() and not re.search(cosmetic, l.strip())]
    assert not warnings, r.stderr
    if name == "reimage":
        # the one exit-code table, with the codes every command shares
        status = text[text.index("EXIT STATUS"):]
        for code in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "128+N"):
            assert re.search(r"^\s+%s\s*$" % re.escape(code), status, re.M), code


@pytest.mark.parametrize("cmd", ["flash", "go", "initrd", "bundle", "kexec"])
def test_help_names_the_man_page(package, cmd):
    _, _, root = package
    r = subprocess.run([str(root / "usr/bin/reimage"), cmd, "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0
    assert "man reimage-%s" % cmd in r.stdout, r.stdout[-300:]
    assert (root / ("usr/share/man/man1/reimage-%s.1.gz" % cmd)).exists()


def help_options(exe, cmd):
    r = subprocess.run([str(exe), cmd, "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = re.sub(r"\$\([^)]*\)", "", r.stdout)  # "$(uname -r)" names no option
    # "--keep-*" in prose names a family of options, not one
    opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9]|-[a-zA-Z])(?![\w-])", text))
    return opts - NOT_OPTIONS.get(cmd, set())


def bash_complete(root, words):
    """What the installed bash completion offers for the command line words (the last one is
    being completed)."""
    script = (root / COMPLETION_BASH)
    line = " ".join(words)
    prog = ('source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\nCOMP_LINE=%s\n_reimage\n'
            'printf "%%s\\n" "${COMPREPLY[@]}"\n') % (
        script, " ".join("'%s'" % w for w in words), len(words) - 1, "'%s'" % line)
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


def test_bash_completion(package):
    _, _, root = package
    assert bash_complete(root, ["reimage", "fl"]) == {"flash"}
    assert bash_complete(root, ["reimage", "go", "--dr"]) == {"--dry-run"}
    assert bash_complete(root, ["reimage", "go", "--then", ""]) == \
        {"reboot", "poweroff", "hold", "kexec"}
    assert bash_complete(root, ["reimage", "initrd", "--compression", "z"]) == {"zstd"}
    assert bash_complete(root, ["reimage", "done", "re"]) == {"reboot"}
    assert {"-l", "-e", "-u", "-S", "-s"} <= bash_complete(root, ["reimage", "kexec", "-"])


@pytest.mark.parametrize("cmd", ["flash", "go", "initrd", "bundle", "kexec", "configure"])
def test_completion_knows_every_option(package, cmd):
    """The completions are written by hand: this is what keeps them in step with --help."""
    _, _, root = package
    opts = help_options(root / "usr/bin/reimage", cmd)
    offered = bash_complete(root, ["reimage", cmd, "-"])
    zsh = (root / COMPLETION_ZSH).read_text()
    missing_bash = sorted(o for o in opts if o not in offered)
    missing_zsh = sorted(o for o in opts if o.startswith("--") and
                         not re.search(r"(?:^|[{'(),*\s])%s(?:[\[,}=]|$)" % re.escape(o),
                                       zsh, re.M))
    assert not missing_bash, "bash completion lacks %s" % missing_bash
    assert not missing_zsh, "zsh completion lacks %s" % missing_zsh


def test_zsh_completion_loads(package):
    """The zsh completion parses, and compinit registers it for the reimage command."""
    _, _, root = package
    script = root / COMPLETION_ZSH
    r = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    prog = ("fpath=(%s $fpath); autoload -Uz compinit; compinit -u -D; "
            "print -r -- ${_comps[reimage]}" % script.parent)
    r = subprocess.run(["zsh", "-f", "-c", prog], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "_reimage", (r.stdout, r.stderr)
