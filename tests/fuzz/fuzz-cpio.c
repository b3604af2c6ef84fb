// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the cpio reader over concatenated archives, and the writer fed with what was read
 * (its output must read back entry for entry). */
#include <sys/stat.h>

#include "format/cpio.h"
#include "fuzz.h"

/* Entries are at least 112 bytes, so this is only a guard against a reader that stops moving. */
#define MAX_ENTRIES 100000

/* Hand an entry read from the input to the writer; true when the writer took it. */
static bool rewrite(struct cpio_writer *w, const struct cpio_entry *e)
{
	uint32_t perm = e->mode & 07777;
	char target[CPIO_NAME_MAX];

	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		return cpio_writer_add_dir(w, e->name, perm) == 0;
	case S_IFREG:
		return cpio_writer_add_file(w, e->name, perm, e->data, (size_t)e->size) == 0;
	case S_IFLNK:
		if (e->size >= sizeof(target) || memchr(e->data, 0, (size_t)e->size))
			return false;
		memcpy(target, e->data, (size_t)e->size);
		target[e->size] = 0;
		return cpio_writer_add_symlink(w, e->name, target) == 0;
	default:
		return cpio_writer_add_node(w, e->name, e->mode, e->rdevmajor, e->rdevminor) == 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cpio_entry e;
	struct cpio_writer *w = NULL;
	uint8_t *out = NULL;
	size_t off = 0, out_len = 0, added = 0, n = 0;
	int r = 0;

	if (cpio_writer_new(0, &w) < 0)
		return 0;
	for (unsigned i = 0; i < MAX_ENTRIES; i++) {
		size_t before = off;

		r = cpio_reader_next(data, size, &off, &e);
		if (r < 0)
			break;
		if (off <= before || off > size)
			abort();
		if (r == 0) {
			if (!cpio_reader_skip_padding(data, size, &off))
				break;
			continue;
		}
		if (rewrite(w, &e))
			added++;
	}

	if (cpio_writer_finish(w, &out, &out_len) == 0) {
		off = 0;
		while ((r = cpio_reader_next(out, out_len, &off, &e)) == 1)
			n++;
		if (r != 0 || n != added || off != out_len)
			abort();
		free(out);
	}
	cpio_writer_free(w);
	return 0;
}
