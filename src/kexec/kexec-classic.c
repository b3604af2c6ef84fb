// SPDX-License-Identifier: GPL-2.0-or-later
/* kexec_load(2): probing, unloading, the kernel's refusals explained, and the dispatch to the
 * machine's segment loader. */
#include "kexec/kexec-classic.h"

#include <errno.h>
#include <linux/kexec.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "format/iomem.h"
#include "kexec/kexec.h"
#include "kexec/kexec-internal.h"
#include "kexec/purgatory/purgatory.h"
#include "kexec/purgatory/sha256.h"

#ifndef KEXEC_ARCH_DEFAULT
#define KEXEC_ARCH_DEFAULT 0
#endif

int kexec_usable_ram(struct iomem_ram *ram, char *why, size_t whylen)
{
	_cleanup_free_ uint8_t *iomem = NULL;
	size_t len = 0;
	int r = kexec_read_path("/proc/iomem", 4U << 20, &iomem, &len);

	if (r >= 0)
		r = iomem_parse_usable_ram((const char *)iomem, len, ram);
	if (r < 0)
		snprintf(why, whylen, "cannot tell where RAM is from /proc/iomem: %s",
			 r == -EPERM ? "its addresses read as 0 (run as root)" : strerror(-r));
	return r;
}

void kexec_classic_explain(int err, const char *what, char *why, size_t whylen)
{
	char lock[64];

	switch (err) {
	case EPERM:
		if (kexec_explain_not_allowed(why, whylen))
			;
		else if (lockdown_mode(lock, sizeof(lock)) == 0 && strcmp(lock, "none") != 0)
			snprintf(why, whylen,
				 "the kernel is locked down (%s, e.g. Secure Boot) and refuses "
				 "kexec_load, the only loader this kernel has (it was built without "
				 "kexec_file_load, which could check a signed kernel): reimage cannot "
				 "kexec here; turn Secure Boot off, or boot a kernel with "
				 "CONFIG_KEXEC_FILE",
				 lock);
		else
			snprintf(why, whylen,
				 "the kernel refused kexec_load (no CAP_SYS_BOOT in this namespace, or "
				 "a security module said no)");
		break;
	case EACCES:
		snprintf(why, whylen,
			 "the kernel refused kexec_load (IMA: with Secure Boot on, only "
			 "signature-checked kexec_file_load is allowed, which this kernel lacks)");
		break;
	case ENOSYS:
		snprintf(why, whylen,
			 "this kernel has neither kexec_file_load nor kexec_load (built without "
			 "CONFIG_KEXEC and CONFIG_KEXEC_FILE, or a seccomp filter such as a "
			 "container's blocks both): this system cannot kexec; on a Raspberry Pi or "
			 "another board, check /boot/config-$(uname -r) (or /proc/config.gz) for "
			 "CONFIG_KEXEC=y");
		break;
	case EBUSY:
		snprintf(why, whylen,
			 "another kexec load or execution is in progress (or a secondary CPU is "
			 "stuck in the kernel); wait for it and try again");
		break;
	case EADDRNOTAVAIL:
	case ENOMEM:
		snprintf(why, whylen,
			 "not enough free RAM for %s: the kernel, the initramfs, the device tree "
			 "and the purgatory must each fit into usable RAM; free some memory or use "
			 "a smaller flasher",
			 what);
		break;
	case EINVAL:
		snprintf(why, whylen,
			 "the kernel refused the kexec_load segments of %s as invalid (together "
			 "over half of the RAM, or a layout it does not accept)",
			 what);
		break;
	default:
		snprintf(why, whylen, "kexec_load of %s failed: %s", what, strerror(err));
	}
}

int kexec_classic_probe(char *why, size_t whylen)
{
#if defined(__aarch64__) || defined(__x86_64__)
	/* kexec_load checks the caller's permission, the lockdown and IMA hooks, then the flags
	 * (kernel/kexec.c, kexec_load_check): an unknown flag tells "allowed" (EINVAL) from
	 * "refused" without loading anything */
	if (syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x8000UL) == 0 || errno == EINVAL)
		return 0;
	{
		int err = errno;
		kexec_classic_explain(err, "the kernel", why, whylen);
		return -err;
	}
