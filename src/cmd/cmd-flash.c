// SPDX-License-Identifier: GPL-2.0-or-later
/* reimage flash: option parsing, checksum-list lookup, and the run of the flash pipeline. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "cmd/commands.h"
#include "cmd/report-options.h"
#include "cmd/tls-options.h"
#include "flash/pipeline.h"
#include "flash/progress.h"
#include "flash/source.h"
#include "flash/sums.h"
#include "crypto/minisign-verify.h"
#include "format/url.h"
#include "format/minisign.h"
#include "initrd/initrd.h"
#include "format/http-header.h"
#include "format/json.h"
#include "format/sha256sums.h"
#include "init/hold.h"
#include "init/target.h"
#include "init/write-state.h"

#define MAX_HEADERS 64
#define HEADER_FILE_MAX (64U << 10)
static volatile int interrupted;

static void mark_touched(void *userdata)
{
	write_state_mark(userdata, WRITE_TOUCHED);
}

/* Block SIGPIPE on this thread while libcurl runs here, and drop one it raised meanwhile. */
static void pipe_block(bool block)
{
	sigset_t set;
	const struct timespec zero = { 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (block) {
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		return;
	}
	while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static void on_signal(int sig)
{
	interrupted = sig;
}

static void help(void)
{
	printf("Usage: reimage flash [OPTIONS] SRC DST\n"
	       "       reimage flash [OPTIONS] SRC --to DST\n"
	       "\n"
	       "Stream an image onto a block device or into a file: fetch, decompress (gzip, xz,\n"
	       "zstd, bzip2 or raw, by magic bytes), verify and write at the same time. The first\n"
	       "MiB is written only after every check passed; on failure it is zeroed.\n"
	       "\n"
	       "  SRC  http:// or https:// URL, a file, or - for standard input\n"
	       "  DST  a block device, or a regular file (created if missing, else truncated)\n"
	       "\n"
	       "Verification:\n"
	       "      --sha256 HEX          SHA-256 of SRC as published (compressed)\n"
	       "      --sums FILE|URL       SHA256SUMS list; the entry is picked by SRC's file name\n"
	       "      --minisig FILE|URL    minisign signature of SRC as published (prehashed ED)\n"
	       "      --pubkey FILE|KEY     the minisign public key (file, or its base64 line)\n"
	       "      --name NAME           file name to look up in --sums (needed with SRC -)\n"
	       "      --sums-sig FILE|URL   detached OpenPGP signature of the --sums list, checked\n"
	       "                            with gpgv before the list is used\n"
	       "      --keyring FILE        the signing keys for --sums-sig (binary or armored)\n"
	       "      --image-sha256 HEX    SHA-256 of the disk image (decompressed; for a qcow2 or\n"
	       "                            a tar, of the raw disk it holds)\n"
	       "      --verify              read the written data back and compare\n"
	       "Images:\n"
	       "      --member NAME         the member of a tar archive that holds the disk image\n"
	       "                            (needed when the archive holds several files)\n"
	       "HTTP:\n"
	       "      --header 'N: V'       extra request header (repeatable; value never printed)\n"
	       "      --header-file FILE    request headers, one per line\n"
	       "      --retries N           retries in a row without progress (default 10)\n"
	       "      --retry-for TIME      stop retrying after failing this long (default 10m)\n"
	       "      --connect-timeout T   time to connect (default 30s)\n"
	       "      --stall-timeout T     resume a transfer slower than --low-speed for this long\n"
	       "                            (default 60s; 0 disables)\n"
	       "      --low-speed BYTES     bytes per second (default 1024)\n"
	       TLS_OPTIONS_HELP
	       REPORT_OPTIONS_HELP
	       "Output:\n"
	       "      --progress MODE       auto, bar, line or none (default auto)\n"
	       "      --json                JSON events on stdout, one per line\n"
	       "  -q, --quiet               errors only\n"
	       "  -h, --help                this help\n"
	       "  -V, --version             the version\n"
	       "\n"
	       "TIME is seconds, or a number with s, m or h. Exit status: 0 done, 2 usage, 3 source\n"
	       "(a TLS failure too: unknown CA, expired or wrong-name certificate, pin mismatch,\n"
	       "client certificate refused; never retried), 4 verification, 5 corrupt or truncated\n"
	       "data, 6 target refused or too small, 7 write error, 128+N ended by signal N (SIGINT\n"
	       "130, SIGTERM 143, SIGHUP 129, SIGPIPE 141; the target fails closed).\n"
	       "See 'man reimage-flash' (the exit codes of every command: 'man reimage').\n");
}

enum {
	OPT_SHA256 = 0x100,
	OPT_SUMS,
	OPT_SUMS_SIG,
	OPT_KEYRING,
	OPT_NAME,
	OPT_MINISIG,
	OPT_PUBKEY,
	OPT_IMAGE_SHA256,
	OPT_VERIFY,
	OPT_HEADER,
	OPT_HEADER_FILE,
	OPT_RETRIES,
	OPT_RETRY_FOR,
	OPT_CONNECT_TIMEOUT,
	OPT_STALL_TIMEOUT,
	OPT_LOW_SPEED,
	OPT_PROGRESS,
	OPT_JSON,
	OPT_TO,
	OPT_MEMBER,
};

static const struct option options[] = {
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "sums", required_argument, NULL, OPT_SUMS },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "sums-sig", required_argument, NULL, OPT_SUMS_SIG },
	{ "keyring", required_argument, NULL, OPT_KEYRING },
	{ "minisig", required_argument, NULL, OPT_MINISIG },
	{ "pubkey", required_argument, NULL, OPT_PUBKEY },
	{ "image-sha256", required_argument, NULL, OPT_IMAGE_SHA256 },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "header-file", required_argument, NULL, OPT_HEADER_FILE },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-for", required_argument, NULL, OPT_RETRY_FOR },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT },
	{ "low-speed", required_argument, NULL, OPT_LOW_SPEED },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "to", required_argument, NULL, OPT_TO },
	{ "version", no_argument, NULL, 'V' },
	{ "member", required_argument, NULL, OPT_MEMBER },
	TLS_LONG_OPTIONS,
	REPORT_LONG_OPTIONS,
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

