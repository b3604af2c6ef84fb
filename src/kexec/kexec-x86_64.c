// SPDX-License-Identifier: GPL-2.0-or-later
/* x86_64 kexec_load, for kernels built without kexec_file_load: the bzImage's 64-bit kernel at
 * an aligned address in usable RAM, the initramfs, boot_params with the firmware's e820 map
 * (/sys/firmware/memmap) and the command line, and the purgatory, which checks the segments'
 * SHA-256 and enters the kernel's 64-bit entry (load address + 0x200) with %rsi = boot_params
 * (Documentation/x86/boot.rst, "64-bit Boot Protocol"). */
#include <errno.h>
#include <linux/kexec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "format/bzimage.h"
#include "format/iomem.h"
#include "kexec/kexec-internal.h"
#include "kexec/purgatory-blob.h"
#include "kexec/purgatory/purgatory.h"

#define KERNEL_MAX (512ULL << 20)
#define INITRD_MAX (2048ULL << 20)
/* below this the BIOS data, the EBDA and the real-mode area live */
#define LOW_LIMIT (1ULL << 20)
/* the kernel itself at or above 16 MiB, where bzImages prefer to be (pref_address) */
#define KERNEL_MIN (16ULL << 20)

#ifndef KEXEC_ARCH_X86_64
#define KEXEC_ARCH_X86_64 (62 << 16)
#endif

/* The firmware's memory map as the running kernel got it (/sys/firmware/memmap/N/): what the
 * next kernel must be told, not the running kernel's edited view. */
static int read_e820(struct e820_entry *e, size_t max, size_t *ret_n)
{
	size_t n = 0;

	for (unsigned i = 0; i < 1024; i++) {
		char path[96], *end;
		_cleanup_free_ uint8_t *s = NULL, *t = NULL, *y = NULL;
		size_t len;
		uint64_t a, b;

		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/start", i);
		if (access(path, F_OK) < 0)
			break;
		if (kexec_read_path(path, 64, &s, &len) < 0)
			return -EIO;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/end", i);
		if (kexec_read_path(path, 64, &t, &len) < 0)
			return -EIO;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/type", i);
		if (kexec_read_path(path, 256, &y, &len) < 0)
			return -EIO;
		y[strcspn((char *)y, "\n")] = 0;
		errno = 0;
		a = strtoull((char *)s, &end, 16);
		b = strtoull((char *)t, &end, 16);
		if (errno || b < a)
			return -EBADMSG;
		if (n == max)
			return -EFBIG;
		e[n++] = (struct e820_entry){ a, b - a + 1, e820_type_from_name((char *)y) };
	}
	if (n == 0)
		return -ENOENT;
	*ret_n = n;
	return 0;
}

/* ACPI's root pointer from the EFI system table, for a kernel that will not see EFI */
static uint64_t efi_rsdp(void)
{
	_cleanup_free_ uint8_t *t = NULL;
	size_t len;
	uint64_t v = 0;
	const char *p;

	if (kexec_read_path("/sys/firmware/efi/systab", 65536, &t, &len) < 0)
		return 0;
	if ((p = strstr((char *)t, "ACPI20=")) || (p = strstr((char *)t, "ACPI=")))
		v = strtoull(strchr(p, '=') + 1, NULL, 16);
	return v;
}

