/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by fuzz-qcow2 and fuzz-tar: run a container over the input, fed in pieces whose size
 * depends on the data, and check the output's properties: the size comes before any write,
 * every write and zero run lies inside it, and no disk byte is produced twice. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash/container.h"
#include "fuzz.h"

/* Disks larger than this are tracked only for bounds, not byte by byte. */
#define FUZZ_TRACK_MAX (4ULL << 20)

struct fuzz_out {
	bool have_size;
	uint64_t size;
	uint8_t *seen; /* one bit per byte while size <= FUZZ_TRACK_MAX */
};

static void fuzz_mark(struct fuzz_out *o, uint64_t off, uint64_t len)
{
	if (!o->have_size || off > o->size || len > o->size - off)
		abort(); /* property: inside the announced size */
	if (!o->seen)
		return;
	for (uint64_t i = off; i < off + len; i++) {
		if (o->seen[i / 8] & (1U << (i % 8)))
			abort(); /* property: each byte once */
		o->seen[i / 8] |= (uint8_t)(1U << (i % 8));
	}
}

static int fuzz_size(void *ud, uint64_t size)
{
	struct fuzz_out *o = ud;

	if (o->have_size)
		abort(); /* property: announced once */
	o->have_size = true;
	o->size = size;
	if (size <= FUZZ_TRACK_MAX) {
		o->seen = calloc(1, (size_t)size / 8 + 1);
		if (!o->seen)
			return -ENOMEM;
	}
	return 0;
}

static int fuzz_write(void *ud, uint64_t off, const uint8_t *buf, size_t len)
{
	volatile uint8_t sink = 0;

	fuzz_mark(ud, off, len);
	if (len > 0)
		sink ^= buf[0] ^ buf[len - 1]; /* the bytes must be readable */
	(void)sink;
	return 0;
}

static int fuzz_zero(void *ud, uint64_t off, uint64_t len)
{
	fuzz_mark(ud, off, len);
	return 0;
}

struct fuzz_in {
	const uint8_t *data;
	size_t size;
};

static int fuzz_read_at(void *ud, uint64_t off, uint8_t *buf, size_t len, char *why,
			size_t whylen)
{
	struct fuzz_in *in = ud;

	if (off > in->size || len > in->size - off)
		return -EIO;
	memcpy(buf, in->data + off, len);
	return 0;
}

static void fuzz_container(enum container_kind kind, const uint8_t *data, size_t size,
			   bool random_access, const char *member)
{
	struct fuzz_out o = { 0 };
	struct fuzz_in fin = { data, size };
	struct container_output out = { &o, fuzz_size, fuzz_write, fuzz_zero };
	struct container_input in = { &fin, fuzz_read_at };
	struct container_options opts = { .member = member };
	struct container *c = NULL;
	size_t step = size > 0 ? (size_t)data[size - 1] % 251 + 1 : 1;
	uint64_t got = 0;
	int r = 0;

	if (container_new(kind, &opts, &out, random_access ? &in : NULL, &c) < 0)
		return;
	for (size_t i = 0; i < size && r >= 0; i += step)
		r = container_feed(c, data + i, size - i < step ? size - i : step);
	if (r >= 0 && container_finish(c, &got) >= 0) {
		if (!o.have_size || got != o.size)
			abort(); /* property: the size returned is the one announced */
		if (o.seen)
			for (uint64_t i = 0; i < o.size; i++)
				if (!(o.seen[i / 8] & (1U << (i % 8))))
					abort(); /* property: every byte of the disk was produced */
	}
	if (strlen(container_error(c)) == 0)
		abort();
	container_free(c);
	free(o.seen);
}
