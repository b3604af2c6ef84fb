// SPDX-License-Identifier: GPL-2.0-or-later
/* The streaming writer: threads, bounded buffers, digests; the sink holds the ends. */
#include "flash/pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/time-util.h"
#include "crypto/digest.h"
#include "crypto/minisign-verify.h"
#include "flash/chunk-queue.h"
#include "flash/container.h"
#include "flash/decompress.h"
#include "flash/disk-digest.h"
#include "flash/sink.h"
#include "flash/source.h"
#include "format/url.h"

struct flash {
	const struct flash_options *o;
	struct progress *p;
	const volatile int *interrupted;
	char src_display[2048];

	struct flow flow;
	struct chunk_pool comp_pool, img_pool;
	struct chunk_queue q_comp, q_img, q_write;
	bool hashing_image;

	struct sink sink;
	struct digest *pub_digest, *img_digest, *blake_digest;

	_Atomic uint64_t in, out, total_in;
	_Atomic unsigned finished;

	pthread_mutex_t err_lock;
	int error, exit_code;
	char message[2048];

	struct chunk *cur_comp; /* reader: chunk being filled */
	enum compression format;
	bool started;

	uint64_t image_size;

	/* the container layer (flash/container.h), set up by the writer on the first chunk */
	struct container *ct;
	enum container_kind ckind;
	bool ct_hashing; /* the writer hashes the disk image (not the hash thread) */
	struct disk_digest dd;
	int src_fd; /* random access to a file source, for qcow2 tables */
};

static int flash_fail(struct flash *f, int r, int exit_code, const char *fmt, ...)
	_printf_(4, 5);

