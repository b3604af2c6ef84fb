// SPDX-License-Identifier: GPL-2.0-or-later
/* Building the initramfs file list and emitting it in the kernel's cpio format. */
#include "initrd/initrd.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/alloc-util.h"
#include "basic/macro.h"
#include "format/cpio.h"
#include "format/elf.h"

#define PROGRAM_MAX_SIZE (512U << 20)

const char *initrd_kind_name(enum initrd_kind k)
{
	static const char *const names[] = { "binary", "libraries", "modules", "firmware", "job",
					     "other" };
	return k < _INITRD_KIND_MAX ? names[k] : "?";
}

void initrd_init(struct initrd *rd)
{
	*rd = (struct initrd){ 0 };
}

static void entry_free(struct initrd_entry *e)
{
	free(e->path);
	free(e->source);
	if (e->data) {
		explicit_bzero(e->data, e->len); /* the job holds secrets */
		free(e->data);
	}
	free(e->target);
}

void initrd_done(struct initrd *rd)
{
	for (size_t i = 0; i < rd->n; i++)
		entry_free(&rd->entries[i]);
	free(rd->entries);
	*rd = (struct initrd){ 0 };
}

static const char *strip_slash(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

static struct initrd_entry *find(struct initrd *rd, const char *path)
{
	for (size_t i = 0; i < rd->n; i++)
		if (strcmp(rd->entries[i].path, path) == 0)
			return &rd->entries[i];
	return NULL;
}

static int add(struct initrd *rd, struct initrd_entry *e)
{
	struct initrd_entry *old;

	if (!e->path[0] || strstr(e->path, "..") || strstr(e->path, "//"))
		return -EINVAL;
	old = find(rd, e->path);
	if (old) {
		bool same = old->mode == e->mode &&
			    ((old->source && e->source && strcmp(old->source, e->source) == 0) ||
			     ((old->mode & S_IFMT) == S_IFDIR));
		entry_free(e);
		return same ? 0 : -EEXIST;
	}
	if (ARRAY_RESERVE(rd->entries, rd->cap, rd->n) < 0) {
		entry_free(e);
		return -ENOMEM;
	}
	rd->entries[rd->n++] = *e;
	return 0;
}

int initrd_add_dir(struct initrd *rd, const char *path, uint32_t perm)
{
	struct initrd_entry e = { .mode = S_IFDIR | perm, .kind = INITRD_KIND_OTHER };

	e.path = strdup(strip_slash(path));
	if (!e.path)
		return -ENOMEM;
	/* a trailing slash would make two entries for one directory */
	while (*e.path && e.path[strlen(e.path) - 1] == '/')
		e.path[strlen(e.path) - 1] = 0;
	return add(rd, &e);
}

int initrd_add_file(struct initrd *rd, const char *path, uint32_t perm, const char *source,
		    enum initrd_kind kind)
{
	struct initrd_entry e = { .mode = S_IFREG | perm, .kind = kind };

	e.path = strdup(strip_slash(path));
	e.source = strdup(source);
	if (!e.path || !e.source) {
		entry_free(&e);
		return -ENOMEM;
	}
	return add(rd, &e);
}

int initrd_add_data(struct initrd *rd, const char *path, uint32_t perm, const void *data,
		    size_t len, enum initrd_kind kind)
{
	struct initrd_entry e = { .mode = S_IFREG | perm, .kind = kind, .len = len };

	e.path = strdup(strip_slash(path));
	e.data = malloc(len ? len : 1);
	if (!e.path || !e.data) {
		entry_free(&e);
		return -ENOMEM;
	}
	memcpy(e.data, data, len);
	return add(rd, &e);
}

int initrd_add_symlink(struct initrd *rd, const char *path, const char *target)
{
	struct initrd_entry e = { .mode = S_IFLNK | 0777, .kind = INITRD_KIND_OTHER };

	e.path = strdup(strip_slash(path));
	e.target = strdup(target);
	if (!e.path || !e.target) {
		entry_free(&e);
		return -ENOMEM;
	}
	return add(rd, &e);
}

int initrd_add_node(struct initrd *rd, const char *path, uint32_t mode, unsigned major,
		    unsigned minor)
{
	struct initrd_entry e = { .mode = mode, .kind = INITRD_KIND_OTHER, .major = major,
				  .minor = minor };

	e.path = strdup(strip_slash(path));
	if (!e.path)
		return -ENOMEM;
	return add(rd, &e);
}

int read_full_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	size_t got = 0, cap;

	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	/* files in /proc and /sys report size 0: read until the end whatever the size says */
	cap = (size_t)st.st_size + 4096;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (got + 1 >= cap) {
			uint8_t *nb;
			if (cap > max)
				return -EFBIG;
			nb = realloc(buf, cap * 2);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + got, cap - got - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max)
		return -EFBIG;
	buf[got] = 0;
	*ret = TAKE_PTR(buf);
	*ret_len = got;
	return 0;
}

