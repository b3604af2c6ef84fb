/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Assembling the flasher initramfs in memory: /init (this binary), its libraries, the CA
 * bundle, kernel modules and firmware, extra files, and the job in a separate 0600 archive
 * appended after the main one. Shared by `reimage initrd` and `reimage go`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "initrd/compress.h"
#include "initrd/initrd.h"
#include "initrd/modules.h"

/* A file (or, with data NULL, a directory) for the 0600 job archive: secrets never go into the
 * main archive. */
struct flasher_secret {
	const char *path; /* without leading '/' */
	uint32_t mode;
	const void *data;
	size_t len;
};

struct flasher_options {
	const char *binary;	/* the reimage binary to use as /init */
	const char *sysroot;	/* where /lib/modules comes from ("/" for the host) */
	const char *kver;
	enum modules_mode modules;
	char *const *extra_modules;
	size_t n_extra_modules;
	/* also the file system drivers the flasher needs to look into the written disk (then =
	 * kexec), where the kernel has them as modules */
	bool fs_modules;
	char *const *includes; /* host files or programs to add at the same path */
	size_t n_includes;
	const char *ca_bundle; /* NULL: the system default, when present */
	const char *job_text;  /* NULL: no job */
	const struct flasher_secret *secrets; /* more files for the job archive */
	size_t n_secrets;
	bool hold_tools; /* hold mode: dropbear, a shell and disk tools (initrd/hold.h) */
	enum initrd_compression compression;
	uint32_t mtime;
	/* Called once everything is chosen, before the archive is made in memory, with its size:
	 * a chance to refuse (a negative errno, message in err) before memory is spent on it. */
	int (*before_build)(void *userdata, uint64_t unpacked, char *err, size_t errlen);
	void *userdata;
};

struct flasher_image {
	uint8_t *data; /* main member (compressed) + padding + job member (raw cpio) */
	size_t len;
	size_t unpacked; /* bytes of the main archive before compression */
	size_t n_modules;
	uint64_t sizes[_INITRD_KIND_MAX];
};

/* Build it. 0, or -errno with what went wrong in err. */
int flasher_build(const struct flasher_options *o, struct flasher_image *ret, char *err,
		  size_t errlen);
void flasher_image_done(struct flasher_image *img);
