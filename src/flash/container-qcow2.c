// SPDX-License-Identifier: GPL-2.0-or-later
/* qcow2 as a stream. The file is read once, in order; each data cluster is written to its guest
 * offset as it passes, compressed clusters are inflated, and whatever the tables do not map is
 * zeroed at the end. The tables come either from random access (a file, Range requests), in
 * which case the same bytes must pass in the stream or the run fails (so a digest of the stream
 * covers every table used), or from the stream itself (standard input, a compressed qcow2), in
 * which case each table must come before the data it maps. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#if HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "basic/alloc-util.h"
#include "basic/macro.h"
#include "flash/container.h"
#include "format/qcow2.h"

/* Extents (data runs, compressed clusters, tables) held in memory at once: 40 bytes each. */
#define ITEMS_MAX (2U << 20)
/* Items whose file ranges overlap at one point of the stream (compressed clusters share their
 * last sector with the next one; more than a few is a crafted file). */
#define ACTIVE_MAX 64
/* Table bytes read ahead with random access and kept until the stream passes them. */
#define PREFETCH_MAX (64ULL << 20)

enum item_kind {
	ITEM_HEADER,
	ITEM_L1,
	ITEM_L2,
	ITEM_DATA,
	ITEM_COMPRESSED,
};

struct item {
	uint64_t host, len; /* file range */
	uint64_t guest;	    /* data: guest offset; L2: L1 index */
	uint64_t guest_len; /* compressed: the cluster's guest bytes */
	uint8_t *buf;	    /* tables: expected bytes (prefetched) or captured ones; compressed */
	size_t got;
	uint8_t kind;
	bool expected; /* buf holds the prefetched bytes to compare with */
};

struct qcow2 {
	struct container_output out;
	struct container_input in;
	bool prefetch;
	char *err;
	size_t errlen;

	struct qcow2_header h;
	bool have_header;
	struct item *items;
	size_t n_items, cap_items, next; /* items[next..] are not reached yet, sorted by host */
	size_t active[ACTIVE_MAX];
	unsigned n_active;
	uint64_t pos;
	uint64_t prefetched;
	uint64_t zcur; /* zero runs: where the one being built starts */

	uint8_t *cluster; /* decompression output */
	z_stream z;
	bool z_init;
#if HAVE_ISAL
	struct inflate_state *isal; /* zlib clusters are raw deflate: ISA-L's inflate is ~2x zlib */
#endif
	ZSTD_DCtx *zs;
	bool started;
};

static int fail(struct qcow2 *q, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(struct qcow2 *q, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->err, q->errlen, fmt, ap);
	va_end(ap);
	return r;
}

#define STDIN_HINT                                                                                 \
	"streaming a qcow2 without random access needs its tables before the data they map (as "   \
	"qemu-img convert -O qcow2 writes them); give a file or an http(s) URL of the "            \
	"uncompressed qcow2 instead, or rewrite it with qemu-img convert -O qcow2"

static int add_item(struct qcow2 *q, const struct item *it)
{
	if (it->len == 0)
		return 0;
	if (!q->prefetch && it->host < q->pos)
		return fail(q, -EPROTONOSUPPORT,
			    "qcow2: a table maps file offset %llu, which the stream had already "
			    "passed (at %llu); " STDIN_HINT,
			    (unsigned long long)it->host, (unsigned long long)q->pos);
	/* merge a data run that continues the previous one in both the file and the disk */
	if (it->kind == ITEM_DATA && q->n_items > q->next) {
		struct item *last = &q->items[q->n_items - 1];
		if (last->kind == ITEM_DATA && last->host + last->len == it->host &&
		    last->guest + last->len == it->guest) {
			last->len += it->len;
			return 0;
		}
	}
	if (q->n_items >= ITEMS_MAX)
		return fail(q, -EFBIG,
			    "qcow2: the image is too fragmented to stream (more than %u extents); "
			    "rewrite it with qemu-img convert -O qcow2",
			    ITEMS_MAX);
	if (ARRAY_RESERVE(q->items, q->cap_items, q->n_items) < 0)
		return -ENOMEM;
	q->items[q->n_items++] = *it;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void sort_pending(struct qcow2 *q)
{
	if (q->n_items - q->next > 1)
		qsort(q->items + q->next, q->n_items - q->next, sizeof(struct item), item_cmp);
}

/* Zero runs go out as soon as a table shows them: a hashed prefix of the disk (--image-sha256)
 * can then move past them before the data after them arrives. */
static int zero_to(struct qcow2 *q, uint64_t end)
{
	int r;

	if (end <= q->zcur)
		return 0;
	r = q->out.zero(q->out.userdata, q->zcur, end - q->zcur);
	if (r < 0)
		return r;
	q->zcur = end;
	return 0;
}

static int on_extent(void *userdata, const struct qcow2_extent *e)
{
	struct qcow2 *q = userdata;
	struct item it = { .host = e->host, .len = e->host_len, .guest = e->guest };
	int r = zero_to(q, e->guest);

	if (r < 0)
		return r;
	q->zcur = e->guest + e->len;

	if (e->kind == QCOW2_EXTENT_COMPRESSED) {
		it.kind = ITEM_COMPRESSED;
		it.guest_len = e->len;
	} else
		it.kind = ITEM_DATA;
	return add_item(q, &it);
}

/* With random access, say which backing file a refused image needs (its name is usually past
 * the header bytes the parser looks at). */
static void name_backing_file(struct qcow2 *q, const uint8_t *hdr, size_t n)
{
	char name[1024], why[256];
	uint64_t off;
	size_t len;

	if (qcow2_backing_name(hdr, n, &off, &len) <= 0 ||
	    q->in.read_at(q->in.userdata, off, (uint8_t *)name, len, why, sizeof(why)) < 0)
		return;
	name[len] = 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f)
			name[i] = '?';
	fail(q, -EPROTONOSUPPORT,
	     "the qcow2 image has a backing file (%s): its data is partly in another file, which "
	     "reimage does not fetch; flatten it with qemu-img convert -O qcow2 (or -O raw) first",
	     name);
}

