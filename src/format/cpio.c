// SPDX-License-Identifier: GPL-2.0-or-later
/* Writer and reader of newc cpio archives in memory, for the initramfs. */
#include "format/cpio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/macro.h"

#define CPIO_FIELDS 13
#define PERM_MASK 07777U
/* The kernel packs major:minor into a 32-bit dev_t as 12:20 bits (MKDEV). */
#define DEV_MAJOR_MAX 0xfffU
#define DEV_MINOR_MAX 0xfffffU

/* Field positions in the header, after the 6-byte magic. */
enum {
	F_INO,
	F_MODE,
	F_UID,
	F_GID,
	F_NLINK,
	F_MTIME,
	F_FILESIZE,
	F_DEVMAJOR,
	F_DEVMINOR,
	F_RDEVMAJOR,
	F_RDEVMINOR,
	F_NAMESIZE,
	F_CHKSUM,
};

struct cpio_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint32_t mtime;
	uint32_t next_ino;
	bool finished;
};

static uint64_t align4(uint64_t n)
{
	return (n + 3) & ~(uint64_t)3;
}

int cpio_writer_new(uint32_t mtime, struct cpio_writer **ret)
{
	struct cpio_writer *w;

	if (!ret)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->mtime = mtime;
	w->next_ino = 1;
	*ret = w;
	return 0;
}

void cpio_writer_free(struct cpio_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

/* Make room for n more bytes, keeping the archive within CPIO_WRITER_MAX_SIZE. */
static int reserve(struct cpio_writer *w, uint64_t n)
{
	uint64_t need = (uint64_t)w->len + n, cap;
	uint8_t *b;

	if (n > CPIO_WRITER_MAX_SIZE || need > CPIO_WRITER_MAX_SIZE)
		return -EFBIG;
	if (need <= w->cap)
		return 0;
	cap = MAX((uint64_t)w->cap * 2, (uint64_t)64 << 10);
	cap = MIN(cap, (uint64_t)CPIO_WRITER_MAX_SIZE);
	cap = MAX(cap, need);
	if (cap > SIZE_MAX)
		return -EFBIG;
	b = realloc(w->buf, (size_t)cap);
	if (!b)
		return -ENOMEM;
	w->buf = b;
	w->cap = (size_t)cap;
	return 0;
}

/* The name as it goes into the archive: relative, canonical, no ".." to climb out of the root,
 * and never the end marker. */
static int path_to_name(const char *path, const char **ret)
{
	const char *p;
	size_t n;

	if (!path)
		return -EINVAL;
	if (path[0] == '/')
		path++;
	n = strlen(path);
	if (n == 0 || n >= CPIO_NAME_MAX || strcmp(path, CPIO_TRAILER) == 0)
		return -EINVAL;
	if (strcmp(path, ".") == 0) {
		*ret = path;
		return 0;
	}
	for (p = path;;) {
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);

		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (!*e)
			break;
		p = e + 1;
	}
	*ret = path;
	return 0;
}

static void put_hex8(uint8_t *p, uint32_t v)
{
	static const char digits[] = "0123456789ABCDEF";

	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)digits[v & 0xf];
		v >>= 4;
	}
}

/* Append one entry; name has been checked. Nothing changes unless it all fits. */
static int append_entry(struct cpio_writer *w, const char *name, uint32_t ino, uint32_t mode,
			uint32_t nlink, uint32_t mtime, uint32_t rmajor, uint32_t rminor,
			const void *data, size_t size)
{
	uint32_t f[CPIO_FIELDS] = { 0 };
	size_t namesize = strlen(name) + 1;
	uint64_t head = align4(CPIO_HEADER_SIZE + (uint64_t)namesize), body;
	uint8_t *p;
	int r;

	if ((uint64_t)size > UINT32_MAX)
		return -EFBIG;
	body = align4(size);
	r = reserve(w, head + body);
	if (r < 0)
		return r;

	f[F_INO] = ino;
	f[F_MODE] = mode;
	f[F_NLINK] = nlink;
	f[F_MTIME] = mtime;
	f[F_FILESIZE] = (uint32_t)size;
	f[F_RDEVMAJOR] = rmajor;
	f[F_RDEVMINOR] = rminor;
	f[F_NAMESIZE] = (uint32_t)namesize;

	p = w->buf + w->len;
	memcpy(p, "070701", 6);
	for (size_t i = 0; i < CPIO_FIELDS; i++)
		put_hex8(p + 6 + 8 * i, f[i]);
	memcpy(p + CPIO_HEADER_SIZE, name, namesize);
	memset(p + CPIO_HEADER_SIZE + namesize, 0, (size_t)head - CPIO_HEADER_SIZE - namesize);
	p += head;
	if (size > 0)
		memcpy(p, data, size);
	memset(p + size, 0, (size_t)body - size);
	w->len += (size_t)(head + body);
	return 0;
}

static int add(struct cpio_writer *w, const char *path, uint32_t mode, uint32_t nlink,
	       uint32_t rmajor, uint32_t rminor, const void *data, size_t size)
{
	const char *name;
	int r;

	if (!w || w->finished)
		return -EINVAL;
	r = path_to_name(path, &name);
	if (r < 0)
		return r;
	r = append_entry(w, name, w->next_ino, mode, nlink, w->mtime, rmajor, rminor, data, size);
	if (r < 0)
		return r;
	w->next_ino++;
	return 0;
}

int cpio_writer_add_dir(struct cpio_writer *w, const char *path, uint32_t perm)
{
	if (perm & ~PERM_MASK)
		return -EINVAL;
	return add(w, path, S_IFDIR | perm, 2, 0, 0, NULL, 0);
}

