#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-or-later
"""Ansible module: reimage a host in place with `reimage go`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: reimage
short_description: Reimage a Linux host in place with reimage go
description:
  - Runs C(reimage go) on the managed host. In check mode it runs C(reimage go --dry-run) and
    returns the plan as data (source, verification, target disk, kernel, flasher, memory,
    network, what comes next); nothing is loaded and nothing written.
  - Without check mode it first makes the same dry run (so every refusal -- unreachable source,
    wrong disk, not enough memory -- comes back as a task failure while the host is still
    reachable), then starts C(reimage go --yes) detached, a few seconds later, and returns
    C(handed_over=true). The SSH connection then goes away with the old kernel; follow the
    task with M(ansible.builtin.wait_for_connection), and use C(report) to learn what the
    flasher did in between.
  - The reimage binary must be installed on the host. Needs root (C(become)).
version_added: "0.1.0"
options:
  src:
    description: The image URL (http or https).
    type: str
  to:
    description: The whole disk to overwrite, e.g. C(/dev/sda).
    type: str
  sha256:
    description: SHA-256 of the image as published.
    type: str
  sums:
    description: A SHA256SUMS file or URL; the entry is picked by the image's file name.
    type: str
  sums_sig:
    description: Detached OpenPGP signature of I(sums) (with I(keyring)).
    type: str
  keyring:
    description: The keys that sign I(sums).
    type: path
  minisig:
    description: A minisign signature of the image (with I(pubkey)).
    type: str
  pubkey:
    description: The minisign public key (a file on the host, or the key line).
    type: str
  image_sha256:
    description: SHA-256 of the decompressed image.
    type: str
  verify:
    description: Read the written disk back and compare.
    type: bool
    default: false
  headers:
    description: "Request headers for the image server, each 'Name: value'; secrets."
    type: list
    elements: str
    no_log: true
  then:
    description: What the flasher does after a verified write.
    type: str
    choices: [reboot, poweroff, kexec, hold]
    default: reboot
  report:
    description: The collector URL that receives the run's JSON events (docs/fleet.md).
    type: str
  report_headers:
    description: "Headers for the collector, each 'Name: value'; secrets."
    type: list
    elements: str
    no_log: true
  report_cacert:
    description: CA certificates for the collector (a file on the host).
    type: path
  start_jitter:
    description: Wait a random time up to this before the flasher's first request (C(30s), C(5m)).
    type: str
  kernel:
    description: The kernel to load (default the running one's image in /boot).
    type: path
  extra_args:
    description: More C(reimage go) options, one list element each.
    type: list
    elements: str
    default: []
  binary:
    description: The reimage program on the host.
    type: str
    default: reimage
  handover_delay:
    description: Seconds between the module's return and the hand-over, so that its result
      reaches the controller before the connection goes.
    type: int
    default: 10
author:
  - reimage developers
"""

EXAMPLES = r"""
- name: What would happen (nothing is loaded)
  reimage.fleet.reimage:
    src: https://images.example/debian-13.img.zst
    sums: https://images.example/SHA256SUMS
    to: /dev/sda
  check_mode: true
  register: plan

- name: Hand over to the flasher
  reimage.fleet.reimage:
    src: https://images.example/debian-13.img.zst
    sums: https://images.example/SHA256SUMS
    to: /dev/sda
    report: https://collector.example/reimage
    report_headers: ["Authorization: Bearer {{ collector_token }}"]
    start_jitter: 30s
"""

RETURN = r"""
plan:
  description: The plan of C(reimage go --dry-run) as data. With a reimage that has
    C(go --json), its JSON object; else the plan's lines as keys (source, verify, target,
    kernel, flasher, memory, network, then, ...), each a string, or a list of strings when the
    line continues.
  returned: always
  type: dict
plan_text:
  description: The plan as reimage printed it.
  returned: always
  type: str
handed_over:
  description: True when C(reimage go --yes) was started (not in check mode).
  returned: always
  type: bool
boot_id:
  description: The old system's boot id (/proc/sys/kernel/random/boot_id); the new system's
    differs.
  returned: always
  type: str
command:
  description: The C(reimage go) command line, secrets replaced by C(***).
  returned: always
  type: list
"""

import json
import os
import re
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule

PLAN_LINE = re.compile(r"^  ([a-z][a-z -]*):\s+(.*)$")
CONTINUED = re.compile(r"^ {4,}(\S.*)$")


def parse_plan_text(text):
    """The text plan of `reimage go` ("  key:   value", continuation lines indented deeper)
    as a dict. Lines before "reimage go: plan" and after it ends are ignored."""
    plan, key, inside = {}, None, False
    for line in text.splitlines():
        if line.startswith("reimage go: plan"):
            inside = True
            continue
        if not inside:
            continue
        m = PLAN_LINE.match(line)
        if m:
            key = m.group(1).strip().replace(" ", "_").replace("-", "_")
            value = m.group(2).strip()
            if key in plan:  # a repeated key ("verify:" twice) becomes a list
                if not isinstance(plan[key], list):
                    plan[key] = [plan[key]]
                plan[key].append(value)
            else:
                plan[key] = value
            continue
        m = CONTINUED.match(line)
        if m and key:
            if not isinstance(plan[key], list):
                plan[key] = [plan[key]]
            plan[key].append(m.group(1))
            continue
        if line.startswith("dry run:"):
            plan["dry_run"] = line
        key = None
    return plan


