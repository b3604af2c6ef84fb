// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsing the flasher and job options shared by reimage initrd and reimage bundle. */
#include "cmd/flasher-args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "format/url.h"
#include "net/carry.h"

void flasher_args_init(struct flasher_args *a)
{
	struct utsname u;

	*a = (struct flasher_args){
		.o = {
			.binary = "/proc/self/exe",
			.sysroot = "/",
			.compression = INITRD_COMPRESSION_ZSTD,
		},
	};
	uname(&u);
	snprintf(a->running, sizeof(a->running), "%s", u.release);
	a->o.kver = a->running;
	job_init(&a->job);
	identity_options_init(&a->ido);
}

/* job options turned into job-file lines, then parsed like a job file */
static int jobtext_add(struct flasher_args *a, const char *key, const char *value)
{
	size_t n = strlen(key) + strlen(value) + 5;
	char *ns;

	if (strchr(value, '\n')) {
		log_error("--%s: the value must be on one line", key);
		return -EINVAL;
	}
	ns = realloc(a->jobtext, a->jobtext_len + n + 1);
	if (!ns)
		return log_error_errno(-ENOMEM, "out of memory");
	a->jobtext = ns;
	a->jobtext_len += (size_t)snprintf(a->jobtext + a->jobtext_len, n + 1, "%s = %s\n", key,
					   value);
	return 0;
}

static int read_headers(struct flasher_args *a, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int r;

	if (!f)
		return log_error_errno(negative_errno(), "cannot read --header-file %s: %m", path);
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		r = jobtext_add(a, "header", line);
		explicit_bzero(line, strlen(line));
		if (r < 0)
			return r;
	}
	return 0;
}

int flasher_args_option(struct flasher_args *a, int c, const char *arg)
{
	int r;

	if (tls_option_apply(&a->tls, c, arg)) {
		a->tls_set = true;
		return 1;
	}
	r = identity_option_apply(&a->ido, c, arg);
	if (r != 0)
		return r;
	r = report_option_apply(&a->report, c, arg);
	if (r != 0) {
		a->report_set = a->report_set || r > 0;
		return r;
	}
	switch (c) {
	case FLASHER_OPT_COMPRESSION:
		if (initrd_compression_from_string(arg, &a->o.compression) < 0) {
			log_error("--compression wants zstd, xz, gzip or none, got '%s'", arg);
			return -EINVAL;
		}
		return 1;
	case FLASHER_OPT_KVER:
		a->o.kver = arg;
		a->kver_set = true;
		return 1;
	case FLASHER_OPT_SYSROOT: a->o.sysroot = arg; return 1;
	case FLASHER_OPT_MODULES:
		if (modules_mode_from_string(arg, &a->o.modules) < 0) {
			log_error("--modules wants host, net-storage or none, got '%s'", arg);
			return -EINVAL;
		}
		a->modules_set = true;
		return 1;
	case FLASHER_OPT_ADD_MODULE:
	case FLASHER_OPT_INCLUDE:
		if ((c == FLASHER_OPT_ADD_MODULE ? a->n_extra : a->n_includes) >= FLASHER_ARGS_MAX_LIST) {
			log_error("too many --%s options (at most %d)",
				  c == FLASHER_OPT_ADD_MODULE ? "add-module" : "include",
				  FLASHER_ARGS_MAX_LIST);
			return -E2BIG;
		}
		if (c == FLASHER_OPT_ADD_MODULE)
			a->extra[a->n_extra++] = (char *)arg;
		else
			a->includes[a->n_includes++] = (char *)arg;
		return 1;
	case FLASHER_OPT_BINARY: a->o.binary = arg; return 1;
	case FLASHER_OPT_JOB: a->job_file = arg; return 1;
	case FLASHER_OPT_SRC: r = jobtext_add(a, "src", arg); break;
	case FLASHER_OPT_DST: r = jobtext_add(a, "dst", arg); break;
	case FLASHER_OPT_SHA256: r = jobtext_add(a, "sha256", arg); break;
	case FLASHER_OPT_IMAGE_SHA256: r = jobtext_add(a, "image-sha256", arg); break;
	case FLASHER_OPT_VERIFY: r = jobtext_add(a, "verify", "yes"); break;
	case FLASHER_OPT_MEMBER: r = jobtext_add(a, "member", arg); break;
	case FLASHER_OPT_THEN: r = jobtext_add(a, "then", arg); break;
	case FLASHER_OPT_HOLD: r = jobtext_add(a, "hold", "yes"); break;
	case FLASHER_OPT_HOLD_TIMEOUT: r = jobtext_add(a, "hold-timeout", arg); break;
	case FLASHER_OPT_SSH_PORT: r = jobtext_add(a, "ssh-port", arg); break;
	case FLASHER_OPT_PROXY:
		(void)url_foreach_secret(arg, log_add_secret);
		r = jobtext_add(a, "http-proxy", arg);
		if (r >= 0)
			r = jobtext_add(a, "https-proxy", arg);
		break;
	case FLASHER_OPT_AUTHORIZED_KEYS:
		if (a->n_key_files >= FLASHER_ARGS_MAX_LIST) {
			log_error("too many --authorized-keys options (at most %d)", FLASHER_ARGS_MAX_LIST);
			return -E2BIG;
		}
		a->key_files[a->n_key_files++] = (char *)arg;
		return 1;
	case FLASHER_OPT_HEADER:
		(void)log_add_secret(strchr(arg, ':') ? strchr(arg, ':') + 1 : arg);
		r = jobtext_add(a, "header", arg);
		break;
	case FLASHER_OPT_HEADER_FILE: r = read_headers(a, arg); break;
	default: return 0;
	}
	return r < 0 ? r : 1;
}

