// SPDX-License-Identifier: GPL-2.0-or-later
/* Parser for checksum lists as written by sha256sum (GNU and --tag forms). */
#include "format/sha256sums.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "basic/parse-util.h"

#define NAME_MAX_LEN 4096

/* Undo coreutils' escaping of a name (used when the name holds \ or newline). */
static bool unescape_name(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\') {
			if (++i >= n)
				return false;
			if (s[i] == '\\')
				c = '\\';
			else if (s[i] == 'n')
				c = '\n';
			else if (s[i] == 'r')
				c = '\r';
			else
				return false;
		}
		if (o + 1 >= outsz)
			return false;
		out[o++] = c;
	}
	out[o] = 0;
	return true;
}

/* Parse one line; returns true with name and digest set for a well-formed entry. */
static bool parse_line(const char *line, size_t n, char *name, size_t namesz, uint8_t digest[32])
{
	bool escaped = false;

	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (n > 0 && line[0] == '\\') {
		escaped = true;
		line++;
		n--;
	}
	/* BSD tagged form: SHA256 (name) = hex */
	if (n > 8 && memcmp(line, "SHA256 (", 8) == 0) {
		const char *end = line + n;
		const char *eq;

		if (n < 8 + 1 + 4 + 64)
			return false;
		eq = end - 64 - 4;
		if (memcmp(eq, ") = ", 4) != 0)
			return false;
		if (hex_decode_exact(end - 64, 64, digest, 32) < 0)
			return false;
		if (eq <= line + 8)
			return false;
		if (escaped)
			return unescape_name(line + 8, (size_t)(eq - line - 8), name, namesz);
		if ((size_t)(eq - line - 8) >= namesz)
			return false;
		memcpy(name, line + 8, (size_t)(eq - line - 8));
		name[eq - line - 8] = 0;
		return memchr(name, 0, (size_t)(eq - line - 8)) == NULL;
	}
	/* GNU form: hex, space, space or '*', name */
	if (n < 64 + 2 + 1)
		return false;
	if (hex_decode_exact(line, 64, digest, 32) < 0)
		return false;
	if (line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
		return false;
	if (escaped)
		return unescape_name(line + 66, n - 66, name, namesz);
	if (n - 66 >= namesz || memchr(line + 66, 0, n - 66))
		return false;
	memcpy(name, line + 66, n - 66);
	name[n - 66] = 0;
	return true;
}

static const char *last_component(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int sha256sums_find(const char *text, size_t len, const char *name, uint8_t ret_digest[32],
		    unsigned *ret_count)
{
	uint8_t exact[32], base[32];
	bool have_exact = false, have_base = false, base_conflict = false;
	unsigned count = 0;
	const char *p = text, *end = text + len;
	char entry[NAME_MAX_LEN];

	if (!text || !name || !*name || !ret_digest)
		return -EINVAL;
	if (len > SHA256SUMS_MAX_SIZE)
		return -EFBIG;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		uint8_t d[32];

		if (parse_line(p, n, entry, sizeof(entry), d)) {
			count++;
			if (strcmp(entry, name) == 0) {
				if (have_exact && memcmp(exact, d, 32) != 0)
					return -ENOTUNIQ;
				memcpy(exact, d, 32);
				have_exact = true;
			} else if (strcmp(last_component(entry), name) == 0) {
				if (have_base && memcmp(base, d, 32) != 0)
					base_conflict = true;
				memcpy(base, d, 32);
				have_base = true;
			}
		}
		p += n + (nl ? 1 : 0);
	}
	if (ret_count)
		*ret_count = count;
	if (have_exact) {
		memcpy(ret_digest, exact, 32);
		return 0;
	}
	if (base_conflict)
		return -ENOTUNIQ;
	if (have_base) {
		memcpy(ret_digest, base, 32);
		return 0;
	}
	return -ENOENT;
}
