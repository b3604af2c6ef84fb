/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compression of initramfs members in forms the kernel's decompressors accept
 * (Documentation/driver-api/early-userspace/buffer-format.rst, lib/decompress_*.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum initrd_compression {
	INITRD_COMPRESSION_NONE,
	INITRD_COMPRESSION_ZSTD, /* level 9 (little memory to build), window 8 MiB (the kernel allocates the window) */
	INITRD_COMPRESSION_XZ,	 /* LZMA2, 1 MiB dictionary, CRC32 check: the kernel has no CRC64 */
	INITRD_COMPRESSION_GZIP, /* deflate level 9 */
};

/* "zstd", "xz", "gzip", "none" → 0 and the value; -EINVAL otherwise. */
int initrd_compression_from_string(const char *s, enum initrd_compression *ret);
const char *initrd_compression_to_string(enum initrd_compression c);

/* Compress in[0..len) as one stream (one member). 0 and a malloc'ed buffer, -ENOMEM, or -EIO
 * when the library fails. NONE copies. */
int initrd_compress(enum initrd_compression c, const uint8_t *in, size_t len, uint8_t **ret,
		    size_t *ret_len);
