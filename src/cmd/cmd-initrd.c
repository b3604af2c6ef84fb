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

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "cmd/commands.h"
#include "format/http-header.h"
#include "format/job.h"
#include "initrd/flasher.h"
#include "initrd/hold.h"
#include "initrd/list.h"

#define MAX_LIST 64

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
	       "      --compression C       zstd (default), xz, gzip or none\n"
	       "      --kernel-version V    modules for this kernel (default: the running one)\n"
	       "      --sysroot DIR         take /lib/modules from DIR (default /)\n"
	       "      --modules SET         host (loaded now; default for the running kernel),\n"
	       "                            net-storage (all network and storage drivers; default\n"
	       "                            for any other kernel), or none\n"
	       "      --add-module NAME     add a module and its dependencies (repeatable)\n"
	       "      --include PATH        add a file, or a program with its libraries\n"
	       "      --binary PATH         the reimage binary to use as /init (default: this one)\n"
	       "Job (or --job FILE):\n"
	       "      --job FILE            a job file (see docs/job-file.md)\n"
	       "      --src URL --dst DEV   what to write where\n"
	       "      --sha256 HEX  --image-sha256 HEX  --verify\n"
	       "      --header 'N: V'  --header-file FILE\n"
	       "      --then reboot|poweroff|hold\n"
	       "      --hold  --hold-timeout TIME  --ssh-port N   hold mode (see reimage go --help)\n"
	       "      --authorized-keys FILE  keys that may log in to a hold (repeatable)\n"
	       "  -h, --help\n");
}

enum {
	OPT_LIST = 0x100,
	OPT_COMPRESSION,
	OPT_KVER,
	OPT_SYSROOT,
	OPT_MODULES,
	OPT_ADD_MODULE,
	OPT_INCLUDE,
	OPT_BINARY,
	OPT_JOB,
	OPT_SRC,
	OPT_DST,
	OPT_SHA256,
	OPT_IMAGE_SHA256,
	OPT_VERIFY,
	OPT_HEADER,
	OPT_HEADER_FILE,
	OPT_THEN,
	OPT_HOLD,
	OPT_HOLD_TIMEOUT,
	OPT_SSH_PORT,
	OPT_AUTHORIZED_KEYS,
};

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	{ "kernel-version", required_argument, NULL, OPT_KVER },
	{ "sysroot", required_argument, NULL, OPT_SYSROOT },
	{ "modules", required_argument, NULL, OPT_MODULES },
	{ "add-module", required_argument, NULL, OPT_ADD_MODULE },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "binary", required_argument, NULL, OPT_BINARY },
	{ "job", required_argument, NULL, OPT_JOB },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "image-sha256", required_argument, NULL, OPT_IMAGE_SHA256 },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "header-file", required_argument, NULL, OPT_HEADER_FILE },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "hold", no_argument, NULL, OPT_HOLD },
	{ "hold-timeout", required_argument, NULL, OPT_HOLD_TIMEOUT },
	{ "ssh-port", required_argument, NULL, OPT_SSH_PORT },
	{ "authorized-keys", required_argument, NULL, OPT_AUTHORIZED_KEYS },
	{ "help", no_argument, NULL, 'h' },
	{}
};

/* job options turned into job-file lines, then parsed like a job file */
struct jobtext {
	char *s;
	size_t len;
	bool any;
};

static int jobtext_add(struct jobtext *t, const char *key, const char *value)
{
	size_t n = strlen(key) + strlen(value) + 5;
	char *ns;

	if (strchr(value, '\n')) {
		log_error("--%s: the value must be on one line", key);
		return -EINVAL;
	}
	ns = realloc(t->s, t->len + n + 1);
	if (!ns)
		return log_error_errno(-ENOMEM, "out of memory");
	t->s = ns;
	t->len += (size_t)snprintf(t->s + t->len, n + 1, "%s = %s\n", key, value);
	t->any = true;
	return 0;
}

static void jobtext_done(struct jobtext *t)
{
	if (t->s) {
		explicit_bzero(t->s, t->len);
		free(t->s);
	}
}

static int read_headers(struct jobtext *t, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r;

	if (!f)
		return log_error_errno(negative_errno(), "cannot read --header-file %s: %m", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		r = jobtext_add(t, "header", line);
		explicit_bzero(line, strlen(line));
		if (r < 0)
			return r;
	}
	return 0;
}

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

