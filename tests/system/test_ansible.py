"""The Ansible collection in contrib/ansible (reimage.fleet), run by Debian's ansible-core on
this machine (connection local): check mode returns `reimage go --dry-run`'s plan as data; a
refusal fails the task while the host can still answer; a real run hands over detached, after
the module has returned (with the old boot id), with the headers in 0600 files rather than on a command line (a
stand-in records that hand-over: this machine must never kexec). The example playbook passes
ansible-playbook --syntax-check. Two VMs reimaged by the playbook:
tests/e2e/test_fleet_ansible.py."""

import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).resolve().parents[2] / "contrib" / "ansible"
PLAYBOOK = COLLECTIONS / "ansible_collections" / "reimage" / "fleet" / "playbooks" / \
    "reimage-fleet.yml"
SECRET = "ansible-s3cr3t-b0b"
MiB = 1 << 20



def ansible_playbook(tmp_path, play, extra=()):
    if not shutil.which("ansible-playbook"):
        pytest.fail("needs ansible-core (scripts/install-deps)")
    pb = tmp_path / "play.yml"
    pb.write_text(play)
    inv = tmp_path / "inventory"
    inv.write_text("localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ans-local"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ans-remote"))
    r = subprocess.run(["ansible-playbook", "-i", str(inv), str(pb), *extra], env=env,
                       capture_output=True, text=True, timeout=600)
    print(r.stdout[-6000:], r.stderr[-3000:])
    return r


PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - reimage.fleet.reimage:
        binary: {binary}
        src: {src}
        to: {to}
        sha256: {sha}
        kernel: {kernel}
        headers: ["Authorization: Bearer {secret}"]
        report: http://127.0.0.1:9/events
        report_headers: ["X-Token: {secret}"]
        start_jitter: 30s
        extra_args: ["--no-carry-network"]
        handover_delay: 1
      register: result
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{{{ result | to_json }}}}"
        dest: {out}
      check_mode: false
"""


def play(tmp_path, binary, src, to, sha, kernel):
    out = tmp_path / "result.json"
    return PLAY.format(binary=binary, src=src, to=to, sha=sha, kernel=kernel, secret=SECRET,
                       out=out), out


@pytest.fixture
def target(loopdev, tmp_path):
    dev = loopdev(16 * MiB, pattern=False)
    kernel = tmp_path / "vmlinuz"  # a dry run never loads it
    kernel.write_bytes(b"not loaded in a dry run")
    return dev, kernel


def test_check_mode_returns_the_plan(reimage_bin, nginx, served, images, target, tmp_path):
    dev, kernel = target
    text, out = play(tmp_path, reimage_bin, nginx.url(served["zstd"]), dev.path,
                     images.sha("zstd"), kernel)
    r = ansible_playbook(tmp_path, text, ["--check"])
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(out.read_text())
    assert res["changed"] is True and res["handed_over"] is False, res
    plan = res["plan"]
    # the plan as data: from go --json when reimage has it, else from the text plan
    flat = json.dumps(plan)
    assert nginx.url(served["zstd"]) in flat and dev.path in flat, plan
    assert images.sha("zstd") in flat and "reboot" in flat
    if "source" in plan and isinstance(plan["source"], str):
        assert plan["source"].startswith(nginx.url(served["zstd"]) + " (zstd")
        # a line the plan continues on the next becomes a list
        assert plan["target"][0].startswith(dev.path + ": ") and len(plan["target"]) == 2
        assert plan["hand_over"] in ("sync + reboot(KEXEC)", "systemctl kexec")
        assert plan["then"] == "reboot" and plan["network"].startswith("DHCP")
        assert plan["dry_run"].startswith("dry run: nothing was loaded")
    assert SECRET not in r.stdout + r.stderr + out.read_text()


def test_refusal_fails_the_task(reimage_bin, nginx, served, images, target, tmp_path):
    _dev, kernel = target
    text, out = play(tmp_path, reimage_bin, nginx.url(served["zstd"]), "/dev/null",
                     images.sha("zstd"), kernel)
    r = ansible_playbook(tmp_path, text)
    res = json.loads(out.read_text())
    assert res["failed"] is True and res["handed_over"] is False
    assert "reimage go refused: " in res["msg"] and "is not a block device" in res["msg"], res
    assert SECRET not in r.stdout + r.stderr + out.read_text()


STAND_IN = """#!/bin/sh
# the real reimage for the dry run; a recorder for the hand-over (this machine must not kexec)
case " $* " in
*" --dry-run "*) exec {real} "$@" ;;
esac
{{
  echo "ARGS $*"
  for a in "$@"; do
    if [ -n "$next" ]; then echo "FILE $(stat -c %a "$a") $(cat "$a")"; fi
    next=; case "$a" in --header-file|--report-header-file) next=1 ;; esac
  done
  echo "SESSION $(ps -o sid= -p $$) PARENT-SESSION {session}"
}} > {record}
"""


def test_real_run_hands_over_detached(reimage_bin, nginx, served, images, target, tmp_path):
    dev, kernel = target
    record = tmp_path / "handover.txt"
    stand_in = tmp_path / "reimage"
    stand_in.write_text(STAND_IN.format(real=reimage_bin, record=record,
                                        session=os.getsid(0)))
    stand_in.chmod(0o755)
    text, out = play(tmp_path, stand_in, nginx.url(served["zstd"]), dev.path,
                     images.sha("zstd"), kernel)
    t0 = time.monotonic()
    r = ansible_playbook(tmp_path, text)
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(out.read_text())
    assert res["changed"] is True and res["handed_over"] is True, res
    # the playbook tells the new system from the old one by this
    assert res["boot_id"] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    # the module returned before the hand-over (handover_delay 1 s) ...
    assert not record.exists() or time.monotonic() - t0 > 1
    deadline = time.monotonic() + 30
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = record.read_text().splitlines()
    args = lines[0].split()
    assert args[1:3] == ["go", nginx.url(served["zstd"])] and args[-1] == "--yes", args
    assert "--to" in args and dev.path in args and "--start-jitter" in args
    assert "--report" in args and "http://127.0.0.1:9/events" in args
    # ... with the headers in 0600 files, never on its command line
    assert SECRET not in lines[0]
    files = [l for l in lines if l.startswith("FILE ")]
    assert files == ["FILE 600 Authorization: Bearer " + SECRET, "FILE 600 X-Token: " + SECRET]
    # in a session of its own, so the SSH session's end does not take it along
    sess = [l for l in lines if l.startswith("SESSION")][0].split()
    assert sess[1] != sess[3], sess
    # the header files are gone once reimage go has read them
    time.sleep(0.5)
    assert not [p for p in Path("/run").glob("reimage-ansible-*")]
    assert SECRET not in r.stdout + r.stderr + out.read_text()


def test_example_playbook_syntax(tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    inv = tmp_path / "inventory"
    inv.write_text("[reimage]\nweb1 ansible_host=127.0.0.1\n")
    r = subprocess.run(["ansible-playbook", "-i", str(inv), "--syntax-check", str(PLAYBOOK)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["ansible-doc", "reimage.fleet.reimage"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "check mode" in r.stdout, r.stdout + r.stderr
