// SPDX-License-Identifier: GPL-2.0-or-later
/* OpenSSH public key lines and authorized_keys merging. */
#include "format/ssh-key.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/base64.h"

static const char *const supported[] = {
	"ssh-ed25519",
	"ssh-rsa",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
};

bool ssh_key_type_is_supported(const char *type)
{
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
		if (strcmp(type, supported[i]) == 0)
			return true;
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* A key type name as OpenSSH writes them: letters, digits, '-', '@', '.'. */
static bool looks_like_type(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(((struct ssh_pubkey *)0)->type))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '@' || c == '.'))
			return false;
	}
	/* an options token such as no-pty also matches the characters: a type always has a
	 * known prefix */
	return (n > 4 && memcmp(s, "ssh-", 4) == 0) || (n > 6 && memcmp(s, "ecdsa-", 6) == 0) ||
	       (n > 3 && memcmp(s, "sk-", 3) == 0);
}

/* End of the options token: the first space or tab outside double quotes. */
static int skip_options(const char *s, size_t n, size_t *ret)
{
	bool quoted = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && quoted && i + 1 < n && s[i + 1] == '"') {
			i++;
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && is_space(s[i]))
			break;
	}
	if (quoted)
		return -EBADMSG;
	*ret = i;
	return 0;
}

int ssh_pubkey_parse(const char *line, size_t len, bool allow_options, struct ssh_pubkey *ret)
{
	const char *p = line, *end = line + len, *t, *b;
	size_t tn, bn, pad, dlen, o = 0;
	uint32_t inner;

	if (len > SSH_KEY_LINE_MAX)
		return -EFBIG;
	if (memchr(line, 0, len) || memchr(line, '\n', len))
		return -EBADMSG;
	while (p < end && is_space(*p))
		p++;
	t = p;
	while (p < end && !is_space(*p))
		p++;
	if (!looks_like_type(t, (size_t)(p - t))) {
		size_t n;
		if (!allow_options || p == t || skip_options(t, (size_t)(end - t), &n) < 0)
			return -EBADMSG;
		ret->has_options = true;
		p = t + n;
		while (p < end && is_space(*p))
			p++;
		t = p;
		while (p < end && !is_space(*p))
			p++;
		if (!looks_like_type(t, (size_t)(p - t)))
			return -EBADMSG;
	} else
		ret->has_options = false;
	tn = (size_t)(p - t);
	memcpy(ret->type, t, tn);
	ret->type[tn] = 0;

	while (p < end && is_space(*p))
		p++;
	b = p;
	while (p < end && !is_space(*p))
		p++;
	bn = (size_t)(p - b);
	if (bn == 0 || bn % 4 != 0)
		return -EBADMSG;
	pad = (b[bn - 1] == '=') + (bn >= 2 && b[bn - 2] == '=');
	dlen = bn / 4 * 3 - pad;
	if (dlen > SSH_KEY_BLOB_MAX)
		return -EFBIG;
	if (base64_decode_exact(b, bn, ret->blob, dlen) < 0)
		return -EBADMSG;
	ret->blob_len = dlen;
	/* RFC 4253 §6.6: the blob starts with the key type as an SSH string */
	if (dlen < 4)
		return -EBADMSG;
	inner = (uint32_t)ret->blob[0] << 24 | (uint32_t)ret->blob[1] << 16 |
		(uint32_t)ret->blob[2] << 8 | ret->blob[3];
	if (inner != tn || dlen - 4 < tn || memcmp(ret->blob + 4, ret->type, tn) != 0)
		return -EBADMSG;

	while (p < end && is_space(*p))
		p++;
	while (end > p && (is_space(end[-1]) || end[-1] == '\r'))
		end--;
	/* the comment is shown in the plan: printable ASCII only */
	for (; p < end && o + 1 < sizeof(ret->comment); p++)
		ret->comment[o++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	ret->comment[o] = 0;

	if (!ssh_key_type_is_supported(ret->type))
		return -EPROTONOSUPPORT;
	return 0;
}

int ssh_keyset_add_text(struct ssh_keyset *s, const char *text, size_t len, ssh_keyset_skip_fn skip,
			void *userdata)
{
	_Thread_local static struct ssh_pubkey k; /* 8 KiB: not on the stack */
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int added = 0;

	if (len > SSH_KEYS_TEXT_MAX)
		return -EFBIG;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *le = nl ? nl : end;
		struct ssh_keyset_entry *e;
		bool dup = false;
		int r;

		p = nl ? nl + 1 : end;
		lineno++;
		while (ls < le && is_space(*ls))
			ls++;
		while (le > ls && (is_space(le[-1]) || le[-1] == '\r'))
			le--;
		if (ls == le || *ls == '#')
			continue;
		r = ssh_pubkey_parse(ls, (size_t)(le - ls), true, &k);
		if (r < 0) {
			if (skip)
				skip(userdata, lineno,
				     r == -EPROTONOSUPPORT ? "a key type dropbear does not accept"
				     : r == -EFBIG	   ? "line too long"
							   : "not a public key line");
			continue;
		}
		for (size_t i = 0; i < s->n && !dup; i++)
			dup = strcmp(s->keys[i].type, k.type) == 0 && s->keys[i].blob_len == k.blob_len &&
			      memcmp(s->keys[i].blob, k.blob, k.blob_len) == 0;
		if (dup)
			continue;
		if (s->n >= SSH_KEYSET_MAX)
			return -EFBIG;
		e = &s->keys[s->n];
		*e = (struct ssh_keyset_entry){ 0 };
		e->line = strndup(ls, (size_t)(le - ls));
		e->blob = malloc(k.blob_len);
		if (!e->line || !e->blob) {
			free(e->line);
			free(e->blob);
			return -ENOMEM;
		}
		memcpy(e->blob, k.blob, k.blob_len);
		e->blob_len = k.blob_len;
		memcpy(e->type, k.type, sizeof(e->type));
		memcpy(e->comment, k.comment, sizeof(e->comment));
		s->n++;
		added++;
	}
	return added;
}

int ssh_keyset_format(const struct ssh_keyset *s, char **ret)
{
	size_t n = 1, o = 0;
	char *buf;

	for (size_t i = 0; i < s->n; i++)
		n += strlen(s->keys[i].line) + 1;
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		size_t l = strlen(s->keys[i].line);
		memcpy(buf + o, s->keys[i].line, l);
		o += l;
		buf[o++] = '\n';
	}
	buf[o] = 0;
	*ret = buf;
	return 0;
}

void ssh_keyset_done(struct ssh_keyset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->keys[i].line);
		free(s->keys[i].blob);
	}
	s->n = 0;
}
