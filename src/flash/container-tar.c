// SPDX-License-Identifier: GPL-2.0-or-later
/* A tar archive holding one disk image, read as a stream: headers (ustar, GNU, pax) are parsed
 * as they pass, one regular member is written, GNU sparse members (old GNU, pax 0.0/0.1/1.0) are
 * expanded with zero runs for their holes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "flash/container.h"
#include "format/tar.h"

#define NAMES_MAX 1024

enum tar_state {
	ST_HEADER,	/* accumulating a 512-byte header */
	ST_EXTRA,	/* accumulating a pax header or GNU long name (acc_want bytes) */
	ST_SPARSE_EXT,	/* accumulating an old-GNU sparse extension block */
	ST_MAP10,	/* reading the pax 1.0 sparse map at the start of the member's data */
	ST_DATA,	/* the member's data (written or skipped) */
	ST_PAD,		/* padding up to the next block */
	ST_END,		/* after the end-of-archive block: the rest is ignored */
};

struct tar {
	struct container_output out;
	const char *member;
	char *err;
	size_t errlen;

	enum tar_state state;
	uint8_t block[TAR_BLOCK];
	size_t block_len;
	char *acc; /* ST_EXTRA */
	size_t acc_len, acc_want;
	char extra_type;

	struct tar_header h;
	struct tar_pax pax; /* from an 'x' header, for the next member */
	bool have_pax;
	char long_name[TAR_NAME_MAX];
	bool have_long_name;

	/* the member being read */
	char name[TAR_NAME_MAX];
	uint64_t left;	/* data bytes still to come */
	uint64_t pad;	/* padding after it */
	bool writing;	/* the selected member */
	bool sparse;
	struct tar_region *regions;
	size_t n_regions, ri;
	uint64_t roff;	     /* bytes done in regions[ri] */
	uint64_t zero_done;  /* image bytes before this are written or zeroed */
	uint64_t real_size, stored;
	uint64_t pos;	     /* linear members: next image offset */
	/* pax 1.0 map parsing */
	char line[32];
	size_t line_len;
	uint64_t map_count, map_nums_seen, map_bytes, map_first;
	bool map_have_count;

	bool selected; /* a member was chosen */
	uint64_t image_size;
	bool several;
	char names[NAMES_MAX];
	unsigned n_names;
};

static int fail(struct tar *t, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(struct tar *t, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->err, t->errlen, fmt, ap);
	va_end(ap);
	return r;
}

static const char *normalize(const char *n)
{
	while (n[0] == '.' && n[1] == '/')
		n += 2;
	while (n[0] == '/')
		n++;
	return n;
}

static void note_name(struct tar *t, const char *name)
{
	size_t l = strlen(t->names);

	t->n_names++;
	if (t->n_names > 12) {
		if (t->n_names == 13)
			snprintf(t->names + l, sizeof(t->names) - l, ", ...");
		return;
	}
	snprintf(t->names + l, sizeof(t->names) - l, "%s%s", l ? ", " : "", name);
}

static int emit_zero_to(struct tar *t, uint64_t end)
{
	int r;

	if (end <= t->zero_done)
		return 0;
	r = t->out.zero(t->out.userdata, t->zero_done, end - t->zero_done);
	if (r < 0)
		return r;
	t->zero_done = end;
	return 0;
}

static void reset_member_meta(struct tar *t)
{
	tar_pax_done(&t->pax);
	t->have_pax = false;
	t->have_long_name = false;
}

