// SPDX-License-Identifier: GPL-2.0-or-later
/* Boot Loader Specification entry parser, menu order and default selection. */
#include "format/bls.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void bls_entry_done(struct bls_entry *e)
{
	free(e->name);
	free(e->id);
	free(e->title);
	free(e->version);
	free(e->machine_id);
	free(e->sort_key);
	free(e->architecture);
	free(e->linux_path);
	free(e->efi);
	for (size_t i = 0; i < e->n_initrds; i++)
		free(e->initrds[i]);
	free(e->options);
	*e = (struct bls_entry){ 0 };
}

/* "name+LEFT" or "name+LEFT-DONE": the spec's boot counter, which sits right before ".conf" */
static void split_counter(const char *name, size_t *ret_idlen, int *ret_left, int *ret_done)
{
	const char *plus = strrchr(name, '+');
	const char *p;
	long left = 0, done = 0;

	*ret_idlen = strlen(name);
	*ret_left = -1;
	*ret_done = 0;
	if (!plus || !is_digit(plus[1]))
		return;
	for (p = plus + 1; is_digit(*p); p++)
		if ((left = left * 10 + (*p - '0')) > 1000000)
			return;
	if (*p == '-') {
		if (!is_digit(*++p))
			return;
		for (; is_digit(*p); p++)
			if ((done = done * 10 + (*p - '0')) > 1000000)
				return;
	}
	if (*p != 0)
		return;
	*ret_idlen = (size_t)(plus - name);
	*ret_left = (int)left;
	*ret_done = (int)done;
}

