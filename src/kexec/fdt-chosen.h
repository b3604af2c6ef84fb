/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device tree the next kernel gets from kexec_load: the running one (/sys/firmware/fdt)
 * with /chosen rewritten through libfdt (Documentation/devicetree/bindings/chosen.txt and
 * dtschema's chosen.yaml). Only the arm64 build has it (libfdt-dev is one architecture at a
 * time on Debian; the x86_64 build has no use for device trees). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A kernel needs at most a 2 MiB device tree (Documentation/arm64/booting.rst). */
#define FDT_MAX_SIZE (2U * 1024 * 1024)

struct fdt_chosen {
	const char *bootargs;
	uint64_t initrd_start, initrd_end; /* [start, end); both 0: no initramfs */
	const uint8_t *rng_seed;           /* bytes for the next kernel's entropy pool */
	size_t rng_seed_len;               /* 0: none */
	uint64_t kaslr_seed;               /* 0: none */
};

/* A copy of fdt[0..len) with /chosen (made if missing) holding bootargs, linux,initrd-start
 * and linux,initrd-end (64-bit), rng-seed and kaslr-seed from c; the previous values of these
 * are dropped, and so are what belongs to one boot only: a crash kernel's linux,elfcorehdr and
 * linux,usable-memory-range, and linux,booted-from-kexec. Everything else (UEFI's
 * linux,uefi-* properties, stdout-path, the memory nodes) stays. 0 with *ret (free() it) and
 * *ret_len; -EBADMSG when fdt is not a valid flattened device tree; -EFBIG when the result
 * would exceed FDT_MAX_SIZE; -ENOMEM. */
int fdt_chosen_update(const void *fdt, size_t len, const struct fdt_chosen *c, void **ret,
		      size_t *ret_len);