static int start_member(struct tar *t)
{
	const struct tar_header *h = &t->h;
	bool regular = h->typeflag == '0' || h->typeflag == '\0' || h->typeflag == '7' ||
		       h->typeflag == 'S';
	uint64_t size = t->have_pax && t->pax.has_size ? t->pax.size : h->size;
	bool map10 = t->have_pax && t->pax.is_sparse && t->pax.sparse_major == 1;
	const char *name;
	int r;

	name = t->have_pax && t->pax.is_sparse && t->pax.sparse_name[0] ? t->pax.sparse_name
	       : t->have_pax && t->pax.has_path				   ? t->pax.path
	       : t->have_long_name					   ? t->long_name
										   : h->name;
	snprintf(t->name, sizeof(t->name), "%s", normalize(name));
	t->left = size;
	t->pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
	t->writing = t->sparse = false;
	t->stored = size;
	free(t->regions);
	t->regions = NULL;
	t->n_regions = t->ri = 0;
	t->roff = 0;
	t->map_first = 0;

	if (regular) {
		bool want;

		t->real_size = size;
		if (h->typeflag == 'S') {
			t->sparse = true;
			t->real_size = h->real_size;
			for (unsigned i = 0; i < h->n_sparse; i++) {
				struct tar_region *nr = realloc(t->regions, (i + 1) * sizeof(*nr));
				if (!nr)
					return -ENOMEM;
				t->regions = nr;
				t->regions[i] = h->sparse[i];
			}
			t->n_regions = h->n_sparse;
		} else if (t->have_pax && t->pax.is_sparse) {
			t->sparse = true;
			t->real_size = t->pax.sparse_real_size;
			if (t->pax.sparse_major == 1) {
				if (t->pax.sparse_minor != 0)
					return fail(t, -EPROTONOSUPPORT,
						    "tar: GNU sparse format 1.%u is not supported",
						    t->pax.sparse_minor);
			} else {
				t->regions = TAKE_PTR(t->pax.regions);
				t->n_regions = t->pax.n_regions;
				t->pax.n_regions = 0;
			}
		}
		if (t->member)
			want = !t->selected && strcmp(t->name, normalize(t->member)) == 0;
		else
			want = !t->selected && t->real_size > 0;
		if (t->real_size > 0 || t->member)
			note_name(t, t->name);
		if (!t->member && t->selected && t->real_size > 0)
			t->several = true;
		if (want) {
			t->selected = t->writing = true;
			t->image_size = t->real_size;
			t->zero_done = 0;
			t->pos = 0;
			r = t->out.size(t->out.userdata, t->real_size);
			if (r < 0)
				return r;
		}
		if (t->writing && t->sparse && !map10 && !(h->typeflag == 'S' && h->sparse_extended)) {
			r = tar_sparse_check(t->regions, t->n_regions, t->real_size, t->stored,
					     t->err, t->errlen);
			if (r < 0)
				return r;
		}
	}
	reset_member_meta(t);
	if (h->typeflag == 'S' && h->sparse_extended) {
		t->state = ST_SPARSE_EXT;
		t->block_len = 0;
		return 0;
	}
	if (map10 && regular && t->writing && t->stored > 0) {
		/* pax 1.0: the map comes first in the data */
		t->state = ST_MAP10;
		t->line_len = 0;
		t->map_have_count = false;
		t->map_nums_seen = t->map_bytes = 0;
		return 0;
	}
	t->state = t->left > 0 ? ST_DATA : t->pad > 0 ? ST_PAD : ST_HEADER;
	return 0;
}

static int handle_header(struct tar *t)
{
	int r;

	if (tar_block_is_zero(t->block)) {
		t->state = ST_END;
		return 0;
	}
	r = tar_header_parse(t->block, &t->h, t->err, t->errlen);
	if (r < 0)
		return r;
	switch (t->h.typeflag) {
	case 'x':
	case 'g':
	case 'L':
		if (t->h.size > (t->h.typeflag == 'L' ? TAR_NAME_MAX - 1 : TAR_PAX_MAX))
			return fail(t, -EFBIG, "tar: an extended header of %llu bytes is too large",
				    (unsigned long long)t->h.size);
		t->extra_type = t->h.typeflag;
		t->acc_want = (size_t)t->h.size;
		t->acc_len = 0;
		free(t->acc);
		t->acc = malloc(t->acc_want + 1);
		if (!t->acc)
			return -ENOMEM;
		t->pad = (TAR_BLOCK - t->h.size % TAR_BLOCK) % TAR_BLOCK;
		t->state = ST_EXTRA;
		return 0;
	default:
		return start_member(t);
	}
}

static int handle_extra(struct tar *t)
{
	int r = 0;

	if (t->extra_type == 'L') {
		memcpy(t->long_name, t->acc, t->acc_len);
		t->long_name[t->acc_len] = 0;
		t->have_long_name = true;
	} else if (t->extra_type == 'x') {
		tar_pax_done(&t->pax);
		r = tar_pax_parse(t->acc, t->acc_len, &t->pax, t->err, t->errlen);
		t->have_pax = true;
	}
	/* 'g' (global) records hold nothing a disk image needs */
	free(t->acc);
	t->acc = NULL;
	t->state = t->pad > 0 ? ST_PAD : ST_HEADER;
	t->left = 0;
	return r;
}

