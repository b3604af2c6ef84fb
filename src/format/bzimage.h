/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The x86 boot protocol for a 64-bit entry (Documentation/x86/boot.rst): the bzImage setup
 * header that says how to load the kernel, and the "zero page" (struct boot_params,
 * Documentation/x86/zero-page.rst) a boot loader hands the kernel in %rsi. Pure: the caller
 * supplies the memory map and addresses. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BOOT_PARAMS_SIZE 4096
#define E820_MAX_ENTRIES_ZEROPAGE 128

struct bzimage {
	size_t setup_size;       /* (setup_sects + 1) * 512: where the 64-bit kernel starts */
	uint16_t version;        /* boot protocol, e.g. 0x020f */
	uint32_t kernel_alignment;
	uint32_t init_size;      /* memory the kernel needs from its load address */
	uint64_t pref_address;
	uint32_t cmdline_size;   /* longest command line, without the NUL */
};

struct e820_entry {
	uint64_t addr, size;
	uint32_t type; /* 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable, 7 pmem, ... */
};

/* Parse the setup header of buf[0..len). 0; -ENOEXEC when it is not a bzImage; -EPROTONOSUPPORT
 * when it has no 64-bit entry or cannot be loaded above 4 GiB, or its protocol is before 2.12;
 * -EBADMSG for a header that contradicts itself (setup beyond the file, alignment not a power
 * of two, init_size 0). */
int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage *ret);

/* The e820 type of a /sys/firmware/memmap/N/type name ("System RAM" -> 1, unknown -> 2). */
uint32_t e820_type_from_name(const char *name);

/* Fill bp[BOOT_PARAMS_SIZE]: zeroes, the kernel's own setup header copied from kernel (its
 * length is in the header itself), then what the loader says: type_of_loader 0xff, the
 * command line's and the initramfs' addresses (64-bit, split into the ext_* fields), the e820
 * map (at most E820_MAX_ENTRIES_ZEROPAGE entries) and the ACPI RSDP (0: let the kernel
 * search). 0, or -EBADMSG when the setup header's length runs past kernel_len, -EFBIG for
 * too many e820 entries. */
int boot_params_build(uint8_t *bp, const uint8_t *kernel, size_t kernel_len, uint64_t cmdline,
		      uint64_t initrd, uint64_t initrd_size, const struct e820_entry *e820,
		      size_t n_e820, uint64_t rsdp);