int kexec_x86_64_load(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		      char *why, size_t whylen)
{
	_cleanup_free_ uint8_t *kernel = NULL, *initrd = NULL, *bp = NULL;
	_cleanup_free_ struct iomem_ram *ram = malloc(sizeof(*ram));
	_cleanup_free_ struct e820_entry *e820 = calloc(E820_MAX_ENTRIES_ZEROPAGE, sizeof(*e820));
	size_t kernel_len = 0, initrd_len = 0, n_e820 = 0, nseg = 0, cl,
	       bp_len;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), kmem, imem = 0, bmem, kmemsz;
	struct bzimage bz;
	struct kexec_segment seg[4];
	int r;

	if (!ram || !e820)
		return -ENOMEM;
	r = kexec_read_fd(kernel_fd, KERNEL_MAX, &kernel, &kernel_len);
	if (r < 0) {
		snprintf(why, whylen, "cannot read the kernel %s: %s", kernel_name,
			 r == -EFBIG ? "larger than 512 MiB" : strerror(-r));
		return r;
	}
	r = bzimage_parse(kernel, kernel_len, &bz);
	if (r < 0) {
		snprintf(why, whylen, "%s is %s", kernel_name,
			 r == -ENOEXEC ? "not a bzImage"
			 : r == -EPROTONOSUPPORT
				 ? "a bzImage without a 64-bit entry loadable above 4 GiB (boot "
				   "protocol 2.12 or later): reimage's kexec_load cannot start it"
				 : "a bzImage with a damaged setup header");
		return r == -EBADMSG ? -EBADMSG : -ENOEXEC;
	}
	cl = strlen(cmdline);
	if (bz.cmdline_size && cl > bz.cmdline_size) {
		snprintf(why, whylen, "the command line is %zu bytes, over the kernel's limit of %u",
			 cl, bz.cmdline_size);
		return -EINVAL;
	}
	if (initrd_fd >= 0) {
		r = kexec_read_fd(initrd_fd, INITRD_MAX, &initrd, &initrd_len);
		if (r < 0) {
			snprintf(why, whylen, "cannot read the initramfs: %s", strerror(-r));
			return r;
		}
	}
	r = read_e820(e820, E820_MAX_ENTRIES_ZEROPAGE, &n_e820);
	if (r < 0) {
		snprintf(why, whylen,
			 "cannot read the firmware's memory map from /sys/firmware/memmap (%s): the "
			 "next kernel needs it",
			 strerror(-r));
		return r;
	}
	r = kexec_usable_ram(ram, why, whylen);
	if (r < 0)
		return r;

	/* the kernel decompresses itself in place: it needs init_size from its load address */
	kmemsz = kexec_round_up(MAX((uint64_t)(kernel_len - bz.setup_size), (uint64_t)bz.init_size),
				page);
	r = iomem_ram_take(ram, kmemsz, MAX((uint64_t)bz.kernel_alignment, page), KERNEL_MIN, &kmem);
	if (r < 0)
		goto no_room;
	seg[nseg++] = (struct kexec_segment){ kernel + bz.setup_size, kernel_len - bz.setup_size,
					      (void *)kmem, kmemsz };
	if (initrd) {
		r = iomem_ram_take(ram, kexec_round_up(initrd_len, page), page, LOW_LIMIT, &imem);
		if (r < 0)
			goto no_room;
		seg[nseg++] = (struct kexec_segment){ initrd, initrd_len, (void *)imem,
						      kexec_round_up(initrd_len, page) };
	}
	/* boot_params, then the command line right after it, in one segment */
	bp_len = BOOT_PARAMS_SIZE + cl + 1;
	bp = calloc(1, bp_len);
	if (!bp)
		return -ENOMEM;
	r = iomem_ram_take(ram, kexec_round_up(bp_len, page), page, LOW_LIMIT, &bmem);
	if (r < 0)
		goto no_room;
	memcpy(bp + BOOT_PARAMS_SIZE, cmdline, cl + 1);
	r = boot_params_build(bp, kernel, kernel_len, bmem + BOOT_PARAMS_SIZE, imem, initrd_len,
			      e820, n_e820, efi_rsdp());
	if (r < 0) {
		snprintf(why, whylen, "cannot make the boot parameters for %s: %s", kernel_name,
			 r == -EFBIG ? "the firmware's memory map has over 128 entries"
				     : "its setup header is damaged");
		return r;
	}
	seg[nseg++] = (struct kexec_segment){ bp, bp_len, (void *)bmem, kexec_round_up(bp_len, page) };

	r = kexec_purgatory_load(seg, nseg, purgatory_x86_64, purgatory_x86_64_size, kmem + 0x200, bmem /* boot_params, in %rsi */, ram, page,
				 LOW_LIMIT, KEXEC_ARCH_X86_64, kernel_name, why, whylen);
	if (r == -EADDRNOTAVAIL)
		goto no_room;
	return r;

no_room:
	return kexec_explain_no_room(kernel_name, kmemsz, initrd_len, "the boot parameters", why,
				     whylen);
}
