// SPDX-License-Identifier: GPL-2.0-or-later
/* Writing one JSON document for the commands' --json output. */
#include "cmd/json-out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"

static void put_quoted(FILE *f, const char *s)
{
	char small[512], *big = NULL;
	size_t need = json_quote(s, small, sizeof(small));

	if (need < sizeof(small)) {
		fputs(small, f);
		return;
	}
	big = malloc(need + 1);
	if (!big) {
		fputs("\"\"", f); /* out of memory: still valid JSON */
		return;
	}
	json_quote(s, big, need + 1);
	fputs(big, f);
	free(big);
}

/* The comma and the key in front of a value. */
static void lead(struct json_out *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (key) {
		put_quoted(j->f, key);
		fputc(':', j->f);
	}
}

static void open_(struct json_out *j, const char *key, char c)
{
	lead(j, key);
	fputc(c, j->f);
	if (j->depth < JSON_OUT_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

void json_out_begin(struct json_out *j, FILE *f)
{
	*j = (struct json_out){ .f = f, .depth = 1 };
	fputc('{', f);
}

void json_out_object(struct json_out *j, const char *key)
{
	open_(j, key, '{');
	j->closer[j->depth] = '}';
}

void json_out_array(struct json_out *j, const char *key)
{
	open_(j, key, '[');
	j->closer[j->depth] = ']';
}

void json_out_close(struct json_out *j)
{
	if (j->depth <= 1)
		return;
	fputc(j->closer[j->depth], j->f);
	j->depth--;
}

int json_out_end(struct json_out *j)
{
	while (j->depth > 1)
		json_out_close(j);
	fputs("}\n", j->f);
	return fflush(j->f) == 0 && !ferror(j->f) ? 0 : -EIO;
}

void json_out_str(struct json_out *j, const char *key, const char *s)
{
	lead(j, key);
	if (s)
		put_quoted(j->f, s);
	else
		fputs("null", j->f);
}

void json_out_u64(struct json_out *j, const char *key, uint64_t v)
{
	lead(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_out_u64_or_null(struct json_out *j, const char *key, uint64_t v)
{
	if (v == UINT64_MAX)
		json_out_str(j, key, NULL);
	else
		json_out_u64(j, key, v);
}

void json_out_bool(struct json_out *j, const char *key, bool v)
{
	lead(j, key);
	fputs(v ? "true" : "false", j->f);
}
