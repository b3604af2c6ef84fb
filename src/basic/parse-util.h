/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsers for numbers, sizes and hex strings: the whole input or an error. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Decimal unsigned integer, no sign, no spaces, no trailing junk. 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
int parse_uint(const char *s, unsigned *ret);

/* Seconds as a decimal number, optionally with a fraction ("1.5"), or with a unit suffix
 * s, m, h ("15m"). Returns 0 and milliseconds, or -EINVAL/-ERANGE. */
int parse_duration_ms(const char *s, uint64_t *ret_ms);

/* Byte size with optional binary suffix K, M, G, T (KiB…) and optional "iB"/"B". */
int parse_size(const char *s, uint64_t *ret);

/* The value of one hex digit (either case), or -1. */
int unhexchar(char c);

/* Exactly 2*n hex digits (either case) into n bytes. 0, or -EINVAL (wrong length or digit). */
int hex_decode_exact(const char *s, size_t len, uint8_t *out, size_t n);
/* Lower-case hex of n bytes into out (2*n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Human-readable size ("1.5 GiB") into buf; returns buf. */
char *format_bytes(char *buf, size_t n, uint64_t bytes);