struct args {
	struct flash_options o;
	char *headers[MAX_HEADERS];
	size_t n_headers;
	const char *sums, *sums_sig, *keyring, *name, *minisig, *pubkey;
	const char *to; /* --to DST, the spelling go, initrd and bundle share */
	enum progress_mode mode;
	bool mode_set, json, quiet;
	struct report_options report;
};

static int add_header(struct args *a, const char *h, const char *origin)
{
	const char *colon;
	char *copy;

	if (http_request_header_validate(h) < 0) {
		/* never echo the header: it may hold a token */
		log_error("malformed header in %s: expected 'Name: value' on one line (a token "
			  "name, a colon, a non-empty value)",
			  origin);
		return -EINVAL;
	}
	if (a->n_headers >= MAX_HEADERS) {
		log_error("too many headers (at most %d)", MAX_HEADERS);
		return -E2BIG;
	}
	copy = strdup(h);
	if (!copy)
		return log_error_errno(-ENOMEM, "out of memory");
	colon = strchr(copy, ':') + 1;
	colon += strspn(colon, " \t");
	(void)log_add_secret(colon);
	a->headers[a->n_headers++] = copy;
	return 0;
}

static int read_header_file(struct args *a, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	int r;

	if (!f)
		return log_error_errno(negative_errno(), "cannot read --header-file %s: %m", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		total += (size_t)n;
		if (total > HEADER_FILE_MAX)
			return log_error_errno(-EFBIG, "--header-file %s is larger than 64 KiB", path);
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] == 0 || line[0] == '#')
			continue;
		r = add_header(a, line, path);
		explicit_bzero(line, strlen(line));
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_hex_digest(const char *s, uint8_t out[32], const char *opt)
{
	if (hex_decode_exact(s, strlen(s), out, 32) < 0) {
		log_error("%s wants 64 hexadecimal digits (a SHA-256 digest), got %zu characters%s",
			  opt, strlen(s), strspn(s, "0123456789abcdefABCDEF") == strlen(s) ? "" : " with non-hex characters");
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char *argv[], struct args *a)
{
	uint64_t v;
	int c, r;

	a->o.retries = 10;
	a->o.retry_for_ms = 600000;
	a->o.connect_timeout_ms = 30000;
	a->o.stall_timeout_ms = 60000;
	a->o.low_speed = 1024;
	snprintf(a->o.sha256_origin, sizeof(a->o.sha256_origin), "--sha256");

	optind = 0;
	while ((c = getopt_long(argc, argv, "qhV", options, NULL)) >= 0) {
		switch (c) {
		case OPT_SHA256:
			if (parse_hex_digest(optarg, a->o.sha256, "--sha256") < 0)
				return -EINVAL;
			a->o.have_sha256 = true;
			break;
		case OPT_IMAGE_SHA256:
			if (parse_hex_digest(optarg, a->o.image_sha256, "--image-sha256") < 0)
				return -EINVAL;
			a->o.have_image_sha256 = true;
			break;
		case OPT_SUMS: a->sums = optarg; break;
		case OPT_NAME: a->name = optarg; break;
		case OPT_SUMS_SIG: a->sums_sig = optarg; break;
		case OPT_KEYRING: a->keyring = optarg; break;
		case OPT_MINISIG: a->minisig = optarg; break;
		case OPT_PUBKEY: a->pubkey = optarg; break;
		case OPT_VERIFY: a->o.verify = true; break;
		case OPT_HEADER:
			r = add_header(a, optarg, "--header");
			if (r < 0)
				return r;
			break;
		case OPT_HEADER_FILE:
			r = read_header_file(a, optarg);
			if (r < 0)
				return r;
			break;
		case OPT_RETRIES:
			if (parse_uint(optarg, &a->o.retries) < 0) {
				log_error("--retries wants a whole number, got '%s'", optarg);
				return -EINVAL;
			}
			break;
		case OPT_RETRY_FOR:
		case OPT_CONNECT_TIMEOUT:
		case OPT_STALL_TIMEOUT:
			if (parse_duration_ms(optarg, &v) < 0) {
				log_error("%s wants a duration such as 30, 2.5, 90s, 15m or 1h, got '%s'",
					  c == OPT_RETRY_FOR	     ? "--retry-for"
					  : c == OPT_CONNECT_TIMEOUT ? "--connect-timeout"
								     : "--stall-timeout",
					  optarg);
				return -EINVAL;
			}
			if (c == OPT_RETRY_FOR)
				a->o.retry_for_ms = v;
			else if (c == OPT_CONNECT_TIMEOUT)
				a->o.connect_timeout_ms = v;
			else
				a->o.stall_timeout_ms = v;
			break;
		case OPT_LOW_SPEED:
			if (parse_size(optarg, &a->o.low_speed) < 0) {
				log_error("--low-speed wants bytes per second (e.g. 1024 or 64K), got '%s'",
					  optarg);
				return -EINVAL;
			}
			break;
		case OPT_PROGRESS:
			a->mode_set = true;
			if (strcmp(optarg, "bar") == 0)
				a->mode = PROGRESS_BAR;
			else if (strcmp(optarg, "line") == 0)
				a->mode = PROGRESS_LINE;
			else if (strcmp(optarg, "none") == 0)
				a->mode = PROGRESS_NONE;
			else if (strcmp(optarg, "auto") == 0)
				a->mode_set = false;
			else {
				log_error("--progress wants auto, bar, line or none, got '%s'", optarg);
				return -EINVAL;
			}
			break;
		case OPT_JSON: a->json = true; break;
		case OPT_MEMBER: a->o.member = optarg; break;
		case 'q': a->quiet = true; break;
		case 'h': help(); return 1;
		case 'V': command_version(); return 1;
		case OPT_TO: a->to = optarg; break;
		default:
			if (tls_option_apply(&a->o.tls, c, optarg))
				break;
			r = report_option_apply(&a->report, c, optarg);
			if (r < 0)
				return r;
			if (r > 0)
				break;
			log_error("run 'reimage flash --help' for the options");
			return -EINVAL;
		}
	}
	if (a->to && argc - optind == 2) {
		log_error("DST given twice: --to %s and '%s'; give one of them", a->to,
			  argv[optind + 1]);
		return -EINVAL;
	}
	if (argc - optind != (a->to ? 1 : 2)) {
		log_error("expected SRC and DST (or SRC --to DST), got %d argument%s; run 'reimage "
			  "flash --help'",
			  argc - optind, argc - optind == 1 ? "" : "s");
		return -EINVAL;
	}
	a->o.src = argv[optind];
	a->o.dst = a->to ? a->to : argv[optind + 1];
	if (!*a->o.src || !*a->o.dst) {
		log_error("SRC and DST must not be empty");
		return -EINVAL;
	}
	if ((a->sums_sig || a->keyring) && !(a->sums_sig && a->keyring && a->sums)) {
		log_error("--sums-sig and --keyring go together, and with --sums: the list, its "
			  "signature and the keys that signed it");
		return -EINVAL;
	}
	r = tls_options_check(&a->o.tls);
	if (r < 0)
		return r;
	r = report_options_check(&a->report);
	if (r < 0)
		return r;
	a->o.headers = a->headers;
	a->o.n_headers = a->n_headers;
	if (a->json)
		a->mode = PROGRESS_JSON;
	else if (!a->mode_set)
		a->mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_LINE;
	return 0;
}

static int lookup_sums(struct args *a, struct progress *p, char *msg, size_t msglen)
{
	uint8_t digest[32];
	char origin[1024], hex[65];
	int ex;

	ex = sums_lookup(&a->o, a->sums, a->name, a->sums_sig, a->keyring, digest, origin, sizeof(origin), msg, msglen);
	if (ex != 0)
		return ex;
	if (a->o.have_sha256 && memcmp(a->o.sha256, digest, 32) != 0) {
		snprintf(msg, msglen, "--sha256 and the %s disagree; which is right?", origin);
		return FLASH_EXIT_VERIFY;
	}
	memcpy(a->o.sha256, digest, 32);
	a->o.have_sha256 = true;
	snprintf(a->o.sha256_origin, sizeof(a->o.sha256_origin), "%s", origin);
	hex_encode(digest, 32, hex);
	progress_note(p, "Expecting SHA-256 %s (%s)", hex, origin);
	return 0;
}

/* The signature and key, checked as far as they can be before the image is read: formats,
 * key id, algorithm. The data signature itself is checked once the stream has passed. */
static int load_minisign(struct args *a, struct progress *p, char *msg, size_t msglen)
{
	struct source_config cfg = {
		.location = a->minisig,
		.retries = a->o.retries,
		.retry_for_ms = a->o.retry_for_ms,
		.connect_timeout_ms = a->o.connect_timeout_ms,
		.stall_timeout_ms = a->o.stall_timeout_ms,
		.low_speed = a->o.low_speed,
		.tls = a->o.tls,
	};
	_cleanup_free_ char *sig = NULL;
	_cleanup_free_ uint8_t *key = NULL;
	char err[1024] = "", why[512], id[17], shown[2048];
	size_t len;
	int r;

	if (a->minisig && url_same_origin(a->minisig, a->o.src)) {
		/* a private server's signature needs the same headers as its image; no other
		 * server gets them */
		cfg.headers = a->o.headers;
		cfg.n_headers = a->o.n_headers;
	}
	if (a->minisig && url_is_http(a->minisig))
		url_redact(a->minisig, shown, sizeof(shown));
	else
		snprintf(shown, sizeof(shown), "%s", a->minisig ? a->minisig : "");
	if (!a->minisig || !a->pubkey) {
		snprintf(msg, msglen, "--minisig and --pubkey go together: the signature and the key "
				      "that made it");
		return FLASH_EXIT_USAGE;
	}
	if (access(a->pubkey, F_OK) == 0) {
		r = read_full_file(a->pubkey, 4096, &key, &len);
		if (r < 0) {
			snprintf(msg, msglen, "cannot read --pubkey %s: %s", a->pubkey, strerror(-r));
			return FLASH_EXIT_USAGE;
		}
		r = minisign_pubkey_parse((char *)key, len, &a->o.minisign_key);
	} else
		r = minisign_pubkey_parse(a->pubkey, strlen(a->pubkey), &a->o.minisign_key);
	if (r < 0) {
		snprintf(msg, msglen,
			 "--pubkey %s is neither a minisign public key file nor a key line (RW...)",
			 a->pubkey);
		return FLASH_EXIT_USAGE;
	}
	r = source_read_all(&cfg, 64U << 10, &sig, &len, err, sizeof(err));
	if (r < 0) {
		snprintf(msg, msglen, "cannot read the signature %s: %s", shown,
			 err[0] ? err : strerror(-r));
		return url_is_http(a->minisig) ? FLASH_EXIT_SOURCE : FLASH_EXIT_USAGE;
	}
	r = minisign_sig_parse(sig, len, &a->o.minisign_sig);
	if (r < 0) {
		snprintf(msg, msglen, "%s is not a minisign signature%s", shown,
			 r == -EPROTONOSUPPORT ? " (unknown algorithm)" : "");
		return FLASH_EXIT_VERIFY;
	}
	r = minisign_check_params(&a->o.minisign_key, &a->o.minisign_sig, why, sizeof(why));
	if (r < 0) {
		snprintf(msg, msglen, "minisign: %s", why);
		return FLASH_EXIT_VERIFY;
	}
	a->o.have_minisig = true;
	minisign_keynum_format(a->o.minisign_key.keynum, id);
	progress_note(p, "Expecting a minisign signature by key %s", id);
	return 0;
}

int cmd_flash(int argc, char *argv[])
{
	struct args a = {};
	struct progress p;
	struct flash_result res;
	struct sigaction sa = { .sa_handler = on_signal };
	char msg[2048] = "";
	struct report *report = NULL;
	int r, ex;

	log_set_prefix("reimage flash");
	r = parse_args(argc, argv, &a);
	if (r != 0) {
		ex = r > 0 ? 0 : FLASH_EXIT_USAGE;
		goto out_headers;
	}
	if (!url_is_http(a.o.src)) {
		struct stat s1, s2;
		const char *src = strcmp(a.o.src, "-") == 0 ? "/dev/stdin" : a.o.src;
		if (stat(src, &s1) == 0 && stat(a.o.dst, &s2) == 0 &&
		    ((S_ISREG(s1.st_mode) && s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino) ||
		     (S_ISBLK(s1.st_mode) && S_ISBLK(s2.st_mode) && s1.st_rdev == s2.st_rdev))) {
			log_error("SRC and DST are the same file (%s); writing would destroy the image "
				  "while reading it",
				  a.o.dst);
			ex = FLASH_EXIT_USAGE;
			goto out_headers;
		}
	}
	if (a.o.tls.insecure)
		log_warning(TLS_INSECURE_WARNING); /* even with --quiet and --json: it is about trust */
	(void)url_foreach_secret(a.o.src, log_add_secret);
	if (a.sums)
		(void)url_foreach_secret(a.sums, log_add_secret);
	if (a.sums_sig)
		(void)url_foreach_secret(a.sums_sig, log_add_secret);
	if (a.minisig)
		(void)url_foreach_secret(a.minisig, log_add_secret);

	/* every way a session can end us (Ctrl-C, kill, a dropped SSH connection, a closed
	 * output pipe) stops the run through the fail-closed path with 128 + the signal */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);

	r = source_http_global_init();
	if (r < 0) {
		log_error("cannot initialise libcurl");
		ex = FLASH_EXIT_INTERNAL;
		goto out_headers;
	}
	progress_init(&p, a.mode, a.quiet);
	/* the fetches below run libcurl on this thread: a SIGPIPE from a socket is not ours */
	pipe_block(true);
	{
		struct disk_identity id = { 0 };
		struct stat st;
		char shown[2048], js[4200], jd[4200];
		const char *base = strrchr(a.o.dst, '/') ? strrchr(a.o.dst, '/') + 1 : a.o.dst;

		if (stat(a.o.dst, &st) == 0 && S_ISBLK(st.st_mode))
			(void)disk_identity_read(base, &id);
		r = report_options_start(&a.report, &a.o.tls, "flash", NULL,
					 id.serial[0] ? id.serial : id.wwn[0] ? id.wwn : NULL, &report);
		if (r < 0) {
			ex = FLASH_EXIT_INTERNAL;
			goto out;
		}
		p.report = report;
		url_redact(a.o.src, shown, sizeof(shown));
		log_redact(shown, msg, sizeof(msg));
		json_quote(msg, js, sizeof(js));
		json_quote(a.o.dst, jd, sizeof(jd));
		msg[0] = 0;
		report_event(report, "started", "\"src\":%s,\"dst\":%s", js, jd);
	}
	report_options_jitter(a.report.start_jitter_ms, a.quiet || a.json, &interrupted);
	if (a.minisig || a.pubkey) {
		ex = load_minisign(&a, &p, msg, sizeof(msg));
		if (ex != 0) {
			size_t l = strlen(msg);
			snprintf(msg + l, sizeof(msg) - l, "; nothing was written to %s", a.o.dst);
			progress_error(&p, ex, msg);
			goto out;
		}
	}
	if (a.sums) {
		ex = lookup_sums(&a, &p, msg, sizeof(msg));
		if (ex != 0) {
			size_t l = strlen(msg);
			snprintf(msg + l, sizeof(msg) - l, "; nothing was written to %s", a.o.dst);
			progress_error(&p, ex, msg);
			goto out;
		}
	}
	pipe_block(false);
	{
		/* in a flasher's hold: record the write when the disk is first touched, and its
		 * end; the hold's timeout no longer reboots, and a dead writer fails closed
		 * (docs/flasher.md) */
		struct stat st;
		if (stat(a.o.dst, &st) == 0 && S_ISBLK(st.st_mode) && hold_is_active()) {
			a.o.on_touch = mark_touched;
			a.o.on_touch_userdata = (void *)a.o.dst;
		}
	}
	r = flash_run(&a.o, &p, &interrupted, &res);
	if (a.o.on_touch && res.touched)
		write_state_mark(a.o.dst, r >= 0 ? WRITE_VERIFIED : WRITE_FAILED);
	ex = res.exit_code;
	if (r < 0) {
		if (!ex)
			ex = FLASH_EXIT_INTERNAL;
		progress_error(&p, ex, res.message);
	} else
		progress_done(&p, res.format, res.in, res.out, res.written, res.zeroed);
	snprintf(msg, sizeof(msg), "%s", r < 0 ? res.message : "");
	{
		char stats[512], f[64];
		json_quote(res.format, f, sizeof(f));
		snprintf(stats, sizeof(stats),
			 "\"format\":%s,\"in\":%llu,\"out\":%llu,\"written\":%llu,\"zeroed\":%llu", f,
			 (unsigned long long)res.in, (unsigned long long)res.out,
			 (unsigned long long)res.written, (unsigned long long)res.zeroed);
		report_options_result(report, ex, msg, "exit", stats);
	}
	msg[0] = 0;
out:
	if (report && msg[0])
		report_options_result(report, ex, msg, "exit", NULL);
	report_finish(report);
	progress_destroy(&p);
	source_http_global_cleanup();
out_headers:
	for (size_t i = 0; i < a.n_headers; i++) {
		explicit_bzero(a.headers[i], strlen(a.headers[i]));
		free(a.headers[i]);
	}
	report_options_done(&a.report);
	log_forget_secrets();
	return ex;
}
