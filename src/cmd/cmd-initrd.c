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

#include "basic/exit-codes.h"
#include "basic/file-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "cmd/commands.h"
#include "cmd/flasher-args.h"
#include "cmd/json-out.h"
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
	       "      --json                with --list: one JSON object, the members and their\n"
	       "                            entries\n"
	       FLASHER_ARGS_HELP("the running one",
				 "host for the running kernel, net-storage for any other")
	       "  -h, --help  -V, --version\n"
	       "\n"
	       "See 'man reimage-initrd'.\n");
}

enum {
	OPT_LIST = 0x100,
	OPT_JSON,
};

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "version", no_argument, NULL, 'V' },
	FLASHER_ARGS_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{}
};

struct list_ctx {
	unsigned last_member;
	bool any;
	struct json_out *json; /* --json: entries go here */
};

static char entry_type(uint32_t mode)
{
	return S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : S_ISCHR(mode) ? 'c' : S_ISBLK(mode) ? 'b'
		: S_ISREG(mode) ? '-' : '?';
}

static int json_entry(struct list_ctx *c, unsigned member, const char *compression,
		      const struct cpio_entry *e)
{
	static const char *const names[] = { ['d'] = "dir", ['l'] = "symlink", ['c'] = "char",
					     ['b'] = "block", ['-'] = "file", ['?'] = "other" };
	char mode[8];

	if (!c->any || member != c->last_member) {
		if (c->any) {
			json_out_close(c->json); /* entries */
			json_out_close(c->json); /* the member */
		}
		json_out_object(c->json, NULL);
		json_out_u64(c->json, "member", member);
		json_out_str(c->json, "compression", compression);
		json_out_array(c->json, "entries");
	}
	c->any = true;
	c->last_member = member;
	snprintf(mode, sizeof(mode), "%04o", e->mode & 07777);
	json_out_object(c->json, NULL);
	json_out_str(c->json, "name", e->name);
	json_out_str(c->json, "type", names[(unsigned char)entry_type(e->mode)]);
	json_out_str(c->json, "mode", mode);
	if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
		json_out_u64(c->json, "major", e->rdevmajor);
		json_out_u64(c->json, "minor", e->rdevminor);
	} else
		json_out_u64(c->json, "size", e->size);
	json_out_close(c->json);
	return 0;
}

static int print_entry(unsigned member, const char *compression, const struct cpio_entry *e,
		       void *userdata)
{
	struct list_ctx *c = userdata;
	char type = entry_type(e->mode);

	if (c->json)
		return json_entry(c, member, compression, e);
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

static int do_list(const char *path, bool json)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *doc = NULL;
	size_t len, doc_len = 0;
	struct json_out o;
	struct list_ctx c = { .json = json ? &o : NULL };
	FILE *f = NULL;
	int r;

	r = read_full_file(path, 1U << 30, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read %s: %m", path), EXIT_FAILED;
	if (json) {
		/* into memory first: a damaged archive prints an error, not half a document */
		f = open_memstream(&doc, &doc_len);
		if (!f)
			return log_error("out of memory"), EXIT_FAILED;
		json_out_begin(&o, f);
		json_out_str(&o, "file", path);
		json_out_array(&o, "members");
	}
	r = initrd_list(buf, len, print_entry, &c);
	if (json) {
		if (r >= 0)
			r = json_out_end(&o);
		if (fclose(f) != 0 && r >= 0)
			r = -ENOMEM;
		if (r >= 0)
			fputs(doc, stdout);
	}
	if (r == -ENOMEM || r == -EIO)
		return log_error_errno(r, "cannot list %s: %m", path), EXIT_FAILED;
	if (r < 0) {
		log_error("%s is not a readable initramfs: %s", path,
			  r == -EPROTONOSUPPORT ? "a member is neither cpio nor gzip/xz/zstd"
			  : r == -EFBIG	       ? "a member unpacks to more than 2 GiB"
					       : "damaged archive or compressed member");
		return EXIT_DATA;
	}
	return 0;
}

int cmd_initrd(int argc, char *argv[])
{
	struct flasher_args a;
	const char *output = NULL;
	struct flasher_image img = { 0 };
	char err[1024] = "";
	const char *list = NULL;
	bool json = false;
	int c, r, ex = 2;

	log_set_prefix("reimage initrd");
	flasher_args_init(&a);
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:hV", options, NULL)) >= 0) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_LIST: list = optarg; break;
		case OPT_JSON: json = true; break;
		case 'V': ex = command_version(); goto out;
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
	if (list) {
		if (output) {
			log_error("--list FILE reads an initramfs: it does not go with -o");
			goto out;
		}
		ex = do_list(list, json);
		goto out;
	}
	if (json) {
		log_error("--json goes with --list FILE");
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