static const char *signal_name(int sig)
{
	static _Thread_local char buf[32];
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

static int flash_fail(struct flash *f, int r, int exit_code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->err_lock);
	if (f->error == 0) {
		f->error = r < 0 ? r : -EIO;
		f->exit_code = exit_code;
		va_start(ap, fmt);
		vsnprintf(f->message, sizeof(f->message), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&f->err_lock);
	flow_abort(&f->flow);
	return r;
}

static bool flash_failed(struct flash *f)
{
	bool failed;

	pthread_mutex_lock(&f->err_lock);
	failed = f->error != 0;
	pthread_mutex_unlock(&f->err_lock);
	return failed;
}

/* ---- stage 1: the source ---- */

static int reader_deliver(void *userdata, const uint8_t *buf, size_t n, bool *ret_waited)
{
	struct flash *f = userdata;
	int r;

	*ret_waited = false;
	if (f->blake_digest) {
		r = digest_update(f->blake_digest, buf, n);
		if (r < 0)
			return flash_fail(f, r, FLASH_EXIT_INTERNAL, "BLAKE2b computation failed");
	}
	if (f->pub_digest) {
		r = digest_update(f->pub_digest, buf, n);
		if (r < 0)
			return flash_fail(f, r, FLASH_EXIT_INTERNAL, "SHA-256 computation failed");
	}
	atomic_fetch_add(&f->in, n);
	while (n > 0) {
		size_t take;

		if (!f->cur_comp) {
			bool waited;
			f->cur_comp = chunk_pool_get(&f->comp_pool, &waited);
			if (!f->cur_comp)
				return -ECANCELED;
			*ret_waited |= waited;
		}
		take = MIN(n, f->cur_comp->cap - f->cur_comp->len);
		memcpy(f->cur_comp->data + f->cur_comp->len, buf, take);
		f->cur_comp->len += take;
		buf += take;
		n -= take;
		if (f->cur_comp->len == f->cur_comp->cap) {
			chunk_queue_push(&f->q_comp, f->cur_comp);
			f->cur_comp = NULL;
		}
	}
	return 0;
}

static void reader_size_known(void *userdata, uint64_t size)
{
	struct flash *f = userdata;
	atomic_store(&f->total_in, size);
}

static void reader_retrying(void *userdata, unsigned attempt, uint64_t delay_ms, uint64_t offset,
			    const char *reason)
{
	struct flash *f = userdata;
	progress_retry(f->p, attempt, delay_ms, offset, reason);
}

static bool reader_should_stop(void *userdata)
{
	struct flash *f = userdata;
	return flow_is_aborted(&f->flow) || (f->interrupted && *f->interrupted);
}

/* The source as the options describe it; end_verified as the caller knows it. */
static struct source_config source_config_of(const struct flash *f, bool end_verified)
{
	return (struct source_config){
		.location = f->o->src,
		.headers = f->o->headers,
		.n_headers = f->o->n_headers,
		.retries = f->o->retries,
		.retry_for_ms = f->o->retry_for_ms,
		.connect_timeout_ms = f->o->connect_timeout_ms,
		.stall_timeout_ms = f->o->stall_timeout_ms,
		.low_speed = f->o->low_speed,
		.tls = f->o->tls,
		.end_verified = end_verified,
	};
}

static void *reader_thread(void *userdata)
{
	struct flash *f = userdata;
	/* a digest or signature checked at the end catches a blind splice before the head is
	 * committed: resuming without validators is safe then */
	struct source_config cfg = source_config_of(
		f, f->o->have_sha256 || f->o->have_image_sha256 || f->o->have_minisig);
	struct source_callbacks cb = {
		.userdata = f,
		.deliver = reader_deliver,
		.size_known = reader_size_known,
		.retrying = reader_retrying,
		.should_stop = reader_should_stop,
	};
	char err[1024];
	int r;

	r = source_run(&cfg, &cb, err, sizeof(err));
	if (r >= 0) {
		if (f->cur_comp && f->cur_comp->len > 0)
			chunk_queue_push(&f->q_comp, TAKE_PTR(f->cur_comp));
		chunk_queue_close(&f->q_comp);
	} else if (r != -ECANCELED && !flash_failed(f)) {
		flash_fail(f, r, FLASH_EXIT_SOURCE, "%s",
			   err[0] ? err : "reading the source failed");
	} else if (r == -ECANCELED && !flash_failed(f)) {
		int sig = f->interrupted && *f->interrupted ? *f->interrupted : SIGINT;
		flash_fail(f, r, FLASH_EXIT_SIGNAL_BASE + sig, "interrupted by %s",
			   signal_name(sig));
	}
	chunk_release(TAKE_PTR(f->cur_comp));
	atomic_fetch_add(&f->finished, 1);
	return NULL;
}

/* ---- stage 2: decompression ---- */

static bool flash_container_is_raw(const uint8_t *buf, size_t n)
{
	enum container_kind k = CONTAINER_RAW;
	char why[8];

	return container_detect(buf, n, &k, why, sizeof(why)) == 0 && k == CONTAINER_RAW;
}

static void describe_size(char *buf, size_t n, uint64_t v)
{
	char h[32];
	snprintf(buf, n, "%s (%llu bytes)", format_bytes(h, sizeof(h), v), (unsigned long long)v);
}

static int decompress_fail(struct flash *f, struct decompressor *d, int r)
{
	if (r == -EPIPE)
		return flash_fail(f, r, FLASH_EXIT_DATA, "the image data is truncated: %s",
				  decompressor_error(d));
	if (r == -EFBIG || r == -EPROTONOSUPPORT)
		return flash_fail(f, r, FLASH_EXIT_DATA, "the image cannot be decompressed here: %s",
				  decompressor_error(d));
	if (r == -ENOMEM)
		return flash_fail(f, r, FLASH_EXIT_INTERNAL, "out of memory while decompressing");
	return flash_fail(f, r, FLASH_EXIT_DATA, "the image data is corrupt: %s",
			  decompressor_error(d));
}

static void *decompress_thread(void *userdata)
{
	struct flash *f = userdata;
	struct chunk_queue *next = f->hashing_image ? &f->q_img : &f->q_write;
	struct decompressor *d = NULL;
	struct chunk *in, *out = NULL;
	uint64_t out_off = 0, declared;
	int r;

	in = chunk_queue_pop(&f->q_comp);
	if (!in) {
		if (!flow_is_aborted(&f->flow))
			flash_fail(f, -ENODATA, FLASH_EXIT_DATA,
				   "the source is empty: no image data arrived");
		goto done;
	}
	f->format = compression_detect(in->data, in->len);
	declared = decompress_declared_size(in->data, in->len);
	if (declared != UINT64_MAX && f->sink.dev_size != UINT64_MAX &&
	    declared > f->sink.dev_size) {
		char a[64], b[64];
		describe_size(a, sizeof(a), declared);
		describe_size(b, sizeof(b), f->sink.dev_size);
		flash_fail(f, -EFBIG, FLASH_EXIT_TARGET,
			   "the image (at least %s) is larger than the target %s, %s", a, f->o->dst, b);
		chunk_release(in);
		goto done;
	}
	if (f->format == COMPRESSION_RAW && f->sink.dev_size != UINT64_MAX &&
	    flash_container_is_raw(in->data, in->len) &&
	    atomic_load(&f->total_in) != UINT64_MAX && atomic_load(&f->total_in) > f->sink.dev_size) {
		char a[64], b[64];
		describe_size(a, sizeof(a), atomic_load(&f->total_in));
		describe_size(b, sizeof(b), f->sink.dev_size);
		flash_fail(f, -EFBIG, FLASH_EXIT_TARGET,
			   "the image, %s, is larger than the target %s, %s", a, f->o->dst, b);
		chunk_release(in);
		goto done;
	}
	f->started = true;
	progress_format(f->p, compression_name(f->format), atomic_load(&f->total_in));
	r = decompressor_new(f->format, &d);
	if (r < 0) {
		flash_fail(f, r, FLASH_EXIT_INTERNAL, "cannot set up the %s decoder: %s",
			   compression_name(f->format), strerror(-r));
		chunk_release(in);
		goto done;
	}
	do {
		const uint8_t *p = in->data;
		size_t left = in->len;

		for (;;) {
			size_t consumed, produced;

			if (!out) {
				out = chunk_pool_get(&f->img_pool, NULL);
				if (!out)
					break;
				out->offset = out_off;
			}
			r = decompressor_feed(d, p, left, &consumed, out->data + out->len,
					      out->cap - out->len, &produced);
			if (r < 0) {
				decompress_fail(f, d, r);
				break;
			}
			p += consumed;
			left -= consumed;
			out->len += produced;
			out_off += produced;
			if (out->len == out->cap) {
				chunk_queue_push(next, TAKE_PTR(out));
				continue;
			}
			if (left == 0)
				break;
		}
		chunk_release(in);
		if (flow_is_aborted(&f->flow))
			goto done;
	} while ((in = chunk_queue_pop(&f->q_comp)));

	if (flow_is_aborted(&f->flow))
		goto done;
	r = decompressor_finish(d);
	if (r < 0) {
		decompress_fail(f, d, r);
		goto done;
	}
	if (out && out->len > 0)
		chunk_queue_push(next, TAKE_PTR(out));
	chunk_queue_close(next);
done:
	chunk_release(out);
	decompressor_free(d);
	atomic_fetch_add(&f->finished, 1);
	return NULL;
}

/* ---- stage 3 (optional): SHA-256 of the image ---- */

static void *hash_thread(void *userdata)
{
	struct flash *f = userdata;
	struct chunk *c;

	bool first = true, skip = false;

	while ((c = chunk_queue_pop(&f->q_img))) {
		int r = 0;

		if (first) {
			/* a container's disk image is hashed by the writer, in disk order */
			enum container_kind k = CONTAINER_RAW;
			char why[8];
			first = false;
			skip = container_detect(c->data, c->len, &k, why, sizeof(why)) < 0 ||
			       k != CONTAINER_RAW;
		}
		if (!skip)
			r = digest_update(f->img_digest, c->data, c->len);
		if (r < 0) {
			chunk_release(c);
			flash_fail(f, r, FLASH_EXIT_INTERNAL, "SHA-256 computation failed");
			break;
		}
		chunk_queue_push(&f->q_write, c);
	}
	if (!flow_is_aborted(&f->flow))
		chunk_queue_close(&f->q_write);
	atomic_fetch_add(&f->finished, 1);
	return NULL;
}

/* ---- stage 4: the target ---- */

static int write_fail(struct flash *f, int r)
{
	if (r == -EFBIG) {
		char b[64];
		describe_size(b, sizeof(b), f->sink.dev_size);
		return flash_fail(f, r, FLASH_EXIT_TARGET,
				  "the image is larger than the target %s, %s", f->o->dst, b);
	}
	return flash_fail(f, r, FLASH_EXIT_WRITE, "writing to %s failed: %s", f->o->dst,
			  strerror(-r));
}

static int writer_hash(struct flash *f, uint64_t off, const uint8_t *p, uint64_t len)
{
	int r;

	if (!f->ct_hashing)
		return 0;
	r = disk_digest_add(&f->dd, off, p, len);
	if (r == -EFBIG)
		return flash_fail(f, r, FLASH_EXIT_DATA,
				  "the %s stores its data too far out of disk order to compute the "
				  "SHA-256 of the disk image (--image-sha256, --verify) while streaming "
				  "(more than %llu MiB held); check the published file with "
				  "--sha256/--sums instead, or rewrite it with qemu-img convert",
				  container_name(f->ckind),
				  (unsigned long long)(DISK_DIGEST_HELD_MAX >> 20));
	if (r == -EBADMSG)
		return flash_fail(f, r, FLASH_EXIT_DATA, "the %s maps some disk bytes twice",
				  container_name(f->ckind));
	if (r < 0)
		return flash_fail(f, r, FLASH_EXIT_INTERNAL, "SHA-256 computation failed");
	return 0;
}

static int emit_size(void *userdata, uint64_t size)
{
	struct flash *f = userdata;
	int r;

	if (f->sink.dev_size != UINT64_MAX && size > f->sink.dev_size) {
		char a[64], b[64];
		describe_size(a, sizeof(a), size);
		describe_size(b, sizeof(b), f->sink.dev_size);
		return flash_fail(f, -EFBIG, FLASH_EXIT_TARGET,
				  "the disk image in the %s is %s, larger than the target %s, %s",
				  container_name(f->ckind), a, f->o->dst, b);
	}
	/* the held tail of a file target sits at the image's last MiB, so writes may scatter */
	r = sink_set_size(&f->sink, size);
	if (r < 0)
		return write_fail(f, r);
	return 0;
}

/* Files are created (truncated) at the first byte that goes past the held first MiB, so an
 * image refused early (a tar with several files, a qcow2 with a backing file) leaves them as
 * they were. */
static int writer_open(struct flash *f)
{
	int r;

	if (f->sink.opened)
		return 0;
	r = sink_open(&f->sink);
	if (r < 0)
		return flash_fail(f, r, FLASH_EXIT_WRITE, "cannot create %s: %s", f->o->dst,
				  strerror(-r));
	return 0;
}

/* Before data (p) or zeros (p NULL) at off go to the sink: hash them, and open the target
 * once anything lands past the held head. */
static int emit_prepare(struct flash *f, uint64_t off, const uint8_t *p, uint64_t len)
{
	int r = writer_hash(f, off, p, len);

	if (r < 0 || off + len <= SINK_HOLD_SIZE)
		return r;
	return writer_open(f);
}

static int emit_write(void *userdata, uint64_t off, const uint8_t *p, size_t len)
{
	struct flash *f = userdata;
	int r = emit_prepare(f, off, p, len);

	if (r < 0)
		return r;
	r = sink_write(&f->sink, off, p, len);
	return r < 0 ? write_fail(f, r) : 0;
}

static int emit_zero(void *userdata, uint64_t off, uint64_t len)
{
	struct flash *f = userdata;
	int r = emit_prepare(f, off, NULL, len);

	if (r < 0)
		return r;
	r = sink_write_zeroes(&f->sink, off, len);
	return r < 0 ? write_fail(f, r) : 0;
}

static int read_at(void *userdata, uint64_t off, uint8_t *buf, size_t len, char *why,
		   size_t whylen)
{
	struct flash *f = userdata;
	/* the table bytes are compared with the stream's: a resume may go on blind */
	struct source_config cfg = source_config_of(f, true);
	size_t got = 0;
	int r;

	if (f->src_fd >= 0) {
		while (got < len) {
			ssize_t n = pread(f->src_fd, buf + got, len - got, (off_t)(off + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = negative_errno();
				snprintf(why, whylen, "reading %s failed: %s", f->src_display,
					 strerror(-r));
				return r;
			}
			if (n == 0)
				return -EIO;
			got += (size_t)n;
		}
		return 0;
	}
	r = source_read_range(&cfg, off, buf, len, &got, why, whylen);
	if (r < 0)
		return r;
	return got == len ? 0 : -EIO;
}

static int writer_start(struct flash *f, const struct chunk *c)
{
	struct container_options co = { .member = f->o->member };
	struct container_output out = {
		.userdata = f, .size = emit_size, .write = emit_write, .zero = emit_zero
	};
	struct container_input in = { .userdata = f, .read_at = read_at };
	char why[1024];
	int r;

	r = container_detect(c->data, c->len, &f->ckind, why, sizeof(why));
	if (r < 0)
		return flash_fail(f, r, FLASH_EXIT_DATA, "%s", why);
	if (f->o->member && f->ckind != CONTAINER_TAR)
		return flash_fail(f, -EINVAL, FLASH_EXIT_USAGE,
				  "--member %s was given but the image is %s, not a tar archive",
				  f->o->member, container_name(f->ckind));
	f->ct_hashing = f->hashing_image && f->ckind != CONTAINER_RAW;
	if (f->ct_hashing)
		disk_digest_init(&f->dd, f->img_digest);
	/* qcow2 tables by random access when the stream is the published file itself */
	if (f->ckind == CONTAINER_QCOW2 && f->format == COMPRESSION_RAW &&
	    strcmp(f->o->src, "-") != 0) {
		if (!url_is_http(f->o->src)) {
			struct stat st;
			f->src_fd = open(f->o->src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
			if (f->src_fd >= 0 && (fstat(f->src_fd, &st) < 0 ||
					       !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))))
				f->src_fd = safe_close(f->src_fd);
		}
		if (f->src_fd < 0 && !url_is_http(f->o->src))
			in.read_at = NULL;
	} else
		in.read_at = NULL;
	if (f->ckind != CONTAINER_RAW)
		progress_note(f->p, "The image is a %s%s; writing the disk image it holds",
			      container_name(f->ckind),
			      f->ckind == CONTAINER_QCOW2 && in.read_at
				      ? " (tables read first, then the file once in order)"
				      : "");
	r = container_new(f->ckind, &co, &out, &in, &f->ct);
	if (r < 0)
		return flash_fail(f, r, FLASH_EXIT_INTERNAL, "cannot set up the %s reader: %s",
				  container_name(f->ckind), strerror(-r));
	return 0;
}

static int container_fail(struct flash *f, int r)
{
	if (flash_failed(f))
		return r;
	if (r == -ENOMEM)
		return flash_fail(f, r, FLASH_EXIT_INTERNAL, "out of memory in the %s reader",
				  container_name(f->ckind));
	if (r == -EPIPE)
		return flash_fail(f, r, FLASH_EXIT_DATA, "the image is truncated: %s",
				  container_error(f->ct));
	if (r == -EINVAL || r == -ENOENT)
		return flash_fail(f, r, FLASH_EXIT_USAGE, "%s", container_error(f->ct));
	if (r == -EHOSTUNREACH || r == -ETIMEDOUT || r == -ECONNRESET || r == -EACCES ||
	    r == -EPROTO || r == -ESTALE || r == -EKEYREJECTED)
		return flash_fail(f, r, FLASH_EXIT_SOURCE, "reading the qcow2 tables failed: %s",
				  container_error(f->ct));
	return flash_fail(f, r, FLASH_EXIT_DATA, "%s", container_error(f->ct));
}

static void *writer_thread(void *userdata)
{
	struct flash *f = userdata;
	struct chunk *c;
	int r;

	while ((c = chunk_queue_pop(&f->q_write))) {
		r = 0;
		if (!f->ct && writer_start(f, c) < 0) {
			chunk_release(c);
			break;
		}
		r = container_feed(f->ct, c->data, c->len);
		atomic_fetch_add(&f->out, c->len);
		chunk_release(c);
		if (r < 0) {
			container_fail(f, r);
			break;
		}
	}
	if (f->ct && !flow_is_aborted(&f->flow) && !flash_failed(f)) {
		r = container_finish(f->ct, &f->image_size);
		if (r < 0)
			container_fail(f, r);
		else if (f->ct_hashing) {
			r = disk_digest_finish(&f->dd, f->image_size);
			if (r < 0)
				flash_fail(f, r, r == -EBADMSG ? FLASH_EXIT_DATA : FLASH_EXIT_INTERNAL,
					   "the %s maps disk bytes twice or past its size",
					   container_name(f->ckind));
		}
	}
	atomic_fetch_add(&f->finished, 1);
	return NULL;
}

/* ---- the whole run ---- */

static int check_digest(struct flash *f, struct digest *d, const uint8_t expected[32],
			const char *what, const char *origin, const char *check, uint8_t got[32])
{
	char e[65], g[65];
	int r = digest_final(d, got, 32);

	if (r < 0)
		return flash_fail(f, r, FLASH_EXIT_INTERNAL, "SHA-256 computation failed");
	hex_encode(got, 32, g);
	if (!expected)
		return 0;
	hex_encode(expected, 32, e);
	if (memcmp(got, expected, 32) != 0)
		return flash_fail(f, -EBADMSG, FLASH_EXIT_VERIFY,
				  "SHA-256 mismatch for %s: expected %s (%s), got %s", what, e, origin,
				  g);
	progress_verified(f->p, check, g);
	return 0;
}

static int commit(struct flash *f)
{
	uint8_t pub[32], img[32];
	int r;

	if (f->pub_digest) {
		r = check_digest(f, f->pub_digest, f->o->sha256, f->src_display,
				 f->o->sha256_origin, strstr(f->o->sha256_origin, "SHA256SUMS") ? "sums" : "sha256", pub);
		if (r < 0)
			return r;
	}
	if (f->blake_digest) {
		uint8_t b[64];
		char why[512], id[17];

		r = digest_final(f->blake_digest, b, sizeof(b));
		if (r < 0)
			return flash_fail(f, r, FLASH_EXIT_INTERNAL, "BLAKE2b computation failed");
		r = minisign_verify_prehashed(&f->o->minisign_key, &f->o->minisign_sig, b, why,
					      sizeof(why));
		if (r < 0)
			return flash_fail(f, r, FLASH_EXIT_VERIFY,
					  "minisign signature check failed for %s: %s", f->src_display,
					  why);
		minisign_keynum_format(f->o->minisign_key.keynum, id);
		progress_verified(f->p, "minisign", id);
		progress_note(f->p, "trusted comment: %s", f->o->minisign_sig.trusted_comment);
	}
	if (f->img_digest) {
		r = check_digest(f, f->img_digest, f->o->have_image_sha256 ? f->o->image_sha256 : NULL,
				 "the decompressed image", "--image-sha256", "image-sha256", img);
		if (r < 0)
			return r;
	}
	/* Every check passed: the body goes to the disk, then the held first and last MiB. */
	r = sink_commit(&f->sink, f->image_size);
	if (r < 0)
		return write_fail(f, r);
	if (f->o->verify) {
		uint8_t back[32];
		char g[65], e[65];

		progress_note(f->p, "Reading back %llu bytes from %s to verify them",
			      (unsigned long long)f->image_size, f->o->dst);
		r = sink_read_back_sha256(&f->sink, f->image_size, back);
		if (r < 0)
			return flash_fail(f, r, FLASH_EXIT_WRITE, "reading back %s failed: %s",
					  f->o->dst, strerror(-r));
		hex_encode(back, 32, g);
		hex_encode(img, 32, e);
		if (memcmp(back, img, 32) != 0)
			return flash_fail(f, -EIO, FLASH_EXIT_VERIFY,
					  "read-back mismatch on %s: the image has SHA-256 %s but the "
					  "target holds %s (failing disk or memory?)",
					  f->o->dst, e, g);
		progress_verified(f->p, "read-back", g);
	}
	if (f->sink.is_blockdev) {
		r = sink_reread_partitions(&f->sink);
		if (r < 0 && r != -EINVAL)
			progress_note(f->p,
				      "note: the kernel did not re-read the partition table of %s "
				      "(%s); it will at the next boot",
				      f->o->dst, strerror(-r));
	}
	return 0;
}

static void fail_closed(struct flash *f)
{
	size_t l = strlen(f->message);
	int r;

	if (!f->sink.touched) {
		snprintf(f->message + l, sizeof(f->message) - l, "; nothing was written to %s",
			 f->o->dst);
		return;
	}
	r = sink_fail_closed(&f->sink);
	if (r < 0)
		snprintf(f->message + l, sizeof(f->message) - l,
			 "; zeroing the first and last MiB of %s failed too (%s): it holds a partial "
			 "image, do not boot from it",
			 f->o->dst, strerror(-r));
	else
		snprintf(f->message + l, sizeof(f->message) - l,
			 "; the first and last MiB of %s were zeroed so that nothing boots a partial "
			 "or unverified image",
			 f->o->dst);
}

int flash_run(const struct flash_options *o, struct progress *p, const volatile int *interrupted,
	      struct flash_result *res)
{
	struct flash f = {
		.o = o,
		.p = p,
		.interrupted = interrupted,
		.total_in = UINT64_MAX,
		.src_fd = -EBADF,
	};
	pthread_t threads[4];
	void *(*fns[4])(void *) = { reader_thread, decompress_thread, hash_thread, writer_thread };
	unsigned n_threads = 0;
	sigset_t pipe_only, old_mask;
	char why[1024] = "";
	int r;

	*res = (struct flash_result){ 0 };
	pthread_mutex_init(&f.err_lock, NULL);
	url_redact(o->src, f.src_display, sizeof(f.src_display));
	if (!url_is_http(o->src))
		snprintf(f.src_display, sizeof(f.src_display), "%s",
			 strcmp(o->src, "-") == 0 ? "standard input" : o->src);

	r = flow_init(&f.flow);
	if (r < 0)
		return r;
	r = sink_prepare(&f.sink, o->dst, why, sizeof(why));
	if (r < 0) {
		flash_fail(&f, r, r == -ENOMEM ? FLASH_EXIT_INTERNAL : FLASH_EXIT_TARGET,
			   "refusing to write to %s: %s", o->dst, why);
		goto out;
	}
	f.sink.on_touch = o->on_touch;
	f.sink.on_touch_userdata = o->on_touch_userdata;
	progress_start(p, f.src_display, o->dst);
	f.hashing_image = o->have_image_sha256 || o->verify;
	if (chunk_pool_init(&f.comp_pool, &f.flow, FLASH_COMP_CHUNKS, FLASH_COMP_CHUNK) < 0 ||
	    chunk_pool_init(&f.img_pool, &f.flow, FLASH_IMG_CHUNKS, FLASH_IMG_CHUNK) < 0 ||
	    (o->have_sha256 && digest_new_sha256(&f.pub_digest) < 0) ||
	    (o->have_minisig && digest_new_blake2b512(&f.blake_digest) < 0) ||
	    (f.hashing_image && digest_new_sha256(&f.img_digest) < 0)) {
		flash_fail(&f, -ENOMEM, FLASH_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	chunk_queue_init(&f.q_comp, &f.flow);
	chunk_queue_init(&f.q_img, &f.flow);
	chunk_queue_init(&f.q_write, &f.flow);

	/* the stage threads inherit this mask: SIGPIPE from a socket write is theirs to ignore,
	 * while one on the main thread (a closed stdout or stderr) interrupts the run */
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
	for (unsigned i = 0; i < 4; i++) {
		if (fns[i] == hash_thread && !f.hashing_image)
			continue;
		if (pthread_create(&threads[n_threads], NULL, fns[i], &f) != 0) {
			flash_fail(&f, -EAGAIN, FLASH_EXIT_INTERNAL, "cannot start a thread");
			break;
		}
		n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	while (atomic_load(&f.finished) < n_threads) {
		sleep_ms(50, NULL);
		if (interrupted && *interrupted && !flash_failed(&f))
			flash_fail(&f, -EINTR, FLASH_EXIT_SIGNAL_BASE + *interrupted,
				   "interrupted by %s", signal_name(*interrupted));
		if (f.started)
			progress_update(p, atomic_load(&f.in), atomic_load(&f.out),
					atomic_load(&f.total_in), false);
	}
	for (unsigned i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	if (f.started && !flash_failed(&f))
		progress_update(p, atomic_load(&f.in), atomic_load(&f.out), atomic_load(&f.total_in),
				true);
	chunk_queue_drain(&f.q_comp);
	chunk_queue_drain(&f.q_img);
	chunk_queue_drain(&f.q_write);

	if (!flash_failed(&f))
		(void)commit(&f);
out:
	if (flash_failed(&f))
		fail_closed(&f);
	res->exit_code = f.exit_code;
	res->error = f.error;
	snprintf(res->message, sizeof(res->message), "%s", f.message);
	res->in = atomic_load(&f.in);
	res->out = atomic_load(&f.out);
	res->written = f.sink.written;
	res->touched = f.sink.touched;
	res->zeroed = f.sink.zeroed;
	snprintf(res->format, sizeof(res->format), "%s%s%s",
		 f.started ? compression_name(f.format) : "unknown",
		 f.ct && f.ckind != CONTAINER_RAW ? "+" : "",
		 f.ct && f.ckind != CONTAINER_RAW ? container_name(f.ckind) : "");
	container_free(f.ct);
	disk_digest_done(&f.dd);
	safe_close(f.src_fd);

	sink_close(&f.sink);
	chunk_pool_destroy(&f.comp_pool);
	chunk_pool_destroy(&f.img_pool);
	digest_free(f.pub_digest);
	digest_free(f.blake_digest);
	digest_free(f.img_digest);
	flow_destroy(&f.flow);
	pthread_mutex_destroy(&f.err_lock);
	return f.error;
}