static int handle_sparse_ext(struct tar *t)
{
	bool more = false;
	int r = tar_sparse_ext_parse(t->block, &t->regions, &t->n_regions, &more, t->err,
				     t->errlen);
	if (r < 0)
		return r;
	t->block_len = 0;
	if (more)
		return 0;
	if (t->writing) {
		r = tar_sparse_check(t->regions, t->n_regions, t->real_size, t->stored, t->err,
				     t->errlen);
		if (r < 0)
			return r;
	}
	t->state = t->left > 0 ? ST_DATA : t->pad > 0 ? ST_PAD : ST_HEADER;
	return 0;
}

/* pax 1.0 sparse map: decimal numbers, one per line: count, then offset/size pairs; the data
 * starts at the next block boundary. Returns bytes consumed. */
static int feed_map10(struct tar *t, const uint8_t *buf, size_t n, size_t *used)
{
	size_t i = 0;
	int r;

	while (i < n && t->left > 0) {
		char c = (char)buf[i++];
		t->left--;
		t->map_bytes++;
		if (c != '\n') {
			if (c < '0' || c > '9' || t->line_len >= 20)
				return fail(t, -EBADMSG, "tar: the GNU sparse 1.0 map of %s is corrupt",
					    t->name);
			t->line[t->line_len++] = c;
			continue;
		}
		{
			uint64_t v = 0;
			if (t->line_len == 0)
				return fail(t, -EBADMSG, "tar: the GNU sparse 1.0 map of %s is corrupt",
					    t->name);
			for (size_t k = 0; k < t->line_len; k++) {
				if (v > (UINT64_MAX - 9) / 10)
					return fail(t, -EBADMSG, "tar: a number in the sparse map of %s "
								 "is out of range", t->name);
				v = v * 10 + (uint64_t)(t->line[k] - '0');
			}
			t->line_len = 0;
			if (!t->map_have_count) {
				if (v > TAR_SPARSE_MAX)
					return fail(t, -EFBIG, "tar: the sparse map of %s has %llu "
							       "regions, more than %u",
						    t->name, (unsigned long long)v, TAR_SPARSE_MAX);
				t->map_count = v;
				t->map_have_count = true;
				t->regions = calloc(v ? v : 1, sizeof(*t->regions));
				if (!t->regions)
					return -ENOMEM;
			} else if (t->map_nums_seen % 2 == 0) {
				t->regions[t->map_nums_seen / 2].offset = v;
				t->map_nums_seen++;
			} else {
				t->regions[t->map_nums_seen / 2].len = v;
				t->map_nums_seen++;
			}
		}
		if (t->map_have_count && t->map_nums_seen == t->map_count * 2) {
			/* skip to the block boundary */
			uint64_t skip = (TAR_BLOCK - t->map_bytes % TAR_BLOCK) % TAR_BLOCK;
			if (skip > t->left)
				return fail(t, -EBADMSG, "tar: the sparse map of %s is longer than "
							 "its member", t->name);
			t->n_regions = t->map_count;
			t->left -= skip;
			t->map_first = skip; /* still to drop */
			r = tar_sparse_check(t->regions, t->n_regions, t->real_size, t->left,
					     t->err, t->errlen);
			if (r < 0)
				return r;
			t->state = ST_DATA;
			break;
		}
	}
	if (t->state == ST_MAP10 && t->left == 0)
		return fail(t, -EBADMSG, "tar: the sparse map of %s is longer than its member",
			    t->name);
	*used = i;
	return 0;
}

static int write_data(struct tar *t, const uint8_t *buf, size_t n)
{
	int r;

	if (t->pos == 0 && t->roff == 0 && t->ri == 0 && n >= 8) {
		/* a tar of a qcow2 (or of a VMDK...) is not a raw disk: say so rather than write it */
		enum container_kind k = CONTAINER_RAW;
		char why[512];

		if (container_detect(buf, n, &k, why, sizeof(why)) < 0 || k == CONTAINER_QCOW2)
			return fail(t, -EPROTONOSUPPORT,
				    "the tar member %s is not a raw disk image but %s; extract it and "
				    "flash it on its own%s",
				    t->name, k == CONTAINER_QCOW2 ? "a qcow2 image" : "an image format "
				    "reimage cannot write", k == CONTAINER_QCOW2 ? "" : " after qemu-img "
				    "convert -O raw");
	}
	if (!t->sparse) {
		r = t->out.write(t->out.userdata, t->pos, buf, n);
		t->pos += n;
		t->zero_done = t->pos;
		return r;
	}
	while (n > 0) {
		struct tar_region *g;
		size_t take = 0;

		while (t->ri < t->n_regions && t->roff == t->regions[t->ri].len) {
			t->ri++;
			t->roff = 0;
		}
		if (t->ri >= t->n_regions)
			return fail(t, -EBADMSG, "tar: %s holds more data than its sparse map",
				    t->name);
		g = &t->regions[t->ri];
		if (t->roff == 0) {
			r = emit_zero_to(t, g->offset);
			if (r < 0)
				return r;
		}
		take = (size_t)MIN((uint64_t)n, g->len - t->roff);
		r = t->out.write(t->out.userdata, g->offset + t->roff, buf, take);
		if (r < 0)
			return r;
		t->roff += take;
		t->zero_done = g->offset + t->roff;
		buf += take;
		n -= take;
	}
	return 0;
}

