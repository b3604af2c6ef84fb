// SPDX-License-Identifier: GPL-2.0-or-later
/* OpenPGP armor decoding and gpgv status lines. */
#include "format/openpgp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/base64.h"

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static bool starts(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

bool openpgp_is_armored(const char *text, size_t len)
{
	return starts(skip_blank(text, text + len), text + len, "-----BEGIN PGP ");
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

static const char *next_line(const char *p, const char *end)
{
	const char *e = line_end(p, end);
	return e < end ? e + 1 : end;
}

/* the line without a trailing CR and blanks */
static size_t line_len(const char *p, const char *e)
{
	while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (size_t)(e - p);
}

/* RFC 4880 §6.1 */
static uint32_t crc24(const uint8_t *d, size_t n)
{
	uint32_t crc = 0xB704CEU;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint32_t)d[i] << 16;
		for (int b = 0; b < 8; b++) {
			crc <<= 1;
			if (crc & 0x1000000U)
				crc ^= 0x1864CFBU;
		}
	}
	return crc & 0xFFFFFFU;
}

int openpgp_dearmor(const char *text, size_t len, uint8_t **ret, size_t *ret_len)
{
	const char *p = text, *end = text + len;
	uint8_t *out = NULL;
	size_t o = 0, cap = 0;
	unsigned blocks = 0;
	int r = -EBADMSG;

	if (len > 2 * (size_t)OPENPGP_KEYRING_MAX)
		return -EFBIG;
	for (;;) {
		const char *body, *body_end = NULL, *crc_line = NULL;
		size_t n, crc_n = 0;

		p = skip_blank(p, end);
		if (p == end)
			break;
		if (!starts(p, end, "-----BEGIN PGP "))
			goto fail; /* text outside a block */
		p = next_line(p, end);
		/* armor headers ("Comment: ..."), up to an empty line */
		while (p < end && line_len(p, line_end(p, end)) > 0 && memchr(p, ':', line_len(p, line_end(p, end))))
			p = next_line(p, end);
		body = p;
		while (p < end) {
			const char *e = line_end(p, end);
			size_t l = line_len(p, e);
			if (l >= 5 && memcmp(p, "-----", 5) == 0) {
				if (!starts(p, end, "-----END PGP "))
					goto fail;
				if (!body_end)
					body_end = p;
				break;
			}
			if (l == 5 && p[0] == '=') {
				crc_line = p;
				crc_n = l;
				body_end = p;
			} else if (crc_line && l > 0)
				goto fail; /* data after the checksum */
			p = next_line(p, end);
		}
		if (p >= end || !body_end)
			goto fail; /* no END line */
		p = next_line(p, end);

		n = (size_t)(body_end - body) / 4 * 3 + 3;
		if (o + n > OPENPGP_KEYRING_MAX) {
			r = -EFBIG;
			goto fail;
		}
		if (o + n > cap) {
			uint8_t *q = realloc(out, o + n);
			if (!q) {
				r = -ENOMEM;
				goto fail;
			}
			out = q;
			cap = o + n;
		}
		{
			size_t got;
			if (base64_decode_lines(body, (size_t)(body_end - body), out + o, cap - o, &got) < 0 || got == 0)
				goto fail;
			if (crc_line) {
				uint8_t c[3];
				if (base64_decode_exact(crc_line + 1, crc_n - 1, c, 3) < 0 ||
				    ((uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2]) != crc24(out + o, got))
					goto fail;
			}
			o += got;
		}
		blocks++;
	}
	if (blocks == 0)
		goto fail;
	*ret = out;
	*ret_len = o;
	return 0;
fail:
	free(out);
	return r;
}

/* the next space-separated word of [p, e) into buf (truncated, NUL-terminated) */
static const char *word(const char *p, const char *e, char *buf, size_t n)
{
	size_t l;

	while (p < e && *p == ' ')
		p++;
	l = 0;
	while (p + l < e && p[l] != ' ')
		l++;
	if (n) {
		size_t c = l < n - 1 ? l : n - 1;
		memcpy(buf, p, c);
		buf[c] = 0;
	}
	return p + l;
}

static bool is_hex(const char *s, size_t min, size_t max)
{
	size_t l = strlen(s);

	if (l < min || l > max)
		return false;
	for (size_t i = 0; i < l; i++)
		if (!strchr("0123456789ABCDEFabcdef", s[i]))
			return false;
	return true;
}

static void set_keyid(struct gpg_status *s, const char *p, const char *e)
{
	char id[32];

	word(p, e, id, sizeof(id));
	if (is_hex(id, 16, 16))
		memcpy(s->keyid, id, 17);
}

void gpg_status_parse(const char *text, size_t len, struct gpg_status *s)
{
	*s = (struct gpg_status){ 0 };
	gpg_status_feed(text, len, s);
}

void gpg_status_feed(const char *text, size_t len, struct gpg_status *s)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *e = line_end(p, end), *q;
		char kw[32];

		e = p + line_len(p, e);
		if (starts(p, e, "[GNUPG:] ")) {
			q = word(p + 9, e, kw, sizeof(kw));
			if (!strcmp(kw, "NEWSIG"))
				s->n_signatures++;
			else if (!strcmp(kw, "GOODSIG")) {
				size_t l, k = 0;
				s->good = true;
				set_keyid(s, q, e);
				q = word(q, e, NULL, 0);
				while (q < e && *q == ' ')
					q++;
				l = (size_t)(e - q);
				for (size_t i = 0; i < l && k < sizeof(s->uid) - 1; i++)
					s->uid[k++] = (q[i] >= 0x20 && q[i] < 0x7f) ? q[i] : '?';
				s->uid[k] = 0;
			} else if (!strcmp(kw, "VALIDSIG")) {
				char f[80];
				q = word(q, e, f, sizeof(f));
				if (is_hex(f, 40, 64)) {
					s->valid = true;
					memcpy(s->fingerprint, f, strlen(f) + 1);
				}
				/* fields 2-9 (date, timestamp, expiry, version, reserved, algorithms,
				 * class), then the primary key's fingerprint */
				for (int i = 0; i < 8 && q < e; i++)
					q = word(q, e, NULL, 0);
				word(q, e, f, sizeof(f));
				if (is_hex(f, 40, 64))
					memcpy(s->primary, f, strlen(f) + 1);
			} else if (!strcmp(kw, "BADSIG")) {
				s->bad = true;
				set_keyid(s, q, e);
			} else if (!strcmp(kw, "ERRSIG") || !strcmp(kw, "NO_PUBKEY")) {
				s->no_pubkey = true;
				set_keyid(s, q, e);
			} else if (!strcmp(kw, "EXPKEYSIG"))
				s->expired_key = true;
			else if (!strcmp(kw, "REVKEYSIG"))
				s->revoked_key = true;
			else if (!strcmp(kw, "EXPSIG"))
				s->expired_sig = true;
		}
		p = e < end ? next_line(e, end) : end;
	}
}

bool gpg_status_is_good(const struct gpg_status *s)
{
	return s->n_signatures >= 1 && s->valid && s->good && !s->bad && !s->no_pubkey &&
	       !s->expired_key && !s->revoked_key && !s->expired_sig;
}
