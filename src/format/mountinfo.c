// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsers for /proc/self/mountinfo and /proc/swaps lines. */
#include "format/mountinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Copy one field (separated by spaces or tabs), decoding the kernel's \ooo octal escapes. Advances *p. */
static int take_field(const char **p, const char *end, char *out, size_t outsz)
{
	const char *s = *p;
	size_t o = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s >= end)
		return -EBADMSG;
	while (s < end && *s != ' ' && *s != '\t') {
		char c = *s++;
		if (c == '\\' && end - s >= 3 && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' &&
		    s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
			c = (char)((s[0] - '0') << 6 | (s[1] - '0') << 3 | (s[2] - '0'));
			s += 3;
		}
		if (c == 0 || o + 1 >= outsz)
			return -EBADMSG;
		out[o++] = c;
	}
	out[o] = 0;
	*p = s;
	return 0;
}

static int parse_uint_field(const char *s, unsigned *ret)
{
	unsigned long v = 0;

	if (!*s)
		return -EBADMSG;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 0xfffffffUL)
			return -EBADMSG;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = (unsigned)v;
	return 0;
}

int mountinfo_line_parse(const char *line, size_t n, struct mountinfo_entry *ret)
{
	const char *p = line, *end;
	char field[4096], *colon;
	bool sep = false;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	end = line + n;
	/* mount ID, parent ID */
	for (int i = 0; i < 2; i++)
		if (take_field(&p, end, field, sizeof(field)) < 0)
			return -EBADMSG;
	if (take_field(&p, end, field, sizeof(field)) < 0)
		return -EBADMSG;
	colon = strchr(field, ':');
	if (!colon)
		return -EBADMSG;
	*colon = 0;
	if (parse_uint_field(field, &ret->major) < 0 || parse_uint_field(colon + 1, &ret->minor) < 0)
		return -EBADMSG;
	/* root, mount point */
	if (take_field(&p, end, field, sizeof(field)) < 0)
		return -EBADMSG;
	if (take_field(&p, end, ret->mount_point, sizeof(ret->mount_point)) < 0)
		return -EBADMSG;
	/* options, then optional fields up to "-" */
	while (take_field(&p, end, field, sizeof(field)) == 0) {
		if (strcmp(field, "-") == 0) {
			sep = true;
			break;
		}
	}
	if (!sep)
		return -EBADMSG;
	if (take_field(&p, end, field, sizeof(field)) < 0) /* fs type */
		return -EBADMSG;
	if (take_field(&p, end, ret->source, sizeof(ret->source)) < 0)
		return -EBADMSG;
	return 0;
}

int swaps_line_parse(const char *line, size_t n, char *buf, size_t bufsz)
{
	const char *p = line, *end;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	end = line + n;
	if (n >= 8 && memcmp(line, "Filename", 8) == 0)
		return -ENODATA;
	return take_field(&p, end, buf, bufsz);
}