/* A table's bytes are complete: parse it and add what it maps. */
static int parse_table(struct qcow2 *q, const struct item *it, const uint8_t *b)
{
	int r;

	switch (it->kind) {
	case ITEM_HEADER:
		r = qcow2_header_parse(b, it->len, &q->h, q->err, q->errlen);
		if (r == -EPROTONOSUPPORT && q->prefetch)
			name_backing_file(q, b, it->len);
		if (r < 0)
			return r;
		q->have_header = true;
		r = q->out.size(q->out.userdata, q->h.size);
		if (r < 0)
			return r;
		q->cluster = malloc(q->h.cluster_size);
		if (!q->cluster)
			return -ENOMEM;
		return add_item(q, &(struct item){ .host = q->h.l1_offset,
						   .len = (uint64_t)q->h.l1_size * 8,
						   .kind = ITEM_L1 });
	case ITEM_L1: {
		uint64_t span = (uint64_t)q->h.l2_entries * q->h.cluster_size;

		for (uint32_t i = 0; i < q->h.l1_size; i++) {
			uint64_t e, g = (uint64_t)i * span;
			int64_t off;

			memcpy(&e, b + (size_t)i * 8, 8);
			off = qcow2_l1_entry(&q->h, e);
			if (off < 0)
				return fail(q, -EBADMSG,
					    "qcow2: L1 entry %u points at an unaligned L2 table", i);
			if (g >= q->h.size)
				break; /* entries past the virtual size map nothing */
			if (off == 0) {
				/* no L2 table: all of its range reads as zeros */
				q->zcur = g;
				r = zero_to(q, MIN(g + span, q->h.size));
				if (r < 0)
					return r;
				continue;
			}
			r = add_item(q, &(struct item){ .host = (uint64_t)off,
							   .len = q->h.cluster_size,
							   .guest = i,
							   .kind = ITEM_L2 });
			if (r < 0)
				return r;
		}
		return 0;
	}
	case ITEM_L2: {
		uint64_t span = (uint64_t)q->h.l2_entries * q->h.cluster_size;
		uint64_t g = it->guest * span;

		q->zcur = g;
		r = qcow2_l2_parse(&q->h, (uint32_t)it->guest, b, on_extent, q, q->err,
				   q->errlen);
		if (r < 0)
			return r;
		return zero_to(q, MIN(g + span, q->h.size));
	}
	default:
		return 0;
	}
}

static bool is_table(const struct item *it)
{
	return it->kind == ITEM_HEADER || it->kind == ITEM_L1 || it->kind == ITEM_L2;
}

static const char *table_name(const struct item *it)
{
	switch (it->kind) {
	case ITEM_HEADER: return "header";
	case ITEM_L1: return "L1 table";
	default: return "L2 table";
	}
}

/* Random access: read every table first, in the order they are found. */
static int prefetch(struct qcow2 *q)
{
	for (size_t i = 0; i < q->n_items; i++) {
		struct item *it = &q->items[i];
		uint8_t *b;
		int r;

		if (!is_table(it))
			continue;
		q->prefetched += it->len;
		if (q->prefetched > PREFETCH_MAX)
			return fail(q, -EFBIG, "qcow2: the tables are larger than %llu MiB",
				    (unsigned long long)(PREFETCH_MAX >> 20));
		b = malloc(it->len);
		if (!b)
			return -ENOMEM;
		r = q->in.read_at(q->in.userdata, it->host, b, it->len, q->err, q->errlen);
		if (r < 0) {
			free(b);
			if (r == -EIO && !q->err[0])
				fail(q, r, "qcow2: the file ends inside its %s (at %llu)",
				     table_name(it), (unsigned long long)it->host);
			return r;
		}
		it = &q->items[i];
		it->buf = b;
		it->expected = true;
		r = parse_table(q, it, b); /* may move q->items */
		if (r < 0)
			return r;
	}
	sort_pending(q);
	return 0;
}

