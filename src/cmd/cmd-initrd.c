// SPDX-License-Identifier: GPL-2.0-or-later
/* reimage initrd: build a flasher initramfs into a file, or list one. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "basic/file-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "cmd/commands.h"
#include "cmd/flasher-args.h"
#include "format/http-header.h"
#include "format/job.h"
#include "initrd/flasher.h"
#include "initrd/hold.h"
#include "initrd/list.h"

static void help(void)
{
	printf("Usage: reimage initrd -o FILE [OPTIONS]\n"
	       "       reimage initrd --list FILE\n"
	       "\n"
	       "Build the RAM-only flasher: an initramfs whose /init is reimage, with its libraries,\n"
	       "the CA bundle and the kernel modules it needs, and optionally a job in a separate\n"
	       "archive (/etc/reimage/job.conf, mode 0600).\n"
	       "\n"
	       "  -o, --output FILE         write the initramfs here\n"
	       "      --list FILE           list the members and entries of an initramfs\n"
	       FLASHER_ARGS_HELP("the running one",
				 "host for the running kernel, net-storage for any other")
	       "  -h, --help\n");
}

enum {
	OPT_LIST = 0x100,
};

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "list", required_argument, NULL, OPT_LIST },
	FLASHER_ARGS_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{}
};

struct list_ctx {
	unsigned last_member;
	bool any;
};

static int print_entry(unsigned member, const char *compression, const struct cpio_entry *e,
		       void *userdata)
{
	struct list_ctx *c = userdata;
	char type = S_ISDIR(e->mode) ? 'd' : S_ISLNK(e->mode) ? 'l' : S_ISCHR(e->mode) ? 'c'
					 : S_ISBLK(e->mode)   ? 'b'
							      : '-';

	if (!c->any || member != c->last_member)
		printf("# member %u (%s)\n", member, compression);
	c->any = true;
	c->last_member = member;
	if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
		printf("%c%04o %4u,%-4u %s\n", type, e->mode & 07777, e->rdevmajor, e->rdevminor,
		       e->name);
	else
		printf("%c%04o %9llu %s\n", type, e->mode & 07777, (unsigned long long)e->size,
		       e->name);
	return 0;
}

static int do_list(const char *path)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct list_ctx c = { 0 };
	size_t len;
	int r;

	r = read_full_file(path, 1U << 30, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read %s: %m", path), 1;
	r = initrd_list(buf, len, print_entry, &c);
	if (r < 0) {
		log_error("%s is not a readable initramfs: %s", path,
			  r == -EPROTONOSUPPORT ? "a member is neither cpio nor gzip/xz/zstd"
			  : r == -EFBIG	       ? "a member unpacks to more than 2 GiB"
					       : "damaged archive or compressed member");
		return 1;
	}
	return 0;
}

int cmd_initrd(int argc, char *argv[])
{
	struct flasher_args a;
	const char *output = NULL;
	struct flasher_image img = { 0 };
	char err[1024] = "";
	int c, r, ex = 2;

	log_set_prefix("reimage initrd");
	flasher_args_init(&a);
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) >= 0) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_LIST: flasher_args_done(&a); return do_list(optarg);
		case 'h': help(); ex = 0; goto out;
		default:
			r = flasher_args_option(&a, c, optarg);
			if (r < 0)
				goto out;
			if (r == 0) {
				log_error("run 'reimage initrd --help' for the options");
				goto out;
			}
		}
	}
	if (optind != argc) {
		log_error("unexpected argument '%s'; run 'reimage initrd --help'", argv[optind]);
		goto out;
	}
	if (!output) {
		log_error("missing -o FILE (or --list FILE)");
		goto out;
	}
	if (flasher_args_finish(&a, true) < 0)
		goto out;

	r = flasher_build(&a.o, &img, err, sizeof(err));
	if (r < 0) {
		log_error("cannot build the flasher: %s", err);
		ex = 1;
		goto out;
	}
	/* secrets inside: readable by root only, and written to a new file renamed into place,
	 * never through a file or link that is already there */
	r = write_file_replace(output, a.secrets ? 0600 : 0644, img.data, img.len);
	if (r < 0) {
		log_error_errno(r, "cannot write %s: %m", output);
		ex = 1;
		goto out;
	}
	{
		char x[32], y[32];
		printf("Wrote %s: %s, %s compressed (%s unpacked), kernel %s\n", output,
		       format_bytes(x, sizeof(x), img.len), initrd_compression_to_string(a.o.compression),
		       format_bytes(y, sizeof(y), img.unpacked), a.o.kver);
		for (int k = 0; k < _INITRD_KIND_MAX; k++) {
			if (k == INITRD_KIND_JOB && !a.o.job_text)
				continue;
			printf("  %-10s %10s", initrd_kind_name(k),
			       format_bytes(x, sizeof(x), img.sizes[k]));
			if (k == INITRD_KIND_MODULE)
				printf("  (%zu modules)", img.n_modules);
			if (k == INITRD_KIND_JOB)
				printf("  (separate archive, mode 0600%s)",
				       a.secrets ? "; this file holds secrets and is mode 0600" : "");
			printf("\n");
		}
		if (a.hold) {
			const struct hold_keys *h = a.hold;
			printf("  hold:      %zu authorized keys from %s\n", h->authorized.n, h->sources);
			for (size_t i = 0; i < h->n_host; i++)
				printf("  host key:  %s %s (%s)\n", h->host[i].type, h->host[i].fingerprint,
				       h->host_new ? "new" : "converted from OpenSSH");
		}
	}
	ex = 0;
out:
	flasher_image_done(&img);
	flasher_args_done(&a);
	log_forget_secrets();
	return ex;
}