static uint32_t build_mtime(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	if (e && parse_u64(e, &v) == 0 && v <= UINT32_MAX)
		return (uint32_t)v;
	return 0;
}

int cmd_initrd(int argc, char *argv[])
{
	struct flasher_options o = {
		.binary = "/proc/self/exe",
		.sysroot = "/",
		.compression = INITRD_COMPRESSION_ZSTD,
	};
	char *extra[MAX_LIST], *includes[MAX_LIST], *key_files[MAX_LIST], err[1024] = "", running[256];
	size_t n_extra = 0, n_includes = 0, n_key_files = 0;
	struct hold_keys *hold = NULL;
	const char *output = NULL, *job_file = NULL;
	struct jobtext jt = { 0 };
	_cleanup_free_ char *job_formatted = NULL;
	struct flasher_image img = { 0 };
	bool modules_set = false, secrets = false;
	struct utsname u;
	int c, r, ex = 2;

	log_set_prefix("reimage initrd");
	uname(&u);
	snprintf(running, sizeof(running), "%s", u.release);
	o.kver = running;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) >= 0) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_LIST: return do_list(optarg);
		case OPT_COMPRESSION:
			if (initrd_compression_from_string(optarg, &o.compression) < 0) {
				log_error("--compression wants zstd, xz, gzip or none, got '%s'", optarg);
				goto out;
			}
			break;
		case OPT_KVER: o.kver = optarg; break;
		case OPT_SYSROOT: o.sysroot = optarg; break;
		case OPT_MODULES:
			if (modules_mode_from_string(optarg, &o.modules) < 0) {
				log_error("--modules wants host, net-storage or none, got '%s'", optarg);
				goto out;
			}
			modules_set = true;
			break;
		case OPT_ADD_MODULE:
		case OPT_INCLUDE:
			if ((c == OPT_ADD_MODULE ? n_extra : n_includes) >= MAX_LIST) {
				log_error("too many --%s options (at most %d)",
					  c == OPT_ADD_MODULE ? "add-module" : "include", MAX_LIST);
				goto out;
			}
			if (c == OPT_ADD_MODULE)
				extra[n_extra++] = optarg;
			else
				includes[n_includes++] = optarg;
			break;
		case OPT_BINARY: o.binary = optarg; break;
		case OPT_JOB: job_file = optarg; break;
		case OPT_SRC: r = jobtext_add(&jt, "src", optarg); if (r < 0) goto out; break;
		case OPT_DST: r = jobtext_add(&jt, "dst", optarg); if (r < 0) goto out; break;
		case OPT_SHA256: r = jobtext_add(&jt, "sha256", optarg); if (r < 0) goto out; break;
		case OPT_IMAGE_SHA256: r = jobtext_add(&jt, "image-sha256", optarg); if (r < 0) goto out; break;
		case OPT_VERIFY: r = jobtext_add(&jt, "verify", "yes"); if (r < 0) goto out; break;
		case OPT_THEN: r = jobtext_add(&jt, "then", optarg); if (r < 0) goto out; break;
		case OPT_HEADER:
			(void)log_add_secret(strchr(optarg, ':') ? strchr(optarg, ':') + 1 : optarg);
			r = jobtext_add(&jt, "header", optarg);
			if (r < 0)
				goto out;
			break;
		case OPT_HEADER_FILE: r = read_headers(&jt, optarg); if (r < 0) goto out; break;
		case OPT_HOLD: r = jobtext_add(&jt, "hold", "yes"); if (r < 0) goto out; break;
		case OPT_HOLD_TIMEOUT: r = jobtext_add(&jt, "hold-timeout", optarg); if (r < 0) goto out; break;
		case OPT_SSH_PORT: r = jobtext_add(&jt, "ssh-port", optarg); if (r < 0) goto out; break;
		case OPT_AUTHORIZED_KEYS:
			if (n_key_files >= MAX_LIST) {
				log_error("too many --authorized-keys options (at most %d)", MAX_LIST);
				goto out;
			}
			key_files[n_key_files++] = optarg;
			break;
		case 'h': help(); ex = 0; goto out;
		default: log_error("run 'reimage initrd --help' for the options"); goto out;
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
	if (job_file && jt.any) {
		log_error("give either --job FILE or job options (--src, --dst, ...), not both");
		goto out;
	}
	if (n_key_files && !jt.any && !job_file) {
		log_error("--authorized-keys goes with a job in hold mode (--hold or 'hold = yes')");
		goto out;
	}
	if (!modules_set)
		o.modules = strcmp(o.kver, running) == 0 && strcmp(o.sysroot, "/") == 0
				    ? MODULES_HOST
				    : MODULES_NET_STORAGE;
	o.extra_modules = extra;
	o.n_extra_modules = n_extra;
	o.includes = includes;
	o.n_includes = n_includes;
	o.mtime = build_mtime();

	if (job_file || jt.any) {
		_cleanup_free_ uint8_t *text = NULL;
		size_t len = jt.len;
		struct job j;

		if (job_file) {
			r = read_full_file(job_file, JOB_MAX_SIZE, &text, &len);
			if (r < 0) {
				log_error_errno(r, "cannot read --job %s: %m", job_file);
				goto out;
			}
		}
		r = job_parse(job_file ? (char *)text : jt.s, len, &j, err, sizeof(err));
		if (text)
			explicit_bzero(text, len);
		if (r < 0) {
			log_error("%s: %s", job_file ? job_file : "job options", err);
			goto out;
		}
		for (size_t i = 0; i < j.n_headers; i++) {
			const char *v = strchr(j.headers[i], ':');
			(void)log_add_secret(v ? v + 1 + strspn(v + 1, " \t") : j.headers[i]);
		}
		secrets = j.n_headers > 0;
		if (j.hold) {
			/* the operator's keys and the host keys: secrets of their own archive */
			hold = calloc(1, sizeof(*hold));
			r = hold ? hold_keys_collect(hold, key_files, n_key_files, err, sizeof(err))
				 : -ENOMEM;
			if (r < 0) {
				log_error("%s", hold ? err : "out of memory");
				ex = r == -ENOKEY ? 2 : 1;
				job_done(&j);
				goto out;
			}
			o.n_secrets = hold_keys_secrets(hold, &o.secrets);
			o.hold_tools = true;
			secrets = true;
		}
		r = job_format(&j, &job_formatted);
		job_done(&j);
		if (r < 0) {
			log_error("out of memory");
			goto out;
		}
		o.job_text = job_formatted;
	}

	r = flasher_build(&o, &img, err, sizeof(err));
	if (r < 0) {
		log_error("cannot build the flasher: %s", err);
		ex = 1;
		goto out;
	}
	{
		/* secrets inside: readable by root only */
		_cleanup_close_ int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
					      secrets ? 0600 : 0644);
		size_t done = 0;

		if (fd < 0 || (secrets && fchmod(fd, 0600) < 0)) {
			log_error_errno(negative_errno(), "cannot write %s: %m", output);
			ex = 1;
			goto out;
		}
		while (done < img.len) {
			ssize_t n = write(fd, img.data + done, img.len - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				log_error_errno(negative_errno(), "writing %s failed: %m", output);
				ex = 1;
				goto out;
			}
			done += (size_t)n;
		}
	}
	{
		char a[32], b[32];
		printf("Wrote %s: %s, %s compressed (%s unpacked), kernel %s\n", output,
		       format_bytes(a, sizeof(a), img.len), initrd_compression_to_string(o.compression),
		       format_bytes(b, sizeof(b), img.unpacked), o.kver);
		for (int k = 0; k < _INITRD_KIND_MAX; k++) {
			if (k == INITRD_KIND_JOB && !o.job_text)
				continue;
			printf("  %-10s %10s", initrd_kind_name(k),
			       format_bytes(a, sizeof(a), img.sizes[k]));
			if (k == INITRD_KIND_MODULE)
				printf("  (%zu modules)", img.n_modules);
			if (k == INITRD_KIND_JOB)
				printf("  (separate archive, mode 0600%s)",
				       secrets ? "; this file holds secrets and is mode 0600" : "");
			printf("\n");
		}
		if (hold) {
			printf("  hold:      %zu authorized keys from %s\n", hold->authorized.n,
			       hold->sources);
			for (size_t i = 0; i < hold->n_host; i++)
				printf("  host key:  %s %s (%s)\n", hold->host[i].type,
				       hold->host[i].fingerprint,
				       hold->host_new ? "new" : "converted from OpenSSH");
		}
	}
	ex = 0;
out:
	flasher_image_done(&img);
	jobtext_done(&jt);
	if (hold) {
		hold_keys_done(hold);
		free(hold);
	}
	if (job_formatted)
		explicit_bzero(job_formatted, strlen(job_formatted));
	log_forget_secrets();
	return ex;
}