static int decompress_cluster(struct qcow2 *q, struct item *it)
{
	size_t cs = q->h.cluster_size;

	if (q->h.compression == QCOW2_COMPRESSION_ZLIB) {
#if HAVE_ISAL
		int ir;

		if (!q->isal) {
			q->isal = malloc(sizeof(*q->isal));
			if (!q->isal)
				return -ENOMEM;
		}
		isal_inflate_init(q->isal); /* raw deflate (crc_flag ISAL_DEFLATE) */
		q->isal->next_in = it->buf;
		q->isal->avail_in = (uint32_t)it->got;
		q->isal->next_out = q->cluster;
		q->isal->avail_out = (uint32_t)cs;
		ir = isal_inflate(q->isal);
		/* the cluster must come out whole; what follows it in its last sector is padding */
		if (ir < 0 || q->isal->avail_out != 0)
			return fail(q, -EBADMSG,
				    "qcow2: the compressed cluster at file offset %llu (guest %llu) "
				    "is corrupt",
				    (unsigned long long)it->host, (unsigned long long)it->guest);
#else
		int zr;

		if (!q->z_init) {
			if (inflateInit2(&q->z, -12) != Z_OK)
				return -ENOMEM;
			q->z_init = true;
		} else if (inflateReset(&q->z) != Z_OK)
			return -ENOMEM;
		q->z.next_in = it->buf;
		q->z.avail_in = (uInt)it->got;
		q->z.next_out = q->cluster;
		q->z.avail_out = (uInt)cs;
		zr = inflate(&q->z, Z_FINISH);
		if (!((zr == Z_STREAM_END || zr == Z_BUF_ERROR) && q->z.avail_out == 0))
			return fail(q, -EBADMSG,
				    "qcow2: the compressed cluster at file offset %llu (guest %llu) "
				    "is corrupt",
				    (unsigned long long)it->host, (unsigned long long)it->guest);
#endif
	} else {
		ZSTD_inBuffer ib = { it->buf, it->got, 0 };
		ZSTD_outBuffer ob = { q->cluster, cs, 0 };

		if (!q->zs) {
			q->zs = ZSTD_createDCtx();
			if (!q->zs)
				return -ENOMEM;
			/* a cluster is at most 2 MiB: a larger window is a crafted frame */
			ZSTD_DCtx_setParameter(q->zs, ZSTD_d_windowLogMax, 22);
		} else
			ZSTD_DCtx_reset(q->zs, ZSTD_reset_session_only);
		while (ob.pos < ob.size) {
			size_t before = ib.pos + ob.pos, zr = ZSTD_decompressStream(q->zs, &ob, &ib);
			if (ZSTD_isError(zr) || (ib.pos + ob.pos == before))
				return fail(q, -EBADMSG,
					    "qcow2: the zstd compressed cluster at file offset %llu "
					    "(guest %llu) is corrupt",
					    (unsigned long long)it->host,
					    (unsigned long long)it->guest);
		}
	}
	return q->out.write(q->out.userdata, it->guest, q->cluster, (size_t)it->guest_len);
}

/* The stream reached the end of an active item. */
static int complete(struct qcow2 *q, struct item *it)
{
	int r = 0;

	if (is_table(it)) {
		if (!it->expected) {
			/* the stream's copy is the table: parse it now */
			struct item copy = *it;
			it->buf = NULL;
			r = parse_table(q, &copy, copy.buf);
			free(copy.buf);
			/* it may have moved: the caller re-reads items by index */
			sort_pending(q);
			return r;
		}
		free(it->buf);
		it->buf = NULL;
		return 0;
	}
	if (it->kind == ITEM_COMPRESSED) {
		r = decompress_cluster(q, it);
		free(it->buf);
		it->buf = NULL;
	}
	return r;
}

