// SPDX-License-Identifier: GPL-2.0-or-later
/* arm64 kexec_load: lay out the kernel Image, the initramfs, the device tree and the purgatory
 * in usable RAM, and hand the kernel the segments. The kernel's relocate_kernel copies them
 * into place at kexec time and jumps to the purgatory with the MMU off; the purgatory checks
 * their SHA-256 and enters the Image with x0 = the device tree (Documentation/arm64/booting.rst). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "basic/macro.h"
#include "format/arm64-image.h"
#include "format/iomem.h"
#include "kexec/fdt-chosen.h"
#include "kexec/kexec-internal.h"
#include "kexec/purgatory-blob.h"
#include "kexec/purgatory/purgatory.h"

/* the largest kernel (compressed or not) and initramfs we read into memory */
#define KERNEL_MAX (512ULL << 20)
#define INITRD_MAX (2048ULL << 20)

#ifndef KEXEC_ARCH_ARM64
#define KEXEC_ARCH_ARM64 (183 << 16)
#endif

/* one gzip member from in[0..len) into a new buffer of at most KERNEL_MAX */
static int gunzip(const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *out = NULL;
	size_t cap = len * 4 > (64u << 20) ? len * 4 : (64u << 20);
	z_stream z = {};
	int zr;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)len;
	for (;;) {
		uint8_t *b;
		if (cap > KERNEL_MAX) {
			inflateEnd(&z);
			return -EFBIG;
		}
		b = realloc(out, cap);
		if (!b) {
			inflateEnd(&z);
			return -ENOMEM;
		}
		out = b;
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0)) {
			inflateEnd(&z);
			return -EBADMSG;
		}
		if (z.avail_in == 0 && z.avail_out != 0) { /* ran out of input mid-stream */
			inflateEnd(&z);
			return -EBADMSG;
		}
		cap *= 2;
	}
	*ret_len = z.total_out;
	inflateEnd(&z);
	*ret = TAKE_PTR(out);
	return 0;
}

/* The Image itself, unwrapped from gzip or EFI zboot if need be (the kernel cannot kexec a
 * compressed one: kexec_load has no decompressor). *kernel is replaced when unwrapped. */
static int unwrap_kernel(uint8_t **kernel, size_t *len, const char *name, char *why,
			 size_t whylen)
{
	enum kernel_wrapper w;
	uint64_t off = 0, size = 0;
	char type[40] = "";
	uint8_t *out = NULL;
	size_t out_len = 0;
	int r = kernel_wrapper_detect(*kernel, *len, &w, &off, &size, type, sizeof(type));

	if (r < 0) {
		snprintf(why, whylen,
			 "%s is not an arm64 kernel reimage can kexec (neither an Image, nor a "
			 "gzip'd Image, nor an EFI zboot image)%s",
			 name, r == -EBADMSG ? ": its EFI zboot header is damaged" : "");
		return r == -EBADMSG ? -EBADMSG : -ENOEXEC;
	}
	if (w == KERNEL_WRAPPER_NONE)
		return 0;
	if (w == KERNEL_WRAPPER_ZBOOT && strcmp(type, "gzip") != 0) {
		snprintf(why, whylen,
			 "%s is an EFI zboot image compressed with %s; reimage unpacks gzip ones: "
			 "give it the uncompressed Image",
			 name, type);
		return -EPROTONOSUPPORT;
	}
	r = w == KERNEL_WRAPPER_GZIP ? gunzip(*kernel, *len, &out, &out_len)
				     : gunzip(*kernel + off, (size_t)size, &out, &out_len);
	if (r < 0) {
		snprintf(why, whylen, "%s: its compressed kernel is %s", name,
			 r == -EFBIG ? "larger than 512 MiB unpacked" : "damaged");
		return r;
	}
	free(*kernel);
	*kernel = out;
	*len = out_len;
	return 0;
}