/* ---- libraries ---- */

struct search_path {
	char dirs[64][PATH_MAX];
	size_t n;
};

static void search_add(struct search_path *sp, const char *dir, size_t len)
{
	if (len == 0 || len >= PATH_MAX || sp->n >= ELEMENTSOF(sp->dirs))
		return;
	for (size_t i = 0; i < sp->n; i++)
		if (strncmp(sp->dirs[i], dir, len) == 0 && sp->dirs[i][len] == 0)
			return;
	memcpy(sp->dirs[sp->n], dir, len);
	sp->dirs[sp->n][len] = 0;
	sp->n++;
}

/* "a:b:c" with $ORIGIN replaced by the directory of the object */
static void search_add_list(struct search_path *sp, const char *list, const char *origin)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ":");
		char dir[PATH_MAX];

		if (n >= 7 && strncmp(p, "$ORIGIN", 7) == 0)
			snprintf(dir, sizeof(dir), "%s%.*s", origin, (int)(n - 7), p + 7);
		else if (n >= 9 && strncmp(p, "${ORIGIN}", 9) == 0)
			snprintf(dir, sizeof(dir), "%s%.*s", origin, (int)(n - 9), p + 9);
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)n, p);
		search_add(sp, dir, strlen(dir));
		p += n;
		if (*p == ':')
			p++;
	}
}

static void ld_so_conf(struct search_path *sp, const char *path, int depth)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[PATH_MAX];

	if (!f || depth > 4)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");
		s[strcspn(s, "#\r\n")] = 0;
		for (size_t l = strlen(s); l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'); l--)
			s[l - 1] = 0;
		if (!*s)
			continue;
		if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
			glob_t g;
			char *pat = s + 8 + strspn(s + 8, " \t");
			if (glob(pat, 0, NULL, &g) == 0) {
				for (size_t i = 0; i < g.gl_pathc; i++)
					ld_so_conf(sp, g.gl_pathv[i], depth + 1);
				globfree(&g);
			}
		} else if (*s == '/')
			search_add(sp, s, strlen(s));
	}
}

static bool compatible(struct initrd *rd, const char *path)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ struct elf_info *info = malloc(sizeof(*info));
	size_t len;

	if (!info || read_full_file(path, PROGRAM_MAX_SIZE, &buf, &len) < 0)
		return false;
	if (elf_parse(buf, len, info) < 0)
		return false;
	return info->machine == rd->machine && info->elf_class == rd->elf_class;
}

static int find_library(struct initrd *rd, const char *name, const struct elf_info *info,
			const char *origin, char *dir_out, size_t dirlen)
{
	_cleanup_free_ struct search_path *sp = calloc(1, sizeof(*sp));
	static const char *const defaults[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
						"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
						"/lib64", "/usr/lib64", "/lib", "/usr/lib" };

	if (!sp)
		return -ENOMEM;
	/* DT_RPATH applies only when there is no DT_RUNPATH (ld.so(8)) */
	if (info->rpath[0] && !info->runpath[0])
		search_add_list(sp, info->rpath, origin);
	if (info->runpath[0])
		search_add_list(sp, info->runpath, origin);
	ld_so_conf(sp, "/etc/ld.so.conf", 0);
	for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
		search_add(sp, defaults[i], strlen(defaults[i]));
	for (size_t i = 0; i < sp->n; i++) {
		char p[PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s", sp->dirs[i], name);
		if (access(p, R_OK) == 0 && compatible(rd, p)) {
			snprintf(dir_out, dirlen, "%s", sp->dirs[i]);
			return 0;
		}
	}
	return -ENOENT;
}

int initrd_add_program(struct initrd *rd, const char *source, const char *dest,
		       enum initrd_kind kind, char *err, size_t errlen)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ struct elf_info *info = malloc(sizeof(*info));
	_cleanup_free_ char *src_copy = strdup(source);
	char real[PATH_MAX];
	size_t len;
	int r;

	if (!info || !src_copy)
		return -ENOMEM;
	if (!realpath(source, real)) {
		r = negative_errno();
		snprintf(err, errlen, "cannot find %s: %s", source, strerror(-r));
		return r;
	}
	if (find(rd, strip_slash(dest)))
		return 0; /* already there, with its libraries */
	/* the same file under another name (the dynamic loader is both PT_INTERP and a
	 * DT_NEEDED of libc): a symlink instead of a second copy */
	for (size_t i = 0; i < rd->n; i++)
		if (rd->entries[i].source && strcmp(rd->entries[i].source, real) == 0) {
			char target[PATH_MAX + 1];
			snprintf(target, sizeof(target), "/%s", rd->entries[i].path);
			return initrd_add_symlink(rd, dest, target);
		}
	r = read_full_file(real, PROGRAM_MAX_SIZE, &buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "cannot read %s: %s", source, strerror(-r));
		return r;
	}
	r = elf_parse(buf, len, info);
	if (r == -ENOEXEC) /* a script or data: as it is */
		return initrd_add_file(rd, dest, 0755, real, kind);
	if (r < 0) {
		snprintf(err, errlen, "%s is a damaged ELF file", source);
		return r;
	}
	if (rd->machine == 0) {
		rd->machine = info->machine;
		rd->elf_class = info->elf_class;
	}
	r = initrd_add_file(rd, dest, 0755, real, kind);
	if (r < 0)
		return r;
	if (info->interp[0]) {
		r = initrd_add_program(rd, info->interp, info->interp, INITRD_KIND_LIBRARY, err,
				       errlen);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < info->n_needed; i++) {
		char dir[PATH_MAX], lib[PATH_MAX * 2];
		const char *name = info->needed[i];

		if (strchr(name, '/')) { /* a path, taken as it is */
			snprintf(lib, sizeof(lib), "%s", name);
		} else {
			r = find_library(rd, name, info, dirname(src_copy), dir, sizeof(dir));
			if (r < 0) {
				snprintf(err, errlen, "%s needs %s, which is not installed here", source,
					 name);
				return r;
			}
			snprintf(lib, sizeof(lib), "%s/%s", dir, name);
		}
		r = initrd_add_program(rd, lib, lib, INITRD_KIND_LIBRARY, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- emitting ---- */

uint64_t initrd_estimate_size(const struct initrd *rd)
{
	uint64_t total = 0;

	for (size_t i = 0; i < rd->n; i++) {
		const struct initrd_entry *e = &rd->entries[i];
		struct stat st;

		total += 110 + strlen(e->path) + 8; /* header, name, padding */
		if (e->source && stat(e->source, &st) == 0)
			total += (uint64_t)st.st_size + 3;
		else
			total += e->len + (e->target ? strlen(e->target) : 0) + 3;
	}
	return total;
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct initrd_entry *)a)->path, ((const struct initrd_entry *)b)->path);
}

