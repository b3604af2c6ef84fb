// SPDX-License-Identifier: GPL-2.0-or-later
/* Strict base64 decoding for keys and signatures. */
#include "format/base64.h"

#include <errno.h>
#include <stdbool.h>

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode_exact(const char *s, size_t len, uint8_t *out, size_t n)
{
	size_t want = (n + 2) / 3 * 4, o = 0, pad = (3 - n % 3) % 3;

	if (len != want)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		uint32_t w;

		for (int k = 0; k < 4; k++) {
			bool last = i + 4 == len;
			if (last && s[i + k] == '=' && k >= 4 - (int)pad) {
				v[k] = 0;
				continue;
			}
			v[k] = value(s[i + k]);
			if (v[k] < 0)
				return -EINVAL;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		for (int k = 0; k < 3 && o < n; k++)
			out[o++] = (uint8_t)(w >> (16 - 8 * k));
		/* canonical: the bits under the padding must be zero */
		if (i + 4 == len && ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))))
			return -EINVAL;
	}
	return 0;
}

int base64_decode_lines(const char *s, size_t len, uint8_t *out, size_t outsz, size_t *ret_len)
{
	int v[4];
	size_t o = 0, k = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (pad && c != '=')
			return -EINVAL; /* data after the padding */
		if (c == '=') {
			if (k < 2)
				return -EINVAL;
			pad++;
			v[k++] = 0;
		} else {
			v[k] = value(c);
			if (v[k++] < 0)
				return -EINVAL;
		}
		if (k == 4) {
			uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
				     (uint32_t)v[3];
			size_t n = 3 - pad;

			if (o + n > outsz)
				return -EFBIG;
			for (size_t b = 0; b < n; b++)
				out[o++] = (uint8_t)(w >> (16 - 8 * b));
			k = 0;
		}
	}
	if (k != 0)
		return -EINVAL;
	*ret_len = o;
	return 0;
}

void base64_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < outsz; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = alphabet[w >> 18 & 63];
		out[o++] = alphabet[w >> 12 & 63];
		out[o++] = i + 1 < n ? alphabet[w >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? alphabet[w & 63] : '=';
	}
	if (outsz)
		out[o < outsz ? o : outsz - 1] = 0;
}
