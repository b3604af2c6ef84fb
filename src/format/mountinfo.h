/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lines of /proc/self/mountinfo (proc(5)) and /proc/swaps, as far as we need them to tell
 * whether a block device is in use. */
#pragma once

#include <stddef.h>

struct mountinfo_entry {
	unsigned major, minor;	/* field 3 "maj:min" of the mounted file system */
	char mount_point[4096]; /* field 5, octal escapes (\040) decoded */
	char source[4096];	/* the mount source after " - fstype ", decoded */
};

/* Parse one mountinfo line (without or with its newline). 0, or -EBADMSG when malformed. */
int mountinfo_line_parse(const char *line, size_t n, struct mountinfo_entry *ret);

/* Parse one /proc/swaps line: the first field (the swap file or device), decoded, into buf.
 * 0; -ENODATA for the header line ("Filename ..."); -EBADMSG when malformed. */
int swaps_line_parse(const char *line, size_t n, char *buf, size_t bufsz);
