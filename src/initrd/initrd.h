/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The contents of a flasher initramfs: a list of entries (files from the host, data made here,
 * directories, symlinks, device nodes), emitted as one cpio archive sorted by path so that the
 * same inputs give the same bytes, with every parent directory before its contents. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum initrd_kind {
	INITRD_KIND_BINARY,
	INITRD_KIND_LIBRARY,
	INITRD_KIND_MODULE,
	INITRD_KIND_FIRMWARE,
	INITRD_KIND_JOB,
	INITRD_KIND_OTHER,
	_INITRD_KIND_MAX,
};

const char *initrd_kind_name(enum initrd_kind k);

struct initrd_entry {
	char *path;   /* without leading '/' */
	uint32_t mode; /* S_IF* | permissions */
	enum initrd_kind kind;
	char *source; /* host file to copy, for regular files */
	uint8_t *data; /* or data made here */
	size_t len;
	char *target; /* symlinks */
	unsigned major, minor;
};

struct initrd {
	struct initrd_entry *entries;
	size_t n, cap;
	/* for library lookups: the ELF machine and class of the first program added */
	uint16_t machine;
	uint8_t elf_class;
};

void initrd_init(struct initrd *rd);
void initrd_done(struct initrd *rd);

/* Each returns 0, -EEXIST when the path is already there with other content (the first entry
 * stays; adding the same host file twice is not an error), -EINVAL for a bad path, -ENOMEM. */
int initrd_add_dir(struct initrd *rd, const char *path, uint32_t perm);
int initrd_add_file(struct initrd *rd, const char *path, uint32_t perm, const char *source,
		    enum initrd_kind kind);
int initrd_add_data(struct initrd *rd, const char *path, uint32_t perm, const void *data,
		    size_t len, enum initrd_kind kind);
int initrd_add_symlink(struct initrd *rd, const char *path, const char *target);
int initrd_add_node(struct initrd *rd, const char *path, uint32_t mode, unsigned major,
		    unsigned minor);

/* Add an ELF program (or library) and everything it needs: the interpreter at the path the
 * program asks for, and DT_NEEDED libraries found like the dynamic loader finds them (RPATH,
 * RUNPATH with $ORIGIN, /etc/ld.so.conf, the multiarch system directories), recursively.
 * Non-ELF files (scripts) are added as they are. 0, or -ENOENT with the missing library named
 * in err, -EBADMSG for a corrupt ELF file. */
int initrd_add_program(struct initrd *rd, const char *source, const char *dest,
		       enum initrd_kind kind, char *err, size_t errlen);

/* Emit everything as a cpio archive (parents created as 0755 directories). sizes (optional)
 * receives the bytes of file data per kind. 0, or -errno with the file named in err. */
int initrd_build_cpio(struct initrd *rd, uint32_t mtime, uint8_t **ret_buf, size_t *ret_len,
		      uint64_t sizes[_INITRD_KIND_MAX], char *err, size_t errlen);

/* The size of the archive initrd_build_cpio() would make, without reading the files. */
uint64_t initrd_estimate_size(const struct initrd *rd);

/* Read a whole host file (at most max bytes). 0 or -errno (-EFBIG when larger). */
int read_full_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