#else
	snprintf(why, whylen,
		 "this kernel has no kexec_file_load, and reimage's kexec_load loader exists only "
		 "for arm64 and x86_64: boot a kernel built with CONFIG_KEXEC_FILE");
	return -EPROTONOSUPPORT;
#endif
}

int kexec_classic_unload(char *why, size_t whylen)
{
	if (syscall(SYS_kexec_load, 0UL, 0UL, NULL, (unsigned long)KEXEC_ARCH_DEFAULT) < 0) {
		int err = errno;
		snprintf(why, whylen, "unloading the kexec image failed: %s", strerror(err));
		return -err;
	}
	return 0;
}

int kexec_classic_load(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		       char *why, size_t whylen)
{
#if defined(__aarch64__)
	return kexec_arm64_load(kernel_fd, kernel_name, initrd_fd, cmdline, why, whylen);
#elif defined(__x86_64__)
	return kexec_x86_64_load(kernel_fd, kernel_name, initrd_fd, cmdline, why, whylen);
#else
	(void)kernel_fd, (void)kernel_name, (void)initrd_fd, (void)cmdline;
	return kexec_classic_probe(why, whylen);
#endif
}

int kexec_explain_no_room(const char *kernel_name, uint64_t kernel_size, uint64_t initrd_size,
			  const char *what_else, char *why, size_t whylen)
{
	snprintf(why, whylen,
		 "no room in usable RAM for the kernel %s (%llu MiB), the initramfs (%llu MiB) "
		 "and %s: free some memory or use a smaller flasher",
		 kernel_name, (unsigned long long)(kernel_size >> 20),
		 (unsigned long long)(initrd_size >> 20), what_else);
	return -EADDRNOTAVAIL;
}

int kexec_purgatory_load(struct kexec_segment *seg, size_t nseg, const uint8_t *blob,
			 size_t blob_size, uint64_t entry, uint64_t arg, struct iomem_ram *ram,
			 uint64_t page, uint64_t min, unsigned long arch, const char *kernel_name,
			 char *why, size_t whylen)
{
	_cleanup_free_ uint8_t *purg = NULL;
	struct purgatory_params params;
	struct sha256_ctx sc;
	uint64_t mem;
	size_t poff;
	int r;

	purg = malloc(blob_size);
	if (!purg)
		return -ENOMEM;
	memcpy(purg, blob, blob_size);
	for (poff = 0; poff + sizeof(params) <= blob_size; poff += 8)
		if (memcmp(purg + poff, PURGATORY_MAGIC, 8) == 0)
			break;
	if (poff + sizeof(params) > blob_size) {
		snprintf(why, whylen, "reimage's purgatory has no parameter block (a build error)");
		return -EBADMSG;
	}
	memcpy(&params, purg + poff, sizeof(params));
	params.kernel_entry = entry;
	params.dtb = arg;
	/* the purgatory last: its parameters hold the digest of everything before it */
	sha256_init(&sc);
	for (size_t i = 0; i < nseg; i++) {
		params.regions[i] = (struct purgatory_region){ (uint64_t)(uintptr_t)seg[i].mem,
							       seg[i].bufsz };
		sha256_update(&sc, seg[i].buf, seg[i].bufsz);
	}
	params.nr_regions = nseg;
	sha256_final(&sc, params.sha256);
	memcpy(purg + poff, &params, sizeof(params));
	r = iomem_ram_take(ram, kexec_round_up(blob_size, page), page, min, &mem);
	if (r < 0)
		return -EADDRNOTAVAIL;
	seg[nseg++] = (struct kexec_segment){ purg, blob_size, (void *)mem,
					      kexec_round_up(blob_size, page) };
	/* the kernel copies the segments now: the buffers may go when it returns */
	if (syscall(SYS_kexec_load, mem, (unsigned long)nseg, seg, arch) < 0) {
		int err = errno;
		kexec_classic_explain(err, kernel_name, why, whylen);
		return -err;
	}
	return 0;
}
