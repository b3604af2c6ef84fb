/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kexec_load(2) with segments reimage lays out itself, for kernels built without
 * kexec_file_load (Debian's arm64 kernels): the kernel image, the initramfs, a device tree and
 * reimage's purgatory, which checks the segments' SHA-256 before it enters the kernel.
 * Implemented for arm64; on other machines every call says it is not. */
#pragma once

#include <stddef.h>

/* Load kernel_fd (kernel_name for messages) with initrd_fd (-1: none) and cmdline. 0, or
 * -errno with the cause and the way out in why: -EPERM under lockdown (the kernel refuses
 * kexec_load of anything unsigned), -ENOEXEC for a kernel this loader does not know,
 * -EPROTONOSUPPORT on a machine without a kexec_load loader in reimage. */
int kexec_classic_load(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		       char *why, size_t whylen);

/* Can this process load with kexec_load? 0; -EPROTONOSUPPORT when reimage has no kexec_load
 * loader for this machine; or the kernel's refusal (-ENOSYS, -EPERM, -EACCES) with why.
 * Loads nothing. */
int kexec_classic_probe(char *why, size_t whylen);

/* Unload what kexec_load loaded. 0 or -errno with why. */
int kexec_classic_unload(char *why, size_t whylen);
