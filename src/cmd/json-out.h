/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small writer of one JSON document (RFC 8259) for the --json output of go, bundle --info,
 * initrd --list and status: nesting and commas are tracked here so each command only names
 * its fields. Strings go through json_quote() (escapes, invalid UTF-8 replaced). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_OUT_MAX_DEPTH 8

struct json_out {
	FILE *f;
	unsigned depth;
	bool need_comma[JSON_OUT_MAX_DEPTH + 1];
	char closer[JSON_OUT_MAX_DEPTH + 1]; /* '}' or ']' for each open level */
};

/* Start the document (an object) on f. */
void json_out_begin(struct json_out *j, FILE *f);
/* Close every open object and array, end the line and flush. 0, or -EIO when f failed. */
int json_out_end(struct json_out *j);
/* key is NULL inside an array. */
void json_out_object(struct json_out *j, const char *key);
void json_out_array(struct json_out *j, const char *key);
void json_out_close(struct json_out *j);
/* s NULL writes null. */
void json_out_str(struct json_out *j, const char *key, const char *s);
void json_out_u64(struct json_out *j, const char *key, uint64_t v);
/* v UINT64_MAX (unknown) writes null. */
void json_out_u64_or_null(struct json_out *j, const char *key, uint64_t v);
void json_out_bool(struct json_out *j, const char *key, bool v);