int cpio_writer_add_file(struct cpio_writer *w, const char *path, uint32_t perm,
			 const void *data, size_t len)
{
	if ((perm & ~PERM_MASK) || (!data && len > 0))
		return -EINVAL;
	return add(w, path, S_IFREG | perm, 1, 0, 0, data, len);
}

int cpio_writer_add_symlink(struct cpio_writer *w, const char *path, const char *target)
{
	size_t n;

	if (!target)
		return -EINVAL;
	n = strlen(target);
	if (n == 0 || n >= CPIO_NAME_MAX)
		return -EINVAL;
	return add(w, path, S_IFLNK | 0777, 1, 0, 0, target, n);
}

int cpio_writer_add_node(struct cpio_writer *w, const char *path, uint32_t mode, unsigned major,
			 unsigned minor)
{
	uint32_t type = mode & S_IFMT;

	if (mode & ~(S_IFMT | PERM_MASK))
		return -EINVAL;
	if (type == S_IFCHR || type == S_IFBLK) {
		if (major > DEV_MAJOR_MAX || minor > DEV_MINOR_MAX)
			return -EINVAL;
	} else if (type == S_IFIFO || type == S_IFSOCK) {
		if (major != 0 || minor != 0)
			return -EINVAL;
	} else
		return -EINVAL;
	return add(w, path, mode, 1, major, minor, NULL, 0);
}

int cpio_writer_finish(struct cpio_writer *w, uint8_t **ret_buf, size_t *ret_len)
{
	int r;

	if (!w || w->finished || !ret_buf || !ret_len)
		return -EINVAL;
	/* as gen_init_cpio and GNU cpio write it: all zero but nlink and namesize */
	r = append_entry(w, CPIO_TRAILER, 0, 0, 1, 0, 0, 0, NULL, 0);
	if (r < 0)
		return r;
	w->finished = true;
	*ret_len = w->len;
	*ret_buf = TAKE_PTR(w->buf);
	w->len = w->cap = 0;
	return 0;
}

static int parse_hex8(const uint8_t *p, uint32_t *ret)
{
	uint32_t v = 0;

	for (size_t i = 0; i < 8; i++) {
		uint8_t c = p[i], d;

		if (c >= '0' && c <= '9')
			d = (uint8_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint8_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint8_t)(c - 'A' + 10);
		else
			return -EBADMSG;
		v = (v << 4) | d;
	}
	*ret = v;
	return 0;
}

int cpio_reader_next(const uint8_t *buf, size_t len, size_t *offset, struct cpio_entry *ret)
{
	uint32_t f[CPIO_FIELDS];
	const uint8_t *p, *name;
	size_t off, avail, head, end, next;
	uint32_t namesize;

	if (!offset || !ret || (!buf && len > 0))
		return -EINVAL;
	off = *offset;
	if (off > len)
		return -EINVAL;
	if (off == len)
		return -ENODATA;
	/* the kernel counts padding from the start of the whole buffer, so entries start aligned */
	if (off % 4 != 0)
		return -EBADMSG;

	avail = len - off;
	p = buf + off;
	if (avail < CPIO_HEADER_SIZE)
		return -EBADMSG;
	if (memcmp(p, "07070", 5) != 0 || (p[5] != '1' && p[5] != '2'))
		return -EBADMSG;
	for (size_t i = 0; i < CPIO_FIELDS; i++)
		if (parse_hex8(p + 6 + 8 * i, &f[i]) < 0)
			return -EBADMSG;

	namesize = f[F_NAMESIZE];
	if (namesize == 0 || namesize > CPIO_NAME_MAX)
		return -EBADMSG;
	if (avail - CPIO_HEADER_SIZE < namesize)
		return -EBADMSG;
	name = p + CPIO_HEADER_SIZE;
	if (name[namesize - 1] != 0 || memchr(name, 0, namesize - 1))
		return -EBADMSG;

	/* head <= 110 + 4096 + 3, so nothing below overflows; end <= avail throughout */
	head = (size_t)align4(CPIO_HEADER_SIZE + (uint64_t)namesize);
	if (f[F_FILESIZE] > 0) {
		if (head > avail || avail - head < f[F_FILESIZE])
			return -EBADMSG;
		end = head + f[F_FILESIZE];
	} else
		end = MIN(head, avail);
	next = end + MIN((size_t)(align4(end) - end), avail - end);

	memcpy(ret->name, name, namesize);
	ret->ino = f[F_INO];
	ret->mode = f[F_MODE];
	ret->uid = f[F_UID];
	ret->gid = f[F_GID];
	ret->nlink = f[F_NLINK];
	ret->mtime = f[F_MTIME];
	ret->devmajor = f[F_DEVMAJOR];
	ret->devminor = f[F_DEVMINOR];
	ret->rdevmajor = f[F_RDEVMAJOR];
	ret->rdevminor = f[F_RDEVMINOR];
	/* never NULL, so that callers may hand it to memcpy() even when size is 0 */
	ret->data = p + MIN(head, avail);
	ret->size = f[F_FILESIZE];
	*offset = off + next;

	if (namesize == sizeof(CPIO_TRAILER) && memcmp(name, CPIO_TRAILER, namesize) == 0)
		return 0;
	return 1;
}

bool cpio_reader_skip_padding(const uint8_t *buf, size_t len, size_t *offset)
{
	size_t o;

	if (!offset || !buf || *offset >= len)
		return false;
	o = *offset;
	while (o < len && buf[o] == 0)
		o++;
	*offset = o;
	return o < len;
}
