/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The layout of a reimage bundle (docs/reimage-bundle.1.md, "Layout"): a static loader ELF,
 * then the payload sections, then a fixed-size trailer at the very end of the file; the small
 * "meta" section the loader reads; and the x86 boot protocol header of the kernel it carries
 * (Documentation/arch/x86/boot.rst). Pure code, no I/O: every byte here is outside input. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Trailer, version 1, 160 bytes, integers little-endian, offsets from the start of the file:
 *     0  u64 file_size          the whole file, trailer included
 *     8  u64 loader_size        the loader ELF: bytes [0, loader_size)
 *    16  5 x { u64 offset, u64 length }   kernel, initrd, meta, info, cmdline (in this order,
 *                               inside [loader_size, file_size - 160), not overlapping)
 *    96  16 reserved bytes, zero
 *   112  sha256[32]             SHA-256 of the file's bytes [0, file_size - 48): loader,
 *                               payload and the trailer up to this field
 *   144  u32 trailer_size (160), u32 version (1)
 *   152  magic "RIMGBNDL"
 * The magic, size and version are outside the digest: damage there makes the file unreadable
 * as a bundle, which is reported just the same. */
#define BUNDLE_TRAILER_SIZE 160
#define BUNDLE_VERSION 1
#define BUNDLE_MAGIC "RIMGBNDL"
#define BUNDLE_DIGEST_OFFSET 112 /* within the trailer */

/* Caps: kexec_file_load refuses files over 4 GiB anyway; the text sections are small. */
#define BUNDLE_KERNEL_MAX (512ULL << 20)
#define BUNDLE_INITRD_MAX (3ULL << 30)
#define BUNDLE_TEXT_MAX (64U << 10)
#define BUNDLE_CMDLINE_MAX 1024 /* leaves room under x86's 2048 for consoles and our own */

enum bundle_section {
	BUNDLE_KERNEL,
	BUNDLE_INITRD,
	BUNDLE_META,
	BUNDLE_INFO,
	BUNDLE_CMDLINE,
	_BUNDLE_SECTION_MAX,
};

struct bundle_trailer {
	uint64_t file_size;
	uint64_t loader_size;
	uint64_t offset[_BUNDLE_SECTION_MAX];
	uint64_t length[_BUNDLE_SECTION_MAX];
	uint8_t sha256[32];
};

/* "kernel", "initrd", ... */
const char *bundle_section_name(enum bundle_section s);

/* Parse the trailer from the last bytes of a file of file_size bytes: tail holds the last
 * tail_len (>= BUNDLE_TRAILER_SIZE) bytes. Returns 0; -ENOMSG when there is no bundle magic
 * (not a bundle, or cut short); -EPROTONOSUPPORT for another version; -EIO when the trailer
 * records a larger file than there is (truncated); -EBADMSG when a field is impossible
 * (sizes, bounds, order, overlap, caps, reserved bytes not zero, data after the trailer).
 * ret is written only on success. */
int bundle_trailer_parse(const uint8_t *tail, size_t tail_len, uint64_t file_size,
			 struct bundle_trailer *ret);
/* Serialise t (with its sha256 as given) into out. */
void bundle_trailer_write(const struct bundle_trailer *t, uint8_t out[BUNDLE_TRAILER_SIZE]);

/* The meta section: "key = value" lines the loader acts on, written by reimage bundle. */
struct bundle_meta {
	char kernel_version[128];
	char dst[128]; /* /dev/... */
	char dst_serial[128], dst_wwn[128], dst_model[128];
	uint64_t dst_size; /* 0: not recorded */
	uint64_t image_size; /* the disk must hold at least this (a qcow2's virtual size); 0: not known */
	bool secrets;	   /* the job holds request headers */
};

/* Parse text[0..len). Keys: kernel-version, dst (required, an absolute /dev/ path), dst-serial,
 * dst-wwn, dst-model, dst-size, image-size, secrets (yes|no). Returns 0, or -EBADMSG for an unknown or
 * repeated key, a missing dst, a value too long, a control character, or a NUL byte. */
int bundle_meta_parse(const char *text, size_t len, struct bundle_meta *ret);
/* Write m as text into buf. The length, or -ENOBUFS. */
int bundle_meta_format(const struct bundle_meta *m, char *buf, size_t n);

/* Check that buf[0..len) starts like a 64-bit x86 bzImage that kexec_file_load takes (boot
 * protocol >= 2.12, XLF_KERNEL_64 and XLF_CAN_BE_LOADED_ABOVE_4G) and copy its version string
 * (up to the first space) into version. Returns 0; -ENOEXEC when it is not a bzImage;
 * -EPROTONOSUPPORT when it is one kexec_file_load refuses; -EBADMSG when the version pointer
 * is out of bounds. */
int bundle_kernel_probe(const uint8_t *buf, size_t len, char *version, size_t versionlen);