static int tar_feed(void *state, const uint8_t *buf, size_t n)
{
	struct tar *t = state;
	int r;

	while (n > 0) {
		size_t take = 0;

		switch (t->state) {
		case ST_END:
			return 0;
		case ST_HEADER:
		case ST_SPARSE_EXT:
			take = MIN(n, TAR_BLOCK - t->block_len);
			memcpy(t->block + t->block_len, buf, take);
			t->block_len += take;
			buf += take;
			n -= take;
			if (t->block_len < TAR_BLOCK)
				break;
			if (t->state == ST_HEADER) {
				t->block_len = 0;
				r = handle_header(t);
			} else
				r = handle_sparse_ext(t);
			if (r < 0)
				return r;
			break;
		case ST_EXTRA:
			take = MIN(n, t->acc_want - t->acc_len);
			memcpy(t->acc + t->acc_len, buf, take);
			t->acc_len += take;
			buf += take;
			n -= take;
			if (t->acc_len == t->acc_want) {
				r = handle_extra(t);
				if (r < 0)
					return r;
			}
			break;
		case ST_MAP10:
			r = feed_map10(t, buf, n, &take);
			if (r < 0)
				return r;
			buf += take;
			n -= take;
			break;
		case ST_DATA:
			if (t->map_first > 0) {
				take = (size_t)MIN((uint64_t)n, t->map_first);
				t->map_first -= take;
				buf += take;
				n -= take;
				break;
			}
			take = (size_t)MIN((uint64_t)n, t->left);
			if (t->writing) {
				r = write_data(t, buf, take);
				if (r < 0)
					return r;
			}
			t->left -= take;
			buf += take;
			n -= take;
			if (t->left == 0) {
				if (t->writing) {
					r = emit_zero_to(t, t->real_size);
					if (r < 0)
						return r;
					t->writing = false;
				}
				t->state = t->pad > 0 ? ST_PAD : ST_HEADER;
			}
			break;
		case ST_PAD:
			take = (size_t)MIN((uint64_t)n, t->pad);
			t->pad -= take;
			buf += take;
			n -= take;
			if (t->pad == 0)
				t->state = ST_HEADER;
			break;
		}
	}
	/* an empty selected member (or one with only holes) */
	if (t->writing && t->state != ST_DATA && t->state != ST_MAP10 && t->left == 0) {
		r = emit_zero_to(t, t->real_size);
		if (r < 0)
			return r;
		t->writing = false;
	}
	return 0;
}

static int tar_finish(void *state, uint64_t *ret_size)
{
	struct tar *t = state;

	if (!(t->state == ST_END || (t->state == ST_HEADER && t->block_len == 0)))
		return fail(t, -EPIPE, "tar: the archive is truncated%s%s",
			    t->name[0] ? " in member " : "", t->name);
	if (t->several)
		return fail(t, -EINVAL,
			    "the tar archive holds several files (%s); name the disk image with "
			    "--member NAME",
			    t->names);
	if (!t->selected) {
		if (t->member)
			return fail(t, -ENOENT, "the tar archive has no member %s; it holds: %s",
				    t->member, t->n_names ? t->names : "no regular file");
		return fail(t, -ENOENT, "the tar archive holds no regular file with data%s%s",
			    t->n_names ? ": " : "", t->names);
	}
	*ret_size = t->image_size;
	return 0;
}

static void tar_free(void *state)
{
	struct tar *t = state;

	tar_pax_done(&t->pax);
	free(t->acc);
	free(t->regions);
	free(t);
}

const struct container_ops container_tar_ops = {
	.feed = tar_feed,
	.finish = tar_finish,
	.free = tar_free,
};

int container_tar_new(const struct container_options *o, const struct container_output *out,
		      char *err, size_t errlen, void **ret)
{
	struct tar *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->out = *out;
	t->member = o ? o->member : NULL;
	t->err = err;
	t->errlen = errlen;
	*ret = t;
	return 0;
}
