// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsers for minisign key and signature files: exact lengths or failure. */
#include "format/minisign.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "format/base64.h"

/* The next line of text (without '\n', and without one '\r' before it), like minisign's trim(). */
static bool next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : end;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	return true;
}

int minisign_pubkey_parse(const char *text, size_t len, struct minisign_pubkey *ret)
{
	const char *p = text, *end = text + len, *line;
	uint8_t raw[42];
	size_t n;

	if (!next_line(&p, end, &line, &n))
		return -EBADMSG;
	if (n >= 19 && memcmp(line, "untrusted comment: ", 19) == 0) {
		if (!next_line(&p, end, &line, &n))
			return -EBADMSG;
	}
	if (base64_decode_exact(line, n, raw, sizeof(raw)) < 0)
		return -EBADMSG;
	if (raw[0] != 'E' || raw[1] != 'd')
		return -EBADMSG;
	/* nothing but blank lines may follow */
	while (next_line(&p, end, &line, &n))
		if (n)
			return -EBADMSG;
	memcpy(ret->keynum, raw + 2, 8);
	memcpy(ret->key, raw + 10, 32);
	return 0;
}

int minisign_sig_parse(const char *text, size_t len, struct minisign_sig *ret)
{
	const char *p = text, *end = text + len, *line;
	uint8_t raw[74];
	size_t n;
	struct minisign_sig s = { 0 };

	if (!next_line(&p, end, &line, &n) || n < 19 || memcmp(line, "untrusted comment: ", 19))
		return -EBADMSG;
	if (!next_line(&p, end, &line, &n) || base64_decode_exact(line, n, raw, sizeof(raw)) < 0)
		return -EBADMSG;
	if (raw[0] == 'E' && raw[1] == 'D')
		s.prehashed = true;
	else if (!(raw[0] == 'E' && raw[1] == 'd'))
		return -EPROTONOSUPPORT;
	memcpy(s.keynum, raw + 2, 8);
	memcpy(s.sig, raw + 10, 64);
	if (!next_line(&p, end, &line, &n) || n < 17 || memcmp(line, "trusted comment: ", 17))
		return -EBADMSG;
	if (n - 17 >= sizeof(s.trusted_comment) || memchr(line + 17, 0, n - 17))
		return -EBADMSG;
	memcpy(s.trusted_comment, line + 17, n - 17);
	if (!next_line(&p, end, &line, &n) ||
	    base64_decode_exact(line, n, s.global_sig, sizeof(s.global_sig)) < 0)
		return -EBADMSG;
	while (next_line(&p, end, &line, &n))
		if (n)
			return -EBADMSG;
	*ret = s;
	return 0;
}

void minisign_keynum_format(const uint8_t keynum[8], char out[17])
{
	/* minisign prints the little-endian 64-bit key id */
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02X", keynum[7 - i]);
}
