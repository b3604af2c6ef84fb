// SPDX-License-Identifier: GPL-2.0-or-later
/* The flasher's initramfs: what goes in, and how the two archives are put together. */
#include "initrd/flasher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/macro.h"
#include "initrd/hold.h"

#define DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static int add_base(struct initrd *rd)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "run", "tmp", "etc",
					    "etc/reimage", "root", "mnt", "usr/bin" };
	int r;

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		r = initrd_add_dir(rd, dirs[i], strcmp(dirs[i], "tmp") == 0 ? 01777
						: strcmp(dirs[i], "etc/reimage") == 0 || strcmp(dirs[i], "root") == 0
							? 0700
							: 0755);
		if (r < 0)
			return r;
	}
	/* the kernel opens /dev/console for PID 1 before devtmpfs is mounted */
	r = initrd_add_node(rd, "dev/console", S_IFCHR | 0600, 5, 1);
	if (r < 0)
		return r;
	/* `reimage` on the PATH inside the flasher (hold mode, SSH sessions) */
	return initrd_add_symlink(rd, "usr/bin/reimage", "/init");
}

static void join_members(struct flasher_image *img, const uint8_t *main, size_t main_len,
			 const uint8_t *job, size_t job_len)
{
	size_t pad = (4 - main_len % 4) % 4;

	/* an uncompressed archive must start 4-byte aligned; NULs between members are skipped */
	memcpy(img->data, main, main_len);
	memset(img->data + main_len, 0, pad);
	if (job_len)
		memcpy(img->data + main_len + pad, job, job_len);
	img->len = main_len + pad + job_len;
}

int flasher_build(const struct flasher_options *o, struct flasher_image *ret, char *err,
		  size_t errlen)
{
	struct initrd rd, jobrd;
	uint8_t *cpio = NULL, *packed = NULL, *jobcpio = NULL;
	size_t cpio_len = 0, packed_len = 0, job_len = 0;
	const char *ca = o->ca_bundle ? o->ca_bundle : DEFAULT_CA_BUNDLE;
	int r;

	*ret = (struct flasher_image){ 0 };
	err[0] = 0;
	initrd_init(&rd);
	initrd_init(&jobrd);

	r = add_base(&rd);
	if (r < 0)
		goto out;
	r = initrd_add_program(&rd, o->binary, "init", INITRD_KIND_BINARY, err, errlen);
	if (r < 0)
		goto out;
	if (access(ca, R_OK) == 0) {
		r = initrd_add_file(&rd, DEFAULT_CA_BUNDLE, 0644, ca, INITRD_KIND_OTHER);
		if (r < 0)
			goto out;
	} else if (o->ca_bundle) {
		snprintf(err, errlen, "cannot read the CA bundle %s", ca);
		r = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < o->n_includes; i++) {
		struct stat st;
		if (stat(o->includes[i], &st) < 0 || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "--include %s: not a readable regular file",
				 o->includes[i]);
			r = -ENOENT;
			goto out;
		}
		r = (st.st_mode & 0111) ? initrd_add_program(&rd, o->includes[i], o->includes[i],
							      INITRD_KIND_OTHER, err, errlen)
					: initrd_add_file(&rd, o->includes[i], st.st_mode & 0777,
							  o->includes[i], INITRD_KIND_OTHER);
		if (r == -EEXIST)
			r = 0;
		if (r < 0)
			goto out;
	}
	if (o->hold_tools) {
		r = hold_add_tools(&rd, err, errlen);
		if (r < 0)
			goto out;
	}
	{
		/* '?': only when the kernel has it as a module (built in or absent is fine) */
		static const char *const fs[] = { "?vfat",	    "?nls_cp437", "?nls_ascii",
						  "?nls_iso8859-1", "?nls_utf8",  "?ext4",
						  "?xfs",	    "?btrfs" };
		size_t n = o->n_extra_modules + (o->fs_modules ? ELEMENTSOF(fs) : 0);
		char **extra = calloc(n + 1, sizeof(*extra));

		if (!extra) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < o->n_extra_modules; i++)
			extra[i] = o->extra_modules[i];
		for (size_t i = o->n_extra_modules; i < n; i++)
			extra[i] = (char *)fs[i - o->n_extra_modules];
		r = initrd_add_modules(&rd, o->sysroot, o->kver, o->modules, extra, n,
				       &ret->n_modules, err, errlen);
		free(extra);
	}
	if (r < 0)
		goto out;
	if (o->before_build) {
		r = o->before_build(o->userdata, initrd_estimate_size(&rd), err, errlen);
		if (r < 0)
			goto out;
	}
	r = initrd_build_cpio(&rd, o->mtime, &cpio, &cpio_len, ret->sizes, err, errlen);
	if (r < 0)
		goto out;
	ret->unpacked = cpio_len;
	r = initrd_compress(o->compression, cpio, cpio_len, &packed, &packed_len);
	if (r < 0) {
		snprintf(err, errlen, "compressing the flasher with %s failed",
			 initrd_compression_to_string(o->compression));
		goto out;
	}

	if (o->job_text || o->n_secrets) {
		uint64_t jsizes[_INITRD_KIND_MAX];
		r = initrd_add_dir(&jobrd, "etc", 0755);
		if (r >= 0)
			r = initrd_add_dir(&jobrd, "etc/reimage", 0700);
		if (r >= 0 && o->job_text)
			r = initrd_add_data(&jobrd, "etc/reimage/job.conf", 0600, o->job_text,
					    strlen(o->job_text), INITRD_KIND_JOB);
		for (size_t i = 0; r >= 0 && i < o->n_secrets; i++)
			r = o->secrets[i].data
				    ? initrd_add_data(&jobrd, o->secrets[i].path, o->secrets[i].mode,
						      o->secrets[i].data, o->secrets[i].len,
						      INITRD_KIND_JOB)
				    : initrd_add_dir(&jobrd, o->secrets[i].path, o->secrets[i].mode);
		if (r >= 0)
			r = initrd_build_cpio(&jobrd, o->mtime, &jobcpio, &job_len, jsizes, err,
					      errlen);
		if (r < 0)
			goto out;
		ret->sizes[INITRD_KIND_JOB] = jsizes[INITRD_KIND_JOB];
	}
	ret->data = malloc(packed_len + 4 + job_len);
	if (!ret->data) {
		r = -ENOMEM;
		goto out;
	}
	join_members(ret, packed, packed_len, jobcpio, job_len);
out:
	if (jobcpio) {
		explicit_bzero(jobcpio, job_len);
		free(jobcpio);
	}
	free(cpio);
	free(packed);
	initrd_done(&rd);
	initrd_done(&jobrd);
	if (r < 0 && !err[0])
		snprintf(err, errlen, "%s", strerror(-r));
	return r;
}

void flasher_image_done(struct flasher_image *img)
{
	if (img->data) {
		explicit_bzero(img->data, img->len);
		free(img->data);
	}
	*img = (struct flasher_image){ 0 };
}
