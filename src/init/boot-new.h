/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Booting the system that was just written, without a firmware POST: find its kernel, initrd and
 * command line on the disk (Boot Loader Specification entries, else /boot/vmlinuz), load them
 * with kexec_file_load and jump. */
#pragma once

#include <stddef.h>

/* target is the written whole disk ("/dev/vda"). Re-reads its partition table, mounts its file
 * systems read-only under /run/reimage/new-*, picks what to boot (docs/flasher.md), loads it,
 * unmounts, syncs and reboot(RB_KEXEC)s. Returns only on failure: -errno with the reason in
 * err, everything unmounted and nothing left loaded; the caller then reboots normally. Self-
 * contained: needs only /dev, /proc, /sys and /run mounted, from any process of the flasher. */
int boot_new_system(const char *target, char *err, size_t errlen);
