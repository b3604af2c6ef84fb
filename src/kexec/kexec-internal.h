/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the kexec_load loaders of src/kexec/. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* why = what the kernel's errno err from kexec_load means, for loading what */
void kexec_classic_explain(int err, const char *what, char *why, size_t whylen);
/* the arm64 segment loader (kexec-arm64.c; arm64 builds only) */
int kexec_arm64_load(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		     char *why, size_t whylen);
/* the x86_64 segment loader (kexec-x86_64.c; x86_64 builds only) */
int kexec_x86_64_load(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		      char *why, size_t whylen);

/* The whole file fd (a regular file or memfd: its size up front) or path (proc and sysfs
 * files: read to EOF) into a new buffer with a NUL after the end. 0, -EFBIG over max,
 * -errno. */
int kexec_read_fd(int fd, uint64_t max, uint8_t **ret, size_t *ret_len);
int kexec_read_path(const char *path, uint64_t max, uint8_t **ret, size_t *ret_len);

static inline uint64_t kexec_round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}
