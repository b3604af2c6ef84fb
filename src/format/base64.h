/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Standard base64 (RFC 4648 §4) decoding into a buffer of exactly the expected size. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Decode s[0..len) (padding required, no whitespace) into exactly n bytes. 0, or -EINVAL when
 * the text is not canonical base64 of exactly n bytes. */
int base64_decode_exact(const char *s, size_t len, uint8_t *out, size_t n);

/* Decode base64 that may be split over lines (ASCII whitespace between groups of four is
 * skipped, as in PEM and OpenPGP armor) into out[0..outsz). 0 with the length in *ret_len;
 * -EINVAL for a character outside the alphabet, misplaced padding or a partial group; -EFBIG
 * when out is too small. */
int base64_decode_lines(const char *s, size_t len, uint8_t *out, size_t outsz, size_t *ret_len);

/* Encode n bytes with padding into out (size at least 4*ceil(n/3)+1). */
void base64_encode(const uint8_t *in, size_t n, char *out, size_t outsz);
