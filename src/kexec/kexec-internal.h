/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the kexec_load loaders of src/kexec/. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct iomem_ram;
struct kexec_segment;

/* The last step of both loaders: a copy of the purgatory blob, its parameter block filled
 * with entry, arg (x0 on arm64, %rsi on x86_64) and the place and SHA-256 of every segment in
 * seg[0..nseg), goes into usable RAM at or above min as segment nseg (seg has room for it);
 * then kexec_load(arch). 0; -EADDRNOTAVAIL when RAM has no room for it (the caller says what
 * did not fit); -EBADMSG for a blob without its parameter block; -ENOMEM; or the kernel's
 * refusal, explained for kernel_name in why. */
int kexec_purgatory_load(struct kexec_segment *seg, size_t nseg, const uint8_t *blob,
			 size_t blob_size, uint64_t entry, uint64_t arg, struct iomem_ram *ram,
			 uint64_t page, uint64_t min, unsigned long arch, const char *kernel_name,
			 char *why, size_t whylen);

/* why = the kernel, the initramfs and the third segment (what_else) did not all fit in usable
 * RAM, with their sizes; returns -EADDRNOTAVAIL. */
int kexec_explain_no_room(const char *kernel_name, uint64_t kernel_size, uint64_t initrd_size,
			  const char *what_else, char *why, size_t whylen);

/* The usable RAM of this machine from /proc/iomem into ram. 0, or -errno with why set. */
int kexec_usable_ram(struct iomem_ram *ram, char *why, size_t whylen);

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