int kexec_arm64_load(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		     char *why, size_t whylen)
{
	_cleanup_free_ uint8_t *kernel = NULL, *initrd = NULL, *fdt = NULL;
	_cleanup_free_ void *dtb = NULL;
	_cleanup_free_ struct iomem_ram *ram = malloc(sizeof(*ram));
	size_t kernel_len = 0, initrd_len = 0, fdt_len = 0, dtb_len = 0;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), base, kernel_mem, initrd_mem = 0, dtb_mem,
		 kernel_memsz;
	struct arm64_image img;
	struct kexec_segment seg[4];
	uint8_t seed[64];
	uint64_t kaslr = 0;
	size_t nseg = 0;
	int r;

	if (!ram)
		return -ENOMEM;
	r = kexec_read_fd(kernel_fd, KERNEL_MAX, &kernel, &kernel_len);
	if (r < 0) {
		snprintf(why, whylen, "cannot read the kernel %s: %s", kernel_name,
			 r == -EFBIG ? "larger than 512 MiB" : strerror(-r));
		return r;
	}
	r = unwrap_kernel(&kernel, &kernel_len, kernel_name, why, whylen);
	if (r < 0)
		return r;
	r = arm64_image_parse(kernel, kernel_len, &img);
	if (r < 0) {
		snprintf(why, whylen, "%s: %s", kernel_name,
			 r == -ENOEXEC	       ? "not an arm64 Image (no ARM\\x64 magic)"
			 : r == -EPROTONOSUPPORT ? "a big-endian kernel, or one older than Linux "
						   "3.17 (its header has no image size): reimage "
						   "cannot place it"
						 : "its arm64 Image header is damaged");
		return r;
	}
	/* a kernel with another page size than ours boots fine: only the segments' alignment
	 * is ours, and 4 KiB-aligned placement is all booting.rst asks of the Image */
	if (initrd_fd >= 0) {
		r = kexec_read_fd(initrd_fd, INITRD_MAX, &initrd, &initrd_len);
		if (r < 0) {
			snprintf(why, whylen, "cannot read the initramfs: %s", strerror(-r));
			return r;
		}
	}
	r = kexec_read_path("/sys/firmware/fdt", FDT_MAX_SIZE, &fdt, &fdt_len);
	if (r < 0) {
		snprintf(why, whylen,
			 "cannot read the running device tree /sys/firmware/fdt (%s): kexec_load on "
			 "arm64 passes it on to the next kernel; a system booted with ACPI and no "
			 "device tree is not supported yet",
			 strerror(-r));
		return r;
	}
	r = kexec_usable_ram(ram, why, whylen);
	if (r < 0)
		return r;

	/* the Image at a 2 MiB aligned base + text_offset, as low as possible (booting.rst asks
	 * for that when flags bit 3 is clear, and it is as good as anywhere otherwise) */
	kernel_memsz = kexec_round_up(MAX((uint64_t)kernel_len, img.image_size), page);
	r = iomem_ram_take(ram, img.text_offset + kernel_memsz, ARM64_IMAGE_ALIGN, 0, &base);
	if (r < 0)
		goto no_room;
	kernel_mem = base + img.text_offset;
	seg[nseg++] = (struct kexec_segment){ kernel, kernel_len, (void *)kernel_mem, kernel_memsz };
	if (initrd) {
		r = iomem_ram_take(ram, kexec_round_up(initrd_len, page), page, 0, &initrd_mem);
		if (r < 0)
			goto no_room;
		seg[nseg++] = (struct kexec_segment){ initrd, initrd_len, (void *)initrd_mem,
						      kexec_round_up(initrd_len, page) };
	}
	/* fresh seeds: the running kernel consumed and wiped the ones it was given, and reusing
	 * them would give two boots the same randomness */
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) ||
	    getrandom(&kaslr, sizeof(kaslr), 0) != (ssize_t)sizeof(kaslr)) {
		r = negative_errno();
		snprintf(why, whylen, "no randomness for the next kernel's seeds: %s", strerror(-r));
		return r;
	}
	r = fdt_chosen_update(fdt, fdt_len,
			      &(struct fdt_chosen){ .bootargs = cmdline,
						    .initrd_start = initrd_mem,
						    .initrd_end = initrd ? initrd_mem + initrd_len : 0,
						    .rng_seed = seed,
						    .rng_seed_len = sizeof(seed),
						    .kaslr_seed = kaslr | 1 },
			      &dtb, &dtb_len);
	explicit_bzero(seed, sizeof(seed));
	if (r < 0) {
		snprintf(why, whylen, "cannot pass on the running device tree: %s",
			 r == -EFBIG ? "it would grow over 2 MiB" : "/sys/firmware/fdt is damaged");
		return r;
	}
	/* the device tree may not share a 2 MiB block with memory of other attributes
	 * (booting.rst): its own block is simplest */
	r = iomem_ram_take(ram, kexec_round_up(dtb_len, page), ARM64_IMAGE_ALIGN, 0, &dtb_mem);
	if (r < 0)
		goto no_room;
	seg[nseg++] = (struct kexec_segment){ dtb, dtb_len, (void *)dtb_mem, kexec_round_up(dtb_len, page) };

	r = kexec_purgatory_load(seg, nseg, purgatory_arm64, purgatory_arm64_size, kernel_mem, dtb_mem, ram, page,
				 0, KEXEC_ARCH_ARM64, kernel_name, why, whylen);
	if (r == -EADDRNOTAVAIL)
		goto no_room;
	return r;

no_room:
	return kexec_explain_no_room(kernel_name, kernel_memsz, initrd_len, "the device tree", why,
				     whylen);
}