/* reproducible builds: the same inputs give the same bytes */
static uint32_t build_mtime(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	if (e && parse_u64(e, &v) == 0 && v <= UINT32_MAX)
		return (uint32_t)v;
	return 0;
}

static unsigned n_url_secrets;

static int count_secret(const char *secret)
{
	(void)log_add_secret(secret);
	n_url_secrets++;
	return 0;
}

/* The new system's identity into the job and its archive (after the hold's files). */
static int identity_finish(struct flasher_args *a, char *err, size_t errlen)
{
	struct identity_options *o = &a->ido;
	size_t n = 0;
	int r;

	if (!identity_options_any(o))
		return 0;
	if (a->no_hold && (o->keep_identity || o->keep_host_keys || o->keep_network ||
			   o->keep_authorized_keys)) {
		log_error("--keep-identity, --keep-ssh-host-keys, --keep-network and "
			  "--keep-authorized-keys keep what the machine running reimage has, and a "
			  "bundle runs on another machine: give --hostname, --ssh-authorized-keys, "
			  "--cloud-init-* and --copy instead, or run reimage go there");
		return -EINVAL;
	}
	if ((o->keep_network || o->keep_identity) && a->job.n_addresses == 0) {
		char net[512];
		if (net_carry_collect(&a->job, net, sizeof(net)) == 0)
			log_info("network to keep: %s", net);
	}
	a->idc = calloc(1, sizeof(*a->idc));
	if (!a->idc)
		return log_error_errno(-ENOMEM, "out of memory");
	r = identity_collect(o, &a->job, a->idc, err, errlen);
	if (r < 0) {
		log_error("%s", err);
		return r;
	}
	for (size_t i = 0; i < a->o.n_secrets && n < 8; i++)
		a->all_secrets[n++] = a->o.secrets[i];
	for (size_t i = 0; i < a->idc->n_files; i++)
		a->all_secrets[n++] = a->idc->files[i];
	a->o.secrets = a->all_secrets;
	a->o.n_secrets = n;
	a->secrets = true;
	/* the flasher mounts the new system to configure it */
	a->o.fs_modules = true;
	return 0;
}

