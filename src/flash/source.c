// SPDX-License-Identifier: GPL-2.0-or-later
/* Source dispatch, and the file/stdin source. */
#include "flash/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "format/url.h"

#define FD_READ_SIZE (1U << 20)

static int source_fd_run(const struct source_config *c, const struct source_callbacks *cb,
			 char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ uint8_t *buf = NULL;
	bool is_stdin = strcmp(c->location, "-") == 0;
	struct stat st;

	if (is_stdin)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(c->location, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = negative_errno();
		snprintf(errbuf, errlen, "cannot open %s: %s", is_stdin ? "standard input" : c->location,
			 strerror(-r));
		return r == -ENOENT ? -ENOENT : r == -EACCES ? -EACCES : -EIO;
	}
	if (fstat(fd, &st) < 0)
		return -EIO;
	if (S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "%s is a directory, not an image", c->location);
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode)) {
		if (cb->size_known)
			cb->size_known(cb->userdata, (uint64_t)st.st_size);
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	buf = malloc(FD_READ_SIZE);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		bool waited;
		int r;

		if (cb->should_stop && cb->should_stop(cb->userdata))
			return -ECANCELED;
		n = read(fd, buf, FD_READ_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = negative_errno();
			snprintf(errbuf, errlen, "reading %s failed: %s",
				 is_stdin ? "standard input" : c->location, strerror(-r));
			return -EIO;
		}
		if (n == 0)
			return 0;
		r = cb->deliver(cb->userdata, buf, (size_t)n, &waited);
		if (r < 0)
			return r;
	}
}

int source_run(const struct source_config *c, const struct source_callbacks *cb, char *errbuf,
	       size_t errlen)
{
	if (errlen)
		errbuf[0] = 0;
	if (url_is_http(c->location))
		return source_http_run(c, cb, errbuf, errlen);
	if (strstr(c->location, "://")) {
		snprintf(errbuf, errlen, "unsupported URL scheme (use http://, https://, a path, or -)");
		return -EPROTONOSUPPORT;
	}
	return source_fd_run(c, cb, errbuf, errlen);
}

struct membuf {
	char *buf;
	size_t len, cap;
};

static int membuf_deliver(void *userdata, const uint8_t *data, size_t n, bool *ret_waited)
{
	struct membuf *m = userdata;
	char *nb;

	*ret_waited = false;
	if (n > m->cap - m->len)
		return -EFBIG;
	nb = realloc(m->buf, m->len + n + 1);
	if (!nb)
		return -ENOMEM;
	m->buf = nb;
	memcpy(m->buf + m->len, data, n);
	m->len += n;
	m->buf[m->len] = 0;
	return 0;
}

int source_read_all(const struct source_config *c, size_t cap, char **ret_buf, size_t *ret_len,
		    char *errbuf, size_t errlen)
{
	struct membuf m = { .cap = cap };
	struct source_callbacks cb = { .userdata = &m, .deliver = membuf_deliver };
	int r;

	r = source_run(c, &cb, errbuf, errlen);
	if (r == -EFBIG)
		snprintf(errbuf, errlen, "%s is larger than %zu bytes", c->location, cap);
	if (r >= 0 && !m.buf)
		m.buf = strdup("");
	if (r >= 0 && !m.buf)
		r = -ENOMEM;
	if (r < 0) {
		free(m.buf);
		return r;
	}
	*ret_buf = m.buf;
	*ret_len = m.len;
	return 0;
}

struct probe {
	uint8_t *head;
	size_t cap, len;
	uint64_t size;
};

static int probe_deliver(void *userdata, const uint8_t *data, size_t n, bool *ret_waited)
{
	struct probe *p = userdata;
	size_t take = MIN(n, p->cap - p->len);

	*ret_waited = false;
	memcpy(p->head + p->len, data, take);
	p->len += take;
	return p->len == p->cap ? -EALREADY : 0; /* enough: stop the transfer */
}

static void probe_size(void *userdata, uint64_t size)
{
	((struct probe *)userdata)->size = size;
}

int source_probe(const struct source_config *c, uint8_t *head, size_t head_cap, size_t *ret_len,
		 uint64_t *ret_size, char *errbuf, size_t errlen)
{
	struct probe p = { .head = head, .cap = head_cap, .size = UINT64_MAX };
	struct source_callbacks cb = { .userdata = &p, .deliver = probe_deliver,
				       .size_known = probe_size };
	int r = source_run(c, &cb, errbuf, errlen);

	if (r < 0 && r != -EALREADY)
		return r;
	*ret_len = p.len;
	*ret_size = p.size;
	return 0;
}

int source_read_range(const struct source_config *c, uint64_t off, uint8_t *buf, size_t len,
		      size_t *ret_len, char *errbuf, size_t errlen)
{
	struct source_config rc = *c;
	struct probe p = { .head = buf, .cap = len, .size = UINT64_MAX };
	struct source_callbacks cb = { .userdata = &p, .deliver = probe_deliver };
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (strcmp(c->location, "-") == 0)
		return -ESPIPE;
	if (len == 0) {
		*ret_len = 0;
		return 0;
	}
	if (!url_is_http(c->location)) {
		size_t got = 0;

		fd = open(c->location, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			r = negative_errno();
			snprintf(errbuf, errlen, "cannot open %s: %s", c->location, strerror(-r));
			return r;
		}
		while (got < len) {
			ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = negative_errno();
				snprintf(errbuf, errlen, "reading %s failed: %s", c->location,
					 strerror(-r));
				return r;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		*ret_len = got;
		return 0;
	}
	rc.range_start = off;
	rc.range_len = len;
	r = source_http_run(&rc, &cb, errbuf, errlen);
	if (r < 0 && r != -EALREADY)
		return r;
	*ret_len = p.len;
	return 0;
}
