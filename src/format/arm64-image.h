/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernels reimage can kexec with kexec_load on arm64: the arm64 Image header
 * (Documentation/arm64/booting.rst, "Call the kernel image"), and the two wrappers a
 * distribution's vmlinuz may come in: gzip (RFC 1952 magic only) and EFI zboot
 * (drivers/firmware/efi/libstub/zboot-header.S: "MZ", then "zimg", payload offset and size,
 * and the compression's name). Parsers only; decompressing is the caller's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HEADER_SIZE 64
/* The base the Image is placed at (plus text_offset) must be 2 MiB aligned. */
#define ARM64_IMAGE_ALIGN (2ULL * 1024 * 1024)

struct arm64_image {
	uint64_t text_offset; /* from the 2 MiB aligned base to the first byte of the Image */
	uint64_t image_size;  /* memory the kernel uses from there on, bss included */
	uint64_t flags;
	unsigned page_size_kib; /* 0 when the kernel does not say, else 4, 16 or 64 */
	bool anywhere; /* flags bit 3: any 2 MiB aligned base in RAM; else as low as possible */
};

enum kernel_wrapper {
	KERNEL_WRAPPER_NONE,  /* an arm64 Image as it is */
	KERNEL_WRAPPER_GZIP,  /* Image.gz */
	KERNEL_WRAPPER_ZBOOT, /* EFI zboot: a PE file whose payload is the compressed Image */
};

/* Parse the header at buf[0..len). 0 and *ret; -ENOEXEC when there is no "ARM\x64" magic at
 * offset 56 (not an arm64 Image); -EPROTONOSUPPORT for a big-endian kernel or one older than
 * Linux 3.17 (image_size 0, which does not say how much memory it needs); -EBADMSG when
 * text_offset is not below 2 MiB and 4 KiB aligned, or image_size is smaller than the header. */
int arm64_image_parse(const uint8_t *buf, size_t len, struct arm64_image *ret);

/* Which wrapper buf[0..len) is in. For EFI zboot, the payload's offset and size (checked to
 * lie inside len) and its compression's name ("gzip", "zstd22", "xzkern", ...: NUL-terminated
 * into type[typelen]). -ENOEXEC for anything else; -EBADMSG for a zboot header whose payload
 * lies outside the file or whose compression name is not NUL-terminated. */
int kernel_wrapper_detect(const uint8_t *buf, size_t len, enum kernel_wrapper *ret_wrapper,
			  uint64_t *ret_offset, uint64_t *ret_size, char *type, size_t typelen);

/* The kernel release from the "Linux version RELEASE (" banner every Image carries in its
 * read-only data (init/version.c), into version[versionlen]. 0; -ENOENT when there is no
 * banner (a compressed kernel); -EFBIG when the release does not fit. */
int arm64_image_release(const uint8_t *buf, size_t len, char *version, size_t versionlen);