int flasher_args_finish(struct flasher_args *a, bool host_default)
{
	char err[1024] = "";
	int r;

	if (a->job_file && (a->jobtext || a->tls_set || a->report_set)) {
		log_error("give either --job FILE or job options (--src, --dst, --cacert, --report, "
			  "...), not both; a job file has tls-* and report-* keys");
		return -EINVAL;
	}
	if (a->tls_set && !a->jobtext) {
		log_error("TLS options belong to a job: give --src and --dst too");
		return -EINVAL;
	}
	if (a->tls_set && (r = tls_options_check(&a->tls)) < 0)
		return r;
	if (a->report_set && !a->jobtext) {
		log_error("--report and --start-jitter belong to a job: give --src and --dst too");
		return -EINVAL;
	}
	if (a->report_set && (r = report_options_check(&a->report)) < 0)
		return r;
	if (a->n_key_files && !a->jobtext && !a->job_file) {
		log_error("--authorized-keys goes with a job in hold mode (--hold or 'hold = yes')");
		return -EINVAL;
	}
	if (identity_options_any(&a->ido) && !a->jobtext && !a->job_file) {
		log_error("the identity options (--keep-identity, --hostname, --copy, ...) describe "
			  "the system a job writes: give --src and --dst (or --job) too");
		return -EINVAL;
	}
	if (!a->modules_set)
		a->o.modules = host_default && strcmp(a->o.kver, a->running) == 0 &&
					       strcmp(a->o.sysroot, "/") == 0
				       ? MODULES_HOST
				       : MODULES_NET_STORAGE;
	a->o.extra_modules = a->extra;
	a->o.n_extra_modules = a->n_extra;
	a->o.includes = a->includes;
	a->o.n_includes = a->n_includes;
	a->o.mtime = build_mtime();

	if (a->job_file || a->jobtext) {
		_cleanup_free_ uint8_t *text = NULL;
		size_t len = a->jobtext_len;

		if (a->job_file) {
			r = read_full_file(a->job_file, JOB_MAX_SIZE, &text, &len);
			if (r < 0)
				return log_error_errno(r, "cannot read --job %s: %m", a->job_file);
		}
		r = job_parse(a->job_file ? (char *)text : a->jobtext, len, &a->job, err, sizeof(err));
		if (text)
			explicit_bzero(text, len);
		if (r < 0) {
			log_error("%s: %s", a->job_file ? a->job_file : "job options", err);
			return r;
		}
		a->have_job = true;
		for (size_t i = 0; i < a->job.n_headers; i++) {
			const char *v = strchr(a->job.headers[i], ':');
			(void)log_add_secret(v ? v + 1 + strspn(v + 1, " \t") : a->job.headers[i]);
		}
		if (a->tls_set && (r = tls_options_to_job(&a->tls, &a->job)) < 0)
			return r;
		for (size_t i = 0; i < a->job.n_report_headers; i++) {
			const char *v = strchr(a->job.report_headers[i], ':');
			(void)log_add_secret(v ? v + 1 + strspn(v + 1, " \t") : a->job.report_headers[i]);
		}
		if (a->report_set && (r = report_options_to_job(&a->report, &a->job)) < 0)
			return r;
		n_url_secrets = 0;
		if (a->job.src)
			(void)url_foreach_secret(a->job.src, count_secret);
		if (a->job.http_proxy)
			(void)url_foreach_secret(a->job.http_proxy, count_secret);
		if (a->job.https_proxy)
			(void)url_foreach_secret(a->job.https_proxy, count_secret);
		if (a->job.report_url)
			(void)url_foreach_secret(a->job.report_url, count_secret);
		a->secrets = a->job.n_headers > 0 || a->job.n_report_headers > 0 ||
			     a->job.tls_client_key || n_url_secrets > 0;
		/* the flasher may mount the new system to find its kernel */
		a->o.fs_modules = job_may_boot_new_system(&a->job);
		if (a->job.hold && a->no_hold) {
			log_error("hold mode needs the SSH host keys of the machine it runs on, and this "
				  "flasher runs on another one: use reimage go --hold there");
			return -EINVAL;
		}
		if (a->job.hold) {
			/* the operators' keys and the host keys: secrets of the job archive */
			a->hold = calloc(1, sizeof(*a->hold));
			if (!a->hold)
				return log_error_errno(-ENOMEM, "out of memory");
			r = hold_keys_collect(a->hold, a->key_files, a->n_key_files, err, sizeof(err));
			if (r < 0) {
				log_error("%s", err);
				return r;
			}
			a->o.n_secrets = hold_keys_secrets(a->hold, &a->o.secrets);
			a->o.hold_tools = true;
			a->secrets = true;
		} else if (a->n_key_files) {
			log_error("--authorized-keys goes with a job in hold mode (--hold or 'hold = yes')");
			return -EINVAL;
		}
		r = identity_finish(a, err, sizeof(err));
		if (r < 0)
			return r;
		r = job_format(&a->job, &a->job_formatted);
		if (r < 0)
			return log_error_errno(r, "out of memory");
		a->o.job_text = a->job_formatted;
	}
	return 0;
}

void flasher_args_done(struct flasher_args *a)
{
	if (a->jobtext) {
		explicit_bzero(a->jobtext, a->jobtext_len);
		free(a->jobtext);
		a->jobtext = NULL;
	}
	if (a->job_formatted) {
		explicit_bzero(a->job_formatted, strlen(a->job_formatted));
		free(a->job_formatted);
		a->job_formatted = NULL;
	}
	job_done(&a->job);
	report_options_done(&a->report);
	if (a->hold) {
		hold_keys_done(a->hold);
		free(a->hold);
		a->hold = NULL;
	}
	if (a->idc) {
		identity_collected_done(a->idc);
		free(a->idc);
		a->idc = NULL;
	}
}
