/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the kexec_load loaders of src/kexec/. */
#pragma once

#include <stddef.h>

/* why = what the kernel's errno err from kexec_load means, for loading what */
void kexec_classic_explain(int err, const char *what, char *why, size_t whylen);
/* the arm64 segment loader (kexec-arm64.c; arm64 builds only) */
int kexec_arm64_load(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		     char *why, size_t whylen);
