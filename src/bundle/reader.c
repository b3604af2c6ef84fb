// SPDX-License-Identifier: GPL-2.0-or-later
/* One verified pass over a bundle file (see reader.h). */
#include "bundle/reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/file-util.h"
#include "basic/macro.h"

#define CHUNK (1U << 20)

static int pread_full(int fd, uint8_t *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, buf + done, n - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			return -EIO;
		done += (size_t)k;
	}
	return 0;
}

void bundle_contents_done(struct bundle_contents *c)
{
	free(c->info);
	free(c->cmdline);
	c->info = c->cmdline = NULL;
}

int bundle_read(int fd, const struct bundle_hash *h, int kernel_fd, int initrd_fd,
		struct bundle_contents *ret, char *why, size_t whylen)
{
	struct bundle_contents c = { 0 };
	uint8_t tail[BUNDLE_TRAILER_SIZE], digest[32];
	_cleanup_free_ uint8_t *buf = NULL;
	char *text[_BUNDLE_SECTION_MAX] = { NULL };
	const int fds[_BUNDLE_SECTION_MAX] = { kernel_fd, initrd_fd, -1, -1, -1 };
	uint64_t size, pos, hashed_end;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = negative_errno();
		snprintf(why, whylen, "cannot read it: %s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return -ENOMSG;
	}
	size = (uint64_t)st.st_size;
	if (size < BUNDLE_TRAILER_SIZE) {
		snprintf(why, whylen, "not a reimage bundle: %llu bytes, too short to hold one",
			 (unsigned long long)size);
		return -ENOMSG;
	}
	r = pread_full(fd, tail, sizeof(tail), size - BUNDLE_TRAILER_SIZE);
	if (r < 0) {
		snprintf(why, whylen, "cannot read it: %s", strerror(-r));
		return r;
	}
	r = bundle_trailer_parse(tail, sizeof(tail), size, &c.trailer);
	switch (r) {
	case 0: break;
	case -ENOMSG:
		snprintf(why, whylen,
			 "no bundle trailer at the end of the file: it is not a reimage bundle, or it "
			 "was cut short (copy it again)");
		return r;
	case -EPROTONOSUPPORT:
		snprintf(why, whylen, "a bundle of another format version (this loader reads "
				      "version %d); build it again with this reimage",
			 BUNDLE_VERSION);
		return r;
	case -EIO:
		snprintf(why, whylen, "the file is shorter than its trailer records: it was cut "
				      "short or damaged (copy it again)");
		return r;
	default:
		snprintf(why, whylen, "the bundle trailer is damaged (impossible sizes or offsets): "
				      "the file is corrupted (copy it again)");
		return -EBADMSG;
	}

	buf = malloc(CHUNK);
	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (int s = BUNDLE_META; s < _BUNDLE_SECTION_MAX; s++) {
		text[s] = calloc(1, c.trailer.length[s] + 1);
		if (!text[s]) {
			snprintf(why, whylen, "out of memory");
			r = -ENOMEM;
			goto fail;
		}
	}

	/* Everything before the trailer comes from the file; the trailer's own bytes come from
	 * the copy just parsed, so the digest covers the very fields that were checked. */
	hashed_end = size - BUNDLE_TRAILER_SIZE;
	for (pos = 0; pos < hashed_end;) {
		size_t n = (size_t)MIN((uint64_t)CHUNK, hashed_end - pos);

		r = pread_full(fd, buf, n, pos);
		if (r < 0) {
			snprintf(why, whylen, "reading it failed at byte %llu: %s",
				 (unsigned long long)pos, r == -EIO ? "the file got shorter" : strerror(-r));
			goto fail;
		}
		h->update(h->ctx, buf, n);
		for (int s = 0; s < _BUNDLE_SECTION_MAX; s++) {
			uint64_t a = MAX(pos, c.trailer.offset[s]);
			uint64_t b = MIN(pos + n, c.trailer.offset[s] + c.trailer.length[s]);

			if (a >= b)
				continue;
			if (text[s])
				memcpy(text[s] + (a - c.trailer.offset[s]), buf + (a - pos), b - a);
			else if (fds[s] >= 0) {
				r = write_all(fds[s], buf + (a - pos), b - a);
				if (r < 0) {
					snprintf(why, whylen, "cannot copy the %s into memory: %s",
						 bundle_section_name(s), strerror(-r));
					goto fail;
				}
			}
		}
		pos += n;
	}
	h->update(h->ctx, tail, BUNDLE_DIGEST_OFFSET);
	h->final(h->ctx, digest);
	if (memcmp(digest, c.trailer.sha256, 32) != 0) {
		snprintf(why, whylen,
			 "the SHA-256 of its contents does not match the one recorded when it was "
			 "built: the file is corrupted (copy it again)");
		r = -EBADMSG;
		goto fail;
	}
	/* text sections are plain text: a NUL inside would cut them short silently */
	for (int s = BUNDLE_META; s < _BUNDLE_SECTION_MAX; s++)
		if (strlen(text[s]) != c.trailer.length[s]) {
			snprintf(why, whylen, "its %s section holds a NUL byte", bundle_section_name(s));
			r = -EBADMSG;
			goto fail;
		}
	r = bundle_meta_parse(text[BUNDLE_META], c.trailer.length[BUNDLE_META], &c.meta);
	if (r < 0) {
		snprintf(why, whylen, "its meta section is malformed (a bundle from another reimage?)");
		goto fail;
	}
	if (strpbrk(text[BUNDLE_CMDLINE], "\n\r")) {
		snprintf(why, whylen, "its command line holds a line break");
		r = -EBADMSG;
		goto fail;
	}
	free(text[BUNDLE_META]);
	c.info = text[BUNDLE_INFO];
	c.cmdline = text[BUNDLE_CMDLINE];
	*ret = c;
	return 0;
fail:
	for (int s = 0; s < _BUNDLE_SECTION_MAX; s++)
		free(text[s]);
	return r;
}