def header_file(lines):
    """The headers in a 0600 file under /run (a tmpfs: gone with the old system), so that no
    secret is in the process list."""
    fd, path = tempfile.mkstemp(prefix="reimage-ansible-", dir="/run" if os.access("/run", os.W_OK)
                                else None)
    with os.fdopen(fd, "w") as f:
        f.write("".join(h + "\n" for h in lines))
    return path


def go_args(p, files):
    args = ["go"]
    if p["src"]:
        args.append(p["src"])
    if p["to"]:
        args += ["--to", p["to"]]
    for opt in ("sha256", "sums", "sums_sig", "keyring", "minisig", "pubkey", "image_sha256",
                "report", "report_cacert", "start_jitter", "kernel"):
        if p[opt]:
            args += ["--" + opt.replace("_", "-"), str(p[opt])]
    if p["verify"]:
        args.append("--verify")
    if p["then"] == "hold":
        args.append("--hold")
    elif p["then"] != "reboot":
        args += ["--then", p["then"]]
    if p["headers"]:
        files.append(header_file(p["headers"]))
        args += ["--header-file", files[-1]]
    if p["report_headers"]:
        files.append(header_file(p["report_headers"]))
        args += ["--report-header-file", files[-1]]
    return args + list(p["extra_args"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="str"),
            to=dict(type="str"),
            sha256=dict(type="str"),
            sums=dict(type="str"),
            sums_sig=dict(type="str"),
            keyring=dict(type="path"),
            minisig=dict(type="str"),
            pubkey=dict(type="str"),
            image_sha256=dict(type="str"),
            verify=dict(type="bool", default=False),
            headers=dict(type="list", elements="str", no_log=True),
            then=dict(type="str", default="reboot",
                      choices=["reboot", "poweroff", "kexec", "hold"]),
            report=dict(type="str"),
            report_headers=dict(type="list", elements="str", no_log=True),
            report_cacert=dict(type="path"),
            start_jitter=dict(type="str"),
            kernel=dict(type="path"),
            extra_args=dict(type="list", elements="str", default=[]),
            binary=dict(type="str", default="reimage"),
            handover_delay=dict(type="int", default=5),
        ),
        required_if=[("then", "reboot", ("src", "to")), ("then", "poweroff", ("src", "to")),
                     ("then", "kexec", ("src", "to"))],
        required_together=[("minisig", "pubkey"), ("sums_sig", "keyring")],
        supports_check_mode=True,
    )
    p = module.params
    binary = module.get_bin_path(p["binary"], required=False, opt_dirs=["/usr/local/bin"]) \
        if "/" not in p["binary"] else p["binary"]
    if not binary or not os.access(binary, os.X_OK):
        module.fail_json(msg="reimage is not installed on this host (looked for %s); install it "
                             "first (the package, or copy the binary)" % p["binary"])
    files = []
    try:
        run(module, p, binary, files)
    finally:
        # exit_json/fail_json end the process through here; a detached run removes its own
        if not getattr(module, "_reimage_detached", False):
            for f in files:
                os.unlink(f)


def run(module, p, binary, files):
    args = [binary] + go_args(p, files)
    result = dict(changed=False, handed_over=False, command=args, plan={}, plan_text="",
                  boot_id="")
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            result["boot_id"] = f.read().strip()
    except OSError:
        pass

    # the dry run: the plan, and every refusal while the host can still answer
    rc, out, err = module.run_command(args + ["--dry-run", "--json"])
    plan = None
    if rc == 0:
        try:
            plan = json.loads(out)
        except ValueError:
            plan = None
    elif "unrecognized option" in err and "--json" in err:
        rc, out, err = module.run_command(args + ["--dry-run"])
    if rc != 0:
        result.update(rc=rc, stdout=out, stderr=err)
        module.fail_json(msg="reimage go refused: %s" % (err.strip().splitlines() or ["exit %d" % rc])[-1],
                         **result)
    result["plan"] = plan if isinstance(plan, dict) else parse_plan_text(out)
    result["plan_text"] = out if plan is None else ""
    result["changed"] = True  # the disk will be overwritten (or the host held)
    if module.check_mode:
        module.exit_json(**result)

    # the hand-over: detached from this SSH session, after the module has answered
    log = "/var/log/reimage-go.log"
    # reimage reads the header files at once; they go whatever happens next
    script = "sleep %d; %s </dev/null >>%s 2>&1; rm -f %s" % (
        max(0, p["handover_delay"]), " ".join(shlex.quote(a) for a in args + ["--yes"]), log,
        " ".join(shlex.quote(f) for f in files))
    rc, out, err = module.run_command(
        ["setsid", "-f", "/bin/sh", "-c", script], environ_update={"LC_ALL": "C"})
    if rc != 0:
        module.fail_json(msg="could not start reimage go: %s" % err.strip(), **result)
    module._reimage_detached = True
    result.update(handed_over=True, log=log)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