static int set_value(char **dst, const char *v)
{
	char *c = strdup(v);

	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int append_options(struct bls_entry *e, const char *v)
{
	size_t old = e->options ? strlen(e->options) : 0, add = strlen(v);
	char *n;

	if (old + add + 2 > BLS_OPTIONS_MAX)
		return -EFBIG;
	n = realloc(e->options, old + add + 2);
	if (!n)
		return -ENOMEM;
	if (old) {
		n[old] = ' ';
		memcpy(n + old + 1, v, add + 1);
	} else
		memcpy(n, v, add + 1);
	e->options = n;
	return 0;
}

/* one "key value" line (already trimmed, not a comment); 0, -EFBIG or -ENOMEM */
static int apply_line(struct bls_entry *e, char *line)
{
	static const struct {
		const char *key;
		size_t offset;
	} single[] = {
		{ "title", offsetof(struct bls_entry, title) },
		{ "version", offsetof(struct bls_entry, version) },
		{ "machine-id", offsetof(struct bls_entry, machine_id) },
		{ "sort-key", offsetof(struct bls_entry, sort_key) },
		{ "architecture", offsetof(struct bls_entry, architecture) },
		{ "linux", offsetof(struct bls_entry, linux_path) },
		{ "efi", offsetof(struct bls_entry, efi) },
	};
	char *v = line + strcspn(line, " \t");

	if (*v == 0) { /* a key without a value: boot loaders skip it */
		e->n_ignored++;
		return 0;
	}
	*v++ = 0;
	v += strspn(v, " \t");
	for (size_t i = 0; i < ELEMENTSOF(single); i++)
		if (!strcmp(line, single[i].key))
			return set_value((char **)((char *)e + single[i].offset), v);
	if (!strcmp(line, "initrd")) {
		if (e->n_initrds >= BLS_MAX_INITRDS)
			return -EFBIG;
		e->initrds[e->n_initrds] = strdup(v);
		if (!e->initrds[e->n_initrds])
			return -ENOMEM;
		e->n_initrds++;
		return 0;
	}
	if (!strcmp(line, "options"))
		return append_options(e, v);
	/* devicetree, devicetree-overlay, grub_* extensions and keys of later versions */
	e->n_ignored++;
	return 0;
}

int bls_entry_parse(const char *filename, const char *text, size_t len, struct bls_entry *ret,
		    char *err, size_t errlen)
{
	struct bls_entry e = { 0 };
	size_t flen = strlen(filename), idlen;
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	char line[BLS_LINE_MAX + 1];
	int r;

	if (flen <= 5 || strcmp(filename + flen - 5, ".conf") != 0 || strchr(filename, '/')) {
		snprintf(err, errlen, "%.64s: not an entry file name (NAME.conf)", filename);
		return -EINVAL;
	}
	if (len > BLS_ENTRY_MAX_SIZE) {
		snprintf(err, errlen, "%s: larger than %u bytes", filename, BLS_ENTRY_MAX_SIZE);
		return -EFBIG;
	}
	if (memchr(text, 0, len)) {
		snprintf(err, errlen, "%s: holds a NUL byte: not a text file", filename);
		return -EBADMSG;
	}
	e.name = strndup(filename, flen - 5);
	if (!e.name)
		return -ENOMEM;
	split_counter(e.name, &idlen, &e.tries_left, &e.tries_done);
	e.id = strndup(e.name, idlen);
	if (!e.id) {
		r = -ENOMEM;
		goto fail;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *s, *t;

		lineno++;
		if (n > BLS_LINE_MAX) {
			snprintf(err, errlen, "%s: line %u is longer than %u bytes", filename, lineno,
				 BLS_LINE_MAX);
			r = -EBADMSG;
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		s = line + strspn(line, " \t");
		for (t = s + strlen(s); t > s && (is_blank(t[-1]) || t[-1] == '\r'); t--)
			;
		*t = 0;
		if (*s == 0 || *s == '#')
			continue;
		r = apply_line(&e, s);
		if (r == -EFBIG) {
			snprintf(err, errlen, "%s: line %u: more than %d initrd lines or %u bytes of options",
				 filename, lineno, BLS_MAX_INITRDS, BLS_OPTIONS_MAX);
			goto fail;
		}
		if (r < 0)
			goto fail;
	}
	if (!e.linux_path && !e.efi) {
		snprintf(err, errlen, "%s: has neither a 'linux' nor an 'efi' line", filename);
		r = -EBADMSG;
		goto fail;
	}
	*ret = e;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	bls_entry_done(&e);
	return r;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static bool is_version_char(char c)
{
	return is_digit(c) || is_alpha(c) || c == '~' || c == '-' || c == '^' || c == '.';
}

/* One separator rule of the Version Format Specification: when exactly one side starts with c,
 * that side compares lower (or higher when sep_is_higher); when both do, both skip it. */
static int separator(const char **a, const char **b, char c, bool sep_is_higher)
{
	bool ha = **a == c, hb = **b == c;

	if (ha != hb)
		return (ha ? -1 : 1) * (sep_is_higher ? -1 : 1);
	if (ha) {
		(*a)++;
		(*b)++;
	}
	return 0;
}

int bls_version_compare(const char *a, const char *b)
{
	int r;

	a = a ? a : "";
	b = b ? b : "";
	/* an empty version is the oldest, even older than a pre-release ("" < "~") */
	if (!*a || !*b)
		return (*a != 0) - (*b != 0);
	for (;;) {
		const char *ea, *eb;
		size_t la, lb;

		while (*a && !is_version_char(*a))
			a++;
		while (*b && !is_version_char(*b))
			b++;
		/* a pre-release suffix sorts before everything, even the end of the string */
		if ((r = separator(&a, &b, '~', false)) != 0)
			return r;
		if (*a == 0 || *b == 0)
			return (*a != 0) - (*b != 0);
		if ((r = separator(&a, &b, '-', false)) != 0 || (r = separator(&a, &b, '^', true)) != 0 ||
		    (r = separator(&a, &b, '.', false)) != 0)
			return r;
		if (is_digit(*a) || is_digit(*b)) {
			for (ea = a; is_digit(*ea); ea++)
				;
			for (eb = b; is_digit(*eb); eb++)
				;
			/* a number is newer than no number (a letter) at the same place */
			if ((ea != a) != (eb != b))
				return ea != a ? 1 : -1;
			while (*a == '0' && a + 1 < ea)
				a++;
			while (*b == '0' && b + 1 < eb)
				b++;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			/* compared as digit strings: no overflow for any length */
			if (la != lb)
				return la > lb ? 1 : -1;
			if ((r = sign(strncmp(a, b, la))) != 0)
				return r;
		} else {
			for (ea = a; is_alpha(*ea); ea++)
				;
			for (eb = b; is_alpha(*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if ((r = sign(strncmp(a, b, MIN(la, lb)))) != 0)
				return r;
			if (la != lb)
				return la > lb ? 1 : -1;
		}
		a = ea;
		b = eb;
	}
}

/* strcmp where an unset or empty string is lowest (the spec's "alphanumerical order") */
static int alnum_compare(const char *a, const char *b)
{
	bool ea = !a || !*a, eb = !b || !*b;

	if (ea || eb)
		return (int)!ea - (int)!eb;
	return sign(strcmp(a, b));
}

int bls_entry_compare(const struct bls_entry *a, const struct bls_entry *b)
{
	bool bad_a = a->tries_left == 0, bad_b = b->tries_left == 0;
	bool ka = a->sort_key && *a->sort_key, kb = b->sort_key && *b->sort_key;
	int r;

	if (bad_a != bad_b)
		return bad_a ? 1 : -1;
	if (ka && kb) {
		if ((r = alnum_compare(a->sort_key, b->sort_key)) != 0 ||
		    (r = alnum_compare(a->machine_id, b->machine_id)) != 0)
			return r;
		if ((r = bls_version_compare(a->version, b->version)) != 0)
			return -r; /* newest first */
	} else if (ka != kb)
		return ka ? -1 : 1;
	return -bls_version_compare(a->name, b->name);
}

const char *bls_native_architecture(void)
{
#if defined(__x86_64__)
	return "x64";
#elif defined(__i386__)
	return "ia32";
#elif defined(__aarch64__)
	return "aa64";
#elif defined(__arm__)
	return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__loongarch64)
	return "loongarch64";
#else
	return NULL;
#endif
}

bool bls_entry_is_bootable(const struct bls_entry *e, const char *arch, const char **why)
{
	if (e->efi) {
		*why = "it starts an EFI program ('efi'), which kexec cannot run";
		return false;
	}
	if (!e->linux_path || !*e->linux_path) {
		*why = "it names no kernel ('linux')";
		return false;
	}
	if (arch && e->architecture && strcasecmp(e->architecture, arch) != 0) {
		*why = "it is for another architecture";
		return false;
	}
	*why = NULL;
	return true;
}

int bls_loader_conf_default(const char *text, size_t len, char **ret)
{
	const char *p = text, *end = text + len;
	char line[BLS_LINE_MAX + 1], *found = NULL;

	if (len > BLS_ENTRY_MAX_SIZE)
		return -EFBIG;
	if (memchr(text, 0, len))
		return -EBADMSG;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *s, *t, *v;

		if (n > BLS_LINE_MAX) {
			free(found);
			return -EBADMSG;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		s = line + strspn(line, " \t");
		for (t = s + strlen(s); t > s && (is_blank(t[-1]) || t[-1] == '\r'); t--)
			;
		*t = 0;
		v = s + strcspn(s, " \t");
		if (*v == 0)
			continue;
		*v++ = 0;
		v += strspn(v, " \t");
		if (strcmp(s, "default") != 0)
			continue;
		/* the last one wins, as with entry keys */
		free(found);
		found = strdup(v);
		if (!found)
			return -ENOMEM;
	}
	/* "@saved" and friends name EFI variables of the machine, which a fresh image has not set */
	if (!found || found[0] == '@') {
		free(found);
		return 0;
	}
	*ret = found;
	return 1;
}

static int compare_qsort(const void *a, const void *b)
{
	return bls_entry_compare(a, b);
}

static bool matches(const struct bls_entry *e, const char *pattern)
{
	char withsuffix[PATH_MAX];

	snprintf(withsuffix, sizeof(withsuffix), "%s.conf", e->id);
	return fnmatch(pattern, e->id, 0) == 0 || fnmatch(pattern, withsuffix, 0) == 0 ||
	       fnmatch(pattern, e->name, 0) == 0;
}

int bls_select(struct bls_entry *entries, size_t n, const char *default_pattern, const char *arch,
	       bool *ret_matched)
{
	const char *why;
	int first = -ENOENT;

	*ret_matched = false;
	if (n > 1)
		qsort(entries, n, sizeof(*entries), compare_qsort);
	for (size_t i = 0; i < n; i++) {
		if (!bls_entry_is_bootable(&entries[i], arch, &why))
			continue;
		if (first < 0)
			first = (int)i;
		if (default_pattern && matches(&entries[i], default_pattern)) {
			*ret_matched = true;
			return (int)i;
		}
	}
	return first;
}
