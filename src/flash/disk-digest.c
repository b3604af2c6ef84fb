// SPDX-License-Identifier: GPL-2.0-or-later
/* In-order SHA-256 over out-of-order disk pieces: a min-heap by offset holds what came early. */
#include "flash/disk-digest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/alloc-util.h"
#include "basic/macro.h"

struct disk_piece {
	uint64_t off, len;
	uint8_t *data; /* NULL: zeros */
};

static const uint8_t zeros[64 << 10];

void disk_digest_init(struct disk_digest *dd, struct digest *d)
{
	*dd = (struct disk_digest){ .d = d };
}

void disk_digest_done(struct disk_digest *dd)
{
	for (size_t i = 0; i < dd->n; i++)
		free(dd->heap[i].data);
	free(dd->heap);
	*dd = (struct disk_digest){ 0 };
}

static int hash_zeros(struct disk_digest *dd, uint64_t len)
{
	while (len > 0) {
		size_t n = (size_t)MIN(len, (uint64_t)sizeof(zeros));
		int r = digest_update(dd->d, zeros, n);
		if (r < 0)
			return r;
		len -= n;
		dd->next += n;
	}
	return 0;
}

static int hash_piece(struct disk_digest *dd, uint64_t off, const uint8_t *buf, uint64_t len)
{
	int r;

	if (off != dd->next)
		return -EBADMSG;
	if (!buf)
		return hash_zeros(dd, len);
	r = digest_update(dd->d, buf, (size_t)len);
	if (r < 0)
		return r;
	dd->next += len;
	return 0;
}

static void heap_swap(struct disk_piece *a, struct disk_piece *b)
{
	struct disk_piece t = *a;
	*a = *b;
	*b = t;
}

static int heap_push(struct disk_digest *dd, struct disk_piece p)
{
	size_t i;

	if (ARRAY_RESERVE(dd->heap, dd->cap, dd->n) < 0)
		return -ENOMEM;
	i = dd->n++;
	dd->heap[i] = p;
	while (i > 0 && dd->heap[(i - 1) / 2].off > dd->heap[i].off) {
		heap_swap(&dd->heap[(i - 1) / 2], &dd->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct disk_piece heap_pop(struct disk_digest *dd)
{
	struct disk_piece top = dd->heap[0];
	size_t i = 0;

	dd->heap[0] = dd->heap[--dd->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < dd->n && dd->heap[l].off < dd->heap[m].off)
			m = l;
		if (r < dd->n && dd->heap[r].off < dd->heap[m].off)
			m = r;
		if (m == i)
			break;
		heap_swap(&dd->heap[i], &dd->heap[m]);
		i = m;
	}
	return top;
}

static int drain(struct disk_digest *dd)
{
	while (dd->n > 0 && dd->heap[0].off <= dd->next) {
		struct disk_piece p = heap_pop(dd);
		int r = p.off < dd->next ? -EBADMSG : hash_piece(dd, p.off, p.data, p.len);

		if (p.data)
			dd->held -= p.len;
		free(p.data);
		if (r < 0)
			return r;
	}
	return 0;
}

int disk_digest_add(struct disk_digest *dd, uint64_t off, const uint8_t *buf, uint64_t len)
{
	struct disk_piece p = { .off = off, .len = len };
	int r;

	if (len == 0)
		return 0;
	if (off < dd->next)
		return -EBADMSG;
	if (off == dd->next) {
		r = hash_piece(dd, off, buf, len);
		if (r < 0)
			return r;
		return drain(dd);
	}
	if (buf) {
		if (dd->held + len > DISK_DIGEST_HELD_MAX)
			return -EFBIG;
		p.data = malloc(len);
		if (!p.data)
			return -ENOMEM;
		memcpy(p.data, buf, len);
		dd->held += len;
	}
	r = heap_push(dd, p);
	if (r < 0) {
		if (p.data)
			dd->held -= len;
		free(p.data);
	}
	return r;
}

int disk_digest_finish(struct disk_digest *dd, uint64_t size)
{
	int r = drain(dd);

	if (r < 0)
		return r;
	if (dd->n > 0) {
		/* a gap no piece filled: it reads as zeros (a file's hole, say) */
		while (dd->n > 0) {
			if (dd->heap[0].off > dd->next) {
				r = hash_zeros(dd, dd->heap[0].off - dd->next);
				if (r < 0)
					return r;
			}
			r = drain(dd);
			if (r < 0)
				return r;
		}
	}
	if (dd->next > size)
		return -EBADMSG;
	return hash_zeros(dd, size - dd->next);
}
