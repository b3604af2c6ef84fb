/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA256SUMS files: GNU coreutils (text/binary, escaped names) and BSD tagged lines. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256SUMS_MAX_SIZE (4U << 20)

/* Look up name in the checksum list text[0..len). The list is the output of `sha256sum`
 * ("<64 hex> <space|*><name>", names with a leading backslash use \\ and \n escapes, as
 * coreutils writes them) or of `sha256sum --tag` ("SHA256 (<name>) = <64 hex>"). Lines that
 * are neither (comments, other algorithms, signatures wrapped around the list) are skipped.
 *
 * An entry matches when its name equals name, or, if no entry does, when exactly the last
 * path component equals name ("./img.zst" or "images/img.zst" for "img.zst").
 *
 * Returns 0 and the digest in ret_digest; -ENOENT when nothing matches; -ENOTUNIQ when several
 * entries match with different digests; -EINVAL on bad arguments; -EFBIG when len exceeds
 * SHA256SUMS_MAX_SIZE. ret_count (optional) receives the number of well-formed entries. */
int sha256sums_find(const char *text, size_t len, const char *name, uint8_t ret_digest[32],
		    unsigned *ret_count);