static int activate(struct qcow2 *q)
{
	while (q->next < q->n_items && q->items[q->next].host <= q->pos) {
		struct item *it = &q->items[q->next];

		if (it->host < q->pos)
			return fail(q, -EPROTONOSUPPORT,
				    "qcow2: file offset %llu is needed after the stream passed it; "
				    STDIN_HINT,
				    (unsigned long long)it->host);
		if (q->n_active == ACTIVE_MAX)
			return fail(q, -EBADMSG,
				    "qcow2: more than %u clusters or tables share file offset %llu",
				    ACTIVE_MAX, (unsigned long long)q->pos);
		if (it->kind == ITEM_COMPRESSED || (is_table(it) && !it->expected)) {
			it->buf = malloc(it->len);
			if (!it->buf)
				return -ENOMEM;
		}
		it->got = 0;
		q->active[q->n_active++] = q->next++;
	}
	return 0;
}

static int qcow2_feed(void *state, const uint8_t *buf, size_t n)
{
	struct qcow2 *q = state;
	int r;

	if (!q->started) {
		q->started = true;
		if (q->prefetch) {
			r = prefetch(q);
			if (r < 0)
				return r;
		}
	}
	while (n > 0) {
		uint64_t step = n;

		r = activate(q);
		if (r < 0)
			return r;
		if (q->next < q->n_items)
			step = MIN(step, q->items[q->next].host - q->pos);
		for (unsigned a = 0; a < q->n_active; a++) {
			const struct item *it = &q->items[q->active[a]];
			step = MIN(step, it->host + it->len - q->pos);
		}
		for (unsigned a = 0; a < q->n_active; a++) {
			struct item *it = &q->items[q->active[a]];

			if (it->kind == ITEM_DATA) {
				r = q->out.write(q->out.userdata, it->guest + (q->pos - it->host), buf,
						 (size_t)step);
				if (r < 0)
					return r;
			} else if (it->expected) {
				if (memcmp(it->buf + it->got, buf, (size_t)step) != 0)
					return fail(q, -EBADMSG,
						    "qcow2: the %s at file offset %llu differs between "
						    "the random-access read and the stream (the file "
						    "changed on the server, or a proxy or server sends "
						    "different bytes); nothing was trusted",
						    table_name(it), (unsigned long long)it->host);
			} else
				memcpy(it->buf + it->got, buf, (size_t)step);
			it->got += (size_t)step;
		}
		q->pos += step;
		buf += step;
		n -= (size_t)step;
		/* finish what ends here; tables may add items, so work with indexes */
		for (unsigned a = 0; a < q->n_active;) {
			size_t idx = q->active[a];
			if (q->items[idx].host + q->items[idx].len != q->pos) {
				a++;
				continue;
			}
			q->active[a] = q->active[--q->n_active];
			r = complete(q, &q->items[idx]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int qcow2_finish(void *state, uint64_t *ret_size)
{
	struct qcow2 *q = state;
	int r;

	if (!q->started) {
		r = qcow2_feed(q, NULL, 0);
		if (r < 0)
			return r;
	}
	/* the last compressed cluster's sector count may reach past the end of the file */
	for (unsigned a = 0; a < q->n_active; a++) {
		struct item *it = &q->items[q->active[a]];
		if (it->kind != ITEM_COMPRESSED)
			return fail(q, -EPIPE, "qcow2: the file ends inside a %s (at %llu)",
				    is_table(it) ? table_name(it) : "data cluster",
				    (unsigned long long)it->host);
		r = decompress_cluster(q, it);
		free(it->buf);
		it->buf = NULL;
		if (r < 0)
			return r;
	}
	q->n_active = 0;
	if (!q->have_header)
		return fail(q, -EPIPE, "qcow2: the file ends inside its header");
	if (q->next < q->n_items) {
		const struct item *it = &q->items[q->next];
		return fail(q, -EPIPE,
			    "qcow2: the file ends at %llu but its tables map data at file offset "
			    "%llu (truncated)",
			    (unsigned long long)q->pos, (unsigned long long)it->host);
	}
	*ret_size = q->h.size;
	return 0;
}

static void qcow2_free(void *state)
{
	struct qcow2 *q = state;

	for (size_t i = 0; i < q->n_items; i++)
		free(q->items[i].buf);
	free(q->items);
	free(q->cluster);
	if (q->z_init)
		inflateEnd(&q->z);
#if HAVE_ISAL
	free(q->isal);
#endif
	ZSTD_freeDCtx(q->zs);
	free(q);
}

const struct container_ops container_qcow2_ops = {
	.feed = qcow2_feed,
	.finish = qcow2_finish,
	.free = qcow2_free,
};

int container_qcow2_new(const struct container_output *out, const struct container_input *in,
			char *err, size_t errlen, void **ret)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	q->out = *out;
	if (in && in->read_at) {
		q->in = *in;
		q->prefetch = true;
	}
	q->err = err;
	q->errlen = errlen;
	r = add_item(q, &(struct item){ .host = 0, .len = QCOW2_HEADER_SIZE, .kind = ITEM_HEADER });
	if (r < 0) {
		free(q);
		return r;
	}
	*ret = q;
	return 0;
}