static int add_parents(struct initrd *rd)
{
	size_t n = rd->n;

	for (size_t i = 0; i < n; i++) {
		char p[PATH_MAX];
		char *slash;

		snprintf(p, sizeof(p), "%s", rd->entries[i].path);
		while ((slash = strrchr(p, '/'))) {
			int r;
			*slash = 0;
			r = initrd_add_dir(rd, p, 0755);
			if (r < 0 && r != -EEXIST)
				return r;
		}
	}
	return 0;
}

int initrd_build_cpio(struct initrd *rd, uint32_t mtime, uint8_t **ret_buf, size_t *ret_len,
		      uint64_t sizes[_INITRD_KIND_MAX], char *err, size_t errlen)
{
	struct cpio_writer *w = NULL;
	int r;

	r = add_parents(rd);
	if (r < 0)
		return r;
	qsort(rd->entries, rd->n, sizeof(rd->entries[0]), cmp_entries);
	if (sizes)
		memset(sizes, 0, sizeof(uint64_t) * _INITRD_KIND_MAX);
	r = cpio_writer_new(mtime, &w);
	if (r < 0)
		return r;
	for (size_t i = 0; i < rd->n && r >= 0; i++) {
		struct initrd_entry *e = &rd->entries[i];

		switch (e->mode & S_IFMT) {
		case S_IFDIR:
			r = cpio_writer_add_dir(w, e->path, e->mode & 07777);
			break;
		case S_IFLNK:
			r = cpio_writer_add_symlink(w, e->path, e->target);
			break;
		case S_IFREG:
			if (e->source) {
				_cleanup_free_ uint8_t *buf = NULL;
				size_t len;
				r = read_full_file(e->source, PROGRAM_MAX_SIZE, &buf, &len);
				if (r < 0) {
					snprintf(err, errlen, "cannot read %s: %s", e->source,
						 strerror(-r));
					break;
				}
				r = cpio_writer_add_file(w, e->path, e->mode & 07777, buf, len);
				if (sizes)
					sizes[e->kind] += len;
			} else {
				r = cpio_writer_add_file(w, e->path, e->mode & 07777, e->data, e->len);
				if (sizes)
					sizes[e->kind] += e->len;
			}
			break;
		default:
			r = cpio_writer_add_node(w, e->path, e->mode, e->major, e->minor);
			break;
		}
		if (r < 0 && !err[0])
			snprintf(err, errlen, "cannot add %s to the archive: %s", e->path, strerror(-r));
	}
	if (r >= 0)
		r = cpio_writer_finish(w, ret_buf, ret_len);
	cpio_writer_free(w);
	return r;
}
