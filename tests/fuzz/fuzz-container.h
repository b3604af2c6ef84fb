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

/* Pieces recorded for the overlap and coverage checks, at most. */
#define FUZZ_PIECES_MAX 200000

struct fuzz_piece {
	uint64_t off, len;
};

struct fuzz_out {
	bool have_size;
	uint64_t size;
	struct fuzz_piece *pieces;
	size_t n, cap;
	bool overflow;
};

static void fuzz_mark(struct fuzz_out *o, uint64_t off, uint64_t len)
{
	if (!o->have_size || off > o->size || len > o->size - off)
		abort(); /* property: inside the announced size */
	if (len == 0 || o->overflow)
		return;
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 256;
		struct fuzz_piece *np = nc > FUZZ_PIECES_MAX ? NULL : realloc(o->pieces, nc * sizeof(*np));
		if (!np) {
			o->overflow = true;
			return;
		}
		o->pieces = np;
		o->cap = nc;
	}
	o->pieces[o->n++] = (struct fuzz_piece){ off, len };
}

static int piece_cmp(const void *a, const void *b)
{
	const struct fuzz_piece *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* property: no disk byte produced twice; on success, every byte produced */
static void fuzz_check_pieces(struct fuzz_out *o, bool complete)
{
	uint64_t end = 0;

	if (o->overflow)
		return;
	if (o->n > 0) /* (with none, the array may not exist: qsort must not see NULL) */
		qsort(o->pieces, o->n, sizeof(*o->pieces), piece_cmp);
	for (size_t i = 0; i < o->n; i++) {
		if (o->pieces[i].off < end)
			abort();
		if (complete && o->pieces[i].off > end)
			abort();
		end = o->pieces[i].off + o->pieces[i].len;
	}
	if (complete && end != o->size)
		abort();
}

static int fuzz_size(void *ud, uint64_t size)
{
	struct fuzz_out *o = ud;

	if (o->have_size)
		abort(); /* property: announced once */
	o->have_size = true;
	o->size = size;
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
		fuzz_check_pieces(&o, true);
	} else
		fuzz_check_pieces(&o, false);
	if (strlen(container_error(c)) == 0)
		abort();
	container_free(c);
	free(o.pieces);
}
