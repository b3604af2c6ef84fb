// SPDX-License-Identifier: GPL-2.0-or-later
/* reimage go: check everything, build the flasher around the running kernel, kexec into it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "basic/exit-codes.h"
#include "basic/escape.h"
#include "basic/file-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "cmd/commands.h"
#include "cmd/json-out.h"
#include "cmd/identity-options.h"
#include "cmd/report-options.h"
#include "cmd/proxy-options.h"
#include "cmd/tls-options.h"
#include "flash/decompress.h"
#include "flash/image-probe.h"
#include "flash/pipeline.h"
#include "flash/source.h"
#include "flash/sums.h"
#include "crypto/minisign-verify.h"
#include "flash/target-check.h"
#include "format/url.h"
#include "format/cmdline.h"
#include "format/http-header.h"
#include "format/job.h"
#include "init/target.h"
#include "initrd/flasher.h"
#include "initrd/hold.h"
#include "kexec/kexec.h"
#include "net/carry.h"

/* what the flasher needs besides its initramfs: kernel, page cache, pipeline buffers */
#define FLASHER_RUNTIME_RESERVE (96ULL << 20)
/* --then kexec: the new system's kernel and initramfs are read into memory and loaded while
 * the flasher still runs (a Debian initrd is 30-60 MiB, its kernel under 15) */
#define NEW_SYSTEM_RESERVE (96ULL << 20)

struct memory_budget {
	uint64_t kernel_size; /* the flasher's kernel image */
	uint64_t reserve;     /* runtime buffers, and the new system for --then kexec */
};
#define PROBE_SIZE (64U << 10)

static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void help(void)
{
	printf("Usage: reimage go SRC --to DISK [OPTIONS]\n"
	       "       reimage go --hold [SRC --to DISK] [OPTIONS]\n"
	       "\n"
	       "Reimage this machine in place: check the source, the target and the memory, build\n"
	       "the flasher around the running kernel, load it with kexec_file_load (kexec_load where\n"
	       "the kernel has none) and hand over.\n"
	       "The flasher then writes SRC over DISK, the disk this system may be running from.\n"
	       "\n"
	       "      --to DISK             the whole disk to overwrite (e.g. /dev/sda); --dst DISK\n"
	       "                            is the same\n"
	       "      --sha256 HEX  --sums FILE|URL  --name NAME  --image-sha256 HEX  --verify\n"
	       "      --member NAME         the tar member holding the disk image\n"
	       "      --sums-sig FILE|URL --keyring FILE   OpenPGP signature of --sums, checked here\n"
	       "                            with gpgv; the flasher then enforces the digest\n"
	       "      --minisig FILE|URL --pubkey FILE|KEY   minisign signature, checked by the flasher\n"
	       "      --header 'N: V'  --header-file FILE   (carried as secrets, never printed)\n"
	       "      --proxy URL           proxy for the source, here and in the flasher (default:\n"
	       "                            http_proxy, https_proxy, all_proxy and no_proxy from\n"
	       "                            the environment, carried into the job)\n"
	       "      --then reboot|poweroff|hold|kexec   after a verified write (default reboot)\n"
	       "      --yes                 do not ask to type the device name\n"
	       "      --dry-run             everything except loading and executing\n"
	       "      --json                the plan as one JSON object on stdout (messages stay on\n"
	       "                            stderr); with --dry-run, for scripts to read\n"
	       "      --save-initrd FILE    keep a copy of the flasher (mode 0600)\n"
	       "      --kernel PATH         kernel to load (default /boot/vmlinuz-$(uname -r))\n"
	       "      --add-module NAME     more modules for the flasher (default: those loaded now)\n"
	       "      --no-carry-network    let the flasher use DHCP instead of this system's\n"
	       "                            addresses\n"
	       "      --retries N  --retry-for TIME  --attempts N\n"
	       "Hold mode (an SSH server in the flasher waits for an operator; SRC optional):\n"
	       "      --hold                hold after the job (or instead of one) until\n"
	       "                            'reimage done reboot|poweroff|kexec' over SSH\n"
	       "      --hold-timeout TIME   reboot into this system when nothing was written\n"
	       "                            after TIME (default 15m; 0: never)\n"
	       "      --ssh-port N          the flasher's SSH port (default 22)\n"
	       "      --authorized-keys FILE  more keys that may log in (repeatable; root's and\n"
	       "                            the sudo user's ~/.ssh/authorized_keys are used too)\n"
	       TLS_OPTIONS_HELP
	       "                            (the files' contents travel in the job; the key as a\n"
	       "                            secret)\n"
	       IDENTITY_OPTIONS_HELP
	       REPORT_OPTIONS_HELP
	       "  -h, --help  -V, --version\n"
	       "\n"
	       "See 'man reimage-go' (exit codes: 'man reimage').\n");
}

enum {
	OPT_TO = 0x100, OPT_SHA256, OPT_SUMS, OPT_NAME, OPT_IMAGE_SHA256, OPT_VERIFY, OPT_HEADER,
	OPT_HEADER_FILE, OPT_THEN, OPT_YES, OPT_DRY_RUN, OPT_SAVE, OPT_KERNEL, OPT_ADD_MODULE,
	OPT_NO_CARRY, OPT_RETRIES, OPT_RETRY_FOR, OPT_ATTEMPTS, OPT_MINISIG, OPT_PUBKEY, OPT_SUMS_SIG, OPT_KEYRING,
	OPT_HOLD, OPT_HOLD_TIMEOUT, OPT_SSH_PORT, OPT_AUTHORIZED_KEYS, OPT_PROXY, OPT_MEMBER, OPT_JSON,
};

static const struct option options[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "dst", required_argument, NULL, OPT_TO },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "version", no_argument, NULL, 'V' },
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "sums", required_argument, NULL, OPT_SUMS },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "image-sha256", required_argument, NULL, OPT_IMAGE_SHA256 },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "member", required_argument, NULL, OPT_MEMBER },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "header-file", required_argument, NULL, OPT_HEADER_FILE },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "yes", no_argument, NULL, OPT_YES },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "save-initrd", required_argument, NULL, OPT_SAVE },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "add-module", required_argument, NULL, OPT_ADD_MODULE },
	{ "no-carry-network", no_argument, NULL, OPT_NO_CARRY },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-for", required_argument, NULL, OPT_RETRY_FOR },
	{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
	{ "minisig", required_argument, NULL, OPT_MINISIG },
	{ "pubkey", required_argument, NULL, OPT_PUBKEY },
	{ "hold", no_argument, NULL, OPT_HOLD },
	{ "hold-timeout", required_argument, NULL, OPT_HOLD_TIMEOUT },
	{ "ssh-port", required_argument, NULL, OPT_SSH_PORT },
	{ "authorized-keys", required_argument, NULL, OPT_AUTHORIZED_KEYS },
	{ "proxy", required_argument, NULL, OPT_PROXY },
	{ "sums-sig", required_argument, NULL, OPT_SUMS_SIG },
	{ "keyring", required_argument, NULL, OPT_KEYRING },
	TLS_LONG_OPTIONS,
	IDENTITY_LONG_OPTIONS,
	REPORT_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{}
};

struct go {
	struct job job;
	const char *to, *sums, *name, *save, *kernel, *minisig, *pubkey, *sums_sig, *keyring;
	const char *proxy;
	char proxy_desc[1200];
	struct source_tls tls;
	struct identity_options ido;
	char *modules[32];
	size_t n_modules;
	char *key_files[16];
	size_t n_key_files;
	bool yes, dry_run, carry, then_given, hold_opts, json;
	char kernel_buf[512];
	struct report_options report;
};

static int add_header(struct go *g, const char *h, const char *origin)
{
	const char *v;

	if (http_request_header_validate(h) < 0) {
		log_error("malformed header in %s: expected 'Name: value' on one line", origin);
		return -EINVAL;
	}
	if (g->job.n_headers >= JOB_MAX_HEADERS) {
		log_error("too many headers");
		return -E2BIG;
	}
	v = strchr(h, ':') + 1;
	(void)log_add_secret(v + strspn(v, " \t"));
	g->job.headers[g->job.n_headers] = strdup(h);
	if (!g->job.headers[g->job.n_headers])
		return -ENOMEM;
	g->job.n_headers++;
	return 0;
}

static int parse_args(int argc, char *argv[], struct go *g)
{
	uint64_t v;
	unsigned u;
	int c, r;

	job_init(&g->job);
	identity_options_init(&g->ido);
	g->carry = true;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hV", options, NULL)) >= 0) {
		switch (c) {
		case OPT_TO: g->to = optarg; break;
		case OPT_SHA256:
		case OPT_IMAGE_SHA256:
			if (hex_decode_exact(optarg, strlen(optarg),
					     c == OPT_SHA256 ? g->job.sha256 : g->job.image_sha256, 32) < 0) {
				log_error("--%s wants 64 hexadecimal digits",
					  c == OPT_SHA256 ? "sha256" : "image-sha256");
				return -EINVAL;
			}
			*(c == OPT_SHA256 ? &g->job.have_sha256 : &g->job.have_image_sha256) = true;
			break;
		case OPT_SUMS: g->sums = optarg; break;
		case OPT_NAME: g->name = optarg; break;
		case OPT_VERIFY: g->job.verify = true; break;
		case OPT_MEMBER:
			free(g->job.member);
			g->job.member = strdup(optarg);
			if (!g->job.member)
				return -ENOMEM;
			break;
		case OPT_HEADER:
			r = add_header(g, optarg, "--header");
			if (r < 0)
				return r;
			break;
		case OPT_HEADER_FILE: {
			_cleanup_fclose_ FILE *f = fopen(optarg, "re");
			_cleanup_free_ char *line = NULL;
			size_t cap = 0;
			if (!f)
				return log_error_errno(negative_errno(), "cannot read --header-file %s: %m",
						       optarg);
			while (getline(&line, &cap, f) > 0) {
				line[strcspn(line, "\r\n")] = 0;
				if (!line[0] || line[0] == '#')
					continue;
				r = add_header(g, line, optarg);
				explicit_bzero(line, strlen(line));
				if (r < 0)
					return r;
			}
			break;
		}
		case OPT_THEN:
			g->then_given = true;
			if (job_then_from_string(optarg, &g->job.then) < 0) {
				log_error("--then wants reboot, poweroff, hold or kexec, got '%s'", optarg);
				return -EINVAL;
			}
			break;
		case OPT_YES: g->yes = true; break;
		case OPT_DRY_RUN: g->dry_run = true; break;
		case OPT_SAVE: g->save = optarg; break;
		case OPT_KERNEL: g->kernel = optarg; break;
		case OPT_ADD_MODULE:
			if (g->n_modules >= ELEMENTSOF(g->modules)) {
				log_error("too many --add-module options");
				return -E2BIG;
			}
			g->modules[g->n_modules++] = optarg;
			break;
		case OPT_NO_CARRY: g->carry = false; break;
		case OPT_MINISIG: g->minisig = optarg; break;
		case OPT_PUBKEY: g->pubkey = optarg; break;
		case OPT_SUMS_SIG: g->sums_sig = optarg; break;
		case OPT_KEYRING: g->keyring = optarg; break;
		case OPT_RETRIES:
		case OPT_ATTEMPTS:
			if (parse_uint(optarg, &u) < 0 || (c == OPT_ATTEMPTS && u == 0)) {
				log_error("--%s wants a whole number%s, got '%s'",
					  c == OPT_RETRIES ? "retries" : "attempts",
					  c == OPT_ATTEMPTS ? " of at least 1" : "", optarg);
				return -EINVAL;
			}
			*(c == OPT_RETRIES ? &g->job.retries : &g->job.attempts) = u;
			break;
		case OPT_RETRY_FOR:
			if (parse_duration_ms(optarg, &v) < 0) {
				log_error("--retry-for wants a duration such as 90s or 15m, got '%s'", optarg);
				return -EINVAL;
			}
			g->job.retry_for_ms = v;
			break;
		case OPT_HOLD: g->job.hold = true; break;
		case OPT_HOLD_TIMEOUT:
			if (parse_duration_ms(optarg, &v) < 0) {
				log_error("--hold-timeout wants a duration such as 20s, 15m or 0 (never), "
					  "got '%s'", optarg);
				return -EINVAL;
			}
			g->job.hold_timeout_ms = v;
			g->hold_opts = true;
			break;
		case OPT_SSH_PORT:
			if (parse_uint(optarg, &u) < 0 || u == 0 || u > 65535) {
				log_error("--ssh-port wants a TCP port (1 to 65535), got '%s'", optarg);
				return -EINVAL;
			}
			g->job.ssh_port = u;
			g->hold_opts = true;
			break;
		case OPT_AUTHORIZED_KEYS:
			if (g->n_key_files >= ELEMENTSOF(g->key_files)) {
				log_error("too many --authorized-keys options (at most 16)");
				return -E2BIG;
			}
			g->key_files[g->n_key_files++] = optarg;
			g->hold_opts = true;
			break;
		case OPT_PROXY:
			g->proxy = optarg;
			break;
		case 'h': help(); return 1;
		case 'V': command_version(); return 1;
		case OPT_JSON: g->json = true; break;
		default:
			if (tls_option_apply(&g->tls, c, optarg))
				break;
			r = identity_option_apply(&g->ido, c, optarg);
			if (r > 0)
				break;
			if (r < 0)
				return r;
			r = report_option_apply(&g->report, c, optarg);
			if (r < 0)
				return r;
			if (r > 0)
				break;
			log_error("run 'reimage go --help' for the options");
			return -EINVAL;
		}
	}
	if (report_options_check(&g->report) < 0)
		return -EINVAL;
	if (g->hold_opts && !g->job.hold) {
		log_error("--hold-timeout, --ssh-port and --authorized-keys go with --hold");
		return -EINVAL;
	}
	if (g->job.hold && g->then_given && g->job.then != JOB_THEN_HOLD) {
		log_error("--then does not go with --hold: the flasher holds after the job until "
			  "'reimage done reboot|poweroff|kexec' (or the hold timeout)");
		return -EINVAL;
	}
	if (g->job.hold)
		g->job.then = JOB_THEN_HOLD;
	/* the flasher must reach the source the way this system's own checks do */
	r = proxy_options_to_job(g->proxy, &g->job, g->proxy_desc, sizeof(g->proxy_desc));
	if (r < 0)
		return r;
	if (g->job.hold && argc == optind) {
		/* nothing to write: the operator brings the image over SSH */
		if (identity_options_any(&g->ido)) {
			log_error("the identity options (--keep-identity, --hostname, --copy, ...) "
				  "describe the system the flasher writes: give SRC");
			return -EINVAL;
		}
		if (g->sums || g->minisig || g->pubkey || g->job.have_sha256 ||
		    g->job.have_image_sha256 || g->job.n_headers || g->tls.cacert || g->tls.pin ||
		    g->tls.client_cert || g->tls.insecure) {
			log_error("the verification, header and TLS options describe SRC: give SRC, "
				  "or leave them out and pass them to reimage flash in the SSH session");
			return -EINVAL;
		}
		if (g->to) {
			g->job.dst = strdup(g->to);
			if (!g->job.dst)
				return -ENOMEM;
		}
		return 0;
	}
	if (argc - optind != 1) {
		log_error("expected one SRC (an http:// or https:// URL)%s, got %d arguments",
			  g->job.hold ? " or none with --hold" : "", argc - optind);
		return -EINVAL;
	}
	if (!g->to) {
		log_error("missing --to DISK: the disk to overwrite");
		return -EINVAL;
	}
	if (!url_is_http(argv[optind])) {
		log_error("SRC must be an http:// or https:// URL: the flasher fetches it after this "
			  "system is gone");
		return -EINVAL;
	}
	if ((g->sums_sig || g->keyring) && !(g->sums_sig && g->keyring && g->sums)) {
		log_error("--sums-sig and --keyring go together, and with --sums: the list, its "
			  "signature and the keys that signed it");
		return -EINVAL;
	}
	r = tls_options_check(&g->tls);
	if (r < 0)
		return r;
	r = tls_options_to_job(&g->tls, &g->job);
	if (r < 0)
		return r;
	if (g->sums_sig)
		(void)url_foreach_secret(g->sums_sig, log_add_secret);
	if (g->sums)
		(void)url_foreach_secret(g->sums, log_add_secret);
	if (g->minisig)
		(void)url_foreach_secret(g->minisig, log_add_secret);
	g->job.src = strdup(argv[optind]);
	g->job.dst = strdup(g->to);
	if (!g->job.src || !g->job.dst)
		return -ENOMEM;
	(void)url_foreach_secret(g->job.src, log_add_secret);
	return 0;
}

static uint64_t meminfo(const char *key)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	size_t kl = strlen(key);

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		if (strncmp(line, key, kl) == 0 && line[kl] == ':' &&
		    sscanf(line + kl + 1, "%llu", &kb) == 1)
			return kb * 1024;
	}
	return 0;
}

/* What is on the disk now, for the plan. */
static void describe_disk(const char *name, dev_t devnum, char *buf, size_t n)
{
	char why[512];
	size_t o = 0;

	o += (size_t)snprintf(buf, n, "/dev/%s", name);
	if (target_check_block_device(devnum, name, why, sizeof(why)) == -EBUSY) {
		why[strcspn(why, ";")] = 0; /* the advice is for reimage flash */
		snprintf(buf + o, n - o, " in use now: %s (fine: the flasher writes it after this "
					"system is gone)",
			 why);
	} else
		snprintf(buf + o, n - o, " not in use now");
}

/* Before the flasher is made in memory: does it fit, here (to build and load it) and in the
 * flasher (the unpacked initramfs plus the pipeline's buffers)? */
static int check_memory(void *userdata, uint64_t unpacked, char *err, size_t errlen)
{
	const struct memory_budget *m = userdata;
	/* packed is about a third of unpacked; building needs both plus the compressor */
	uint64_t packed = unpacked / 2;
	uint64_t build = unpacked + packed + (32ULL << 20);
	uint64_t run = unpacked + packed + m->kernel_size * 4 + m->reserve;
	uint64_t total = meminfo("MemTotal"), avail = meminfo("MemAvailable");
	char a[32], b[32], c[32], d[32], e[32];

	if (total >= run && avail >= build)
		return 0;
	snprintf(err, errlen,
		 "not enough memory: the flasher needs about %s of RAM (initramfs %s unpacked, "
		 "kernel, buffers%s) and building it here about %s free; this machine has %s in "
		 "all and %s available",
		 format_bytes(a, sizeof(a), run), format_bytes(b, sizeof(b), unpacked),
		 m->reserve > FLASHER_RUNTIME_RESERVE ? ", room to load the new system" : "",
		 format_bytes(c, sizeof(c), build), format_bytes(d, sizeof(d), total),
		 format_bytes(e, sizeof(e), avail));
	return -ENOMEM;
}

static void print_hold(const struct job *j, const struct hold_keys *h)
{
	char t[32];

	if (j->hold_timeout_ms)
		snprintf(t, sizeof(t), "%llus", (unsigned long long)(j->hold_timeout_ms / 1000));
	printf("  hold:     SSH on port %u as soon as the network is up; %s, then "
	       "'reimage done reboot|poweroff|kexec' ends it%s%s%s\n",
	       j->ssh_port, j->src ? "after the job the flasher holds" : "no job: the flasher holds",
	       j->hold_timeout_ms ? "; with nothing written after " : "; no timeout",
	       j->hold_timeout_ms ? t : "",
	       j->hold_timeout_ms ? " it reboots into this system" : "");
	printf("            %zu authorized key%s (", h->authorized.n, h->authorized.n == 1 ? "" : "s");
	for (size_t i = 0; i < h->authorized.n; i++)
		printf("%s%s", i ? ", " : "",
		       h->authorized.keys[i].comment[0] ? h->authorized.keys[i].comment : "no comment");
	printf(") from %s\n", h->sources);
	for (size_t i = 0; i < h->n_host; i++)
		printf("            host key %s %s (%s)\n", h->host[i].type, h->host[i].fingerprint,
		       h->host_new ? "NEW: this machine has no OpenSSH host key that dropbear can use; "
				     "clients will warn about a changed key"
				   : "converted from OpenSSH: clients see this machine's usual key");
	printf("  then:     hold\n");
}

/* What the plan says, for --json: the same facts as the text plan, in fields a script can
 * read (sizes in bytes, digests in hex, secrets never: the URL is redacted, headers counted). */
struct plan_facts {
	const struct go *g;
	const char *format, *image, *release, *lock, *disk, *net, *cmdline, *sums_origin;
	const struct disk_identity *id;
	const struct flasher_image *img;
	const struct hold_keys *hold;
	const struct identity_collected *idc;
	uint64_t src_size, needed, total;
};

/* The configure step's plan ("new_system"): what goes into the written system, with host key
 * fingerprints and sizes, never a key or a file's contents. */
static void plan_json_new_system(struct json_out *o, const struct job *j,
				 const struct identity_collected *c)
{
	json_out_object(o, "new_system");
	json_out_bool(o, "configure", job_wants_configure(j));
	json_out_array(o, "host_keys");
	for (size_t i = 0; i < j->n_host_keys; i++) {
		json_out_object(o, NULL);
		json_out_str(o, "type", c->host_type[i]);
		json_out_str(o, "fingerprint", c->host_fp[i]);
		json_out_str(o, "from", c->host_dir);
		json_out_close(o);
	}
	json_out_close(o);
	json_out_array(o, "authorized_keys");
	for (size_t i = 0; j->authorized_keys && i < c->authorized.n; i++)
		json_out_str(o, NULL, c->authorized.keys[i].comment);
	json_out_close(o);
	json_out_bool(o, "network", j->keep_network);
	json_out_str(o, "hostname", j->hostname);
	json_out_bool(o, "cloud_init_user_data", j->ci_user_data);
	json_out_bool(o, "cloud_init_meta_data", j->ci_meta_data);
	json_out_array(o, "copies");
	for (size_t i = 0; i < j->n_copies; i++) {
		const char *src = c->copy_src[i] ? c->copy_src[i] : "";
		char path[1024], mode[8];
		snprintf(path, sizeof(path), "%.*s", (int)strcspn(src, ":"), src);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)j->copies[i].mode & 07777);
		json_out_object(o, NULL);
		json_out_str(o, "source", path);
		json_out_str(o, "destination", j->copies[i].dest);
		json_out_str(o, "mode", mode);
		json_out_u64(o, "bytes", identity_copy_len(c, i));
		json_out_close(o);
	}
	json_out_close(o);
	json_out_bool(o, "grow", j->grow);
	json_out_close(o);
}

static void print_plan_json(const struct plan_facts *p)
{
	const struct go *g = p->g;
	const struct job *j = &g->job;
	struct json_out o;
	char hex[65], shown[2048], keyid[17];

	json_out_begin(&o, stdout);
	json_out_str(&o, "command", "go");
	json_out_bool(&o, "dry_run", g->dry_run);
	json_out_object(&o, "source");
	if (j->src) {
		url_redact(j->src, shown, sizeof(shown));
		json_out_str(&o, "url", shown);
		json_out_str(&o, "format", p->format);
		json_out_u64_or_null(&o, "size", p->src_size);
		json_out_str(&o, "image", p->image && p->image[0] ? p->image : NULL);
		json_out_str(&o, "member", j->member);
	} else
		json_out_str(&o, "url", NULL);
	json_out_close(&o);
	json_out_object(&o, "verify");
	if (j->have_sha256)
		hex_encode(j->sha256, 32, hex);
	json_out_str(&o, "sha256", j->have_sha256 ? hex : NULL);
	json_out_str(&o, "sha256_from", !j->have_sha256 ? NULL
					 : !g->sums	 ? "--sha256"
					 : g->sums_sig	 ? "signed checksum list"
							 : "checksum list");
	if (g->sums_sig)
		json_out_str(&o, "signature", p->sums_origin);
	if (j->have_image_sha256)
		hex_encode(j->image_sha256, 32, hex);
	json_out_str(&o, "image_sha256", j->have_image_sha256 ? hex : NULL);
	if (j->have_minisig)
		minisign_keynum_format(j->minisign_key.keynum, keyid);
	json_out_str(&o, "minisign_key", j->have_minisig ? keyid : NULL);
	json_out_bool(&o, "read_back", j->verify);
	json_out_close(&o);
	json_out_u64(&o, "headers", j->n_headers);
	if (g->to) {
		json_out_object(&o, "target");
		json_out_str(&o, "device", g->to);
		json_out_str(&o, "model", p->id->model[0] ? p->id->model : NULL);
		json_out_str(&o, "serial", p->id->serial[0] ? p->id->serial : NULL);
		json_out_str(&o, "wwn", p->id->wwn[0] ? p->id->wwn : NULL);
		json_out_u64(&o, "size", p->id->size);
		json_out_str(&o, "now", p->disk);
		json_out_close(&o);
	} else
		json_out_str(&o, "target", NULL);
	if (g->tls.cacert || g->tls.pin || g->tls.client_cert || g->tls.insecure ||
	    (j->src && strncasecmp(j->src, "https://", 8) == 0)) {
		char tls[1024];
		tls_options_describe(&g->tls, tls, sizeof(tls));
		json_out_object(&o, "tls");
		json_out_str(&o, "summary", tls);
		json_out_bool(&o, "insecure", g->tls.insecure);
		json_out_close(&o);
	}
	json_out_str(&o, "proxy", j->http_proxy || j->https_proxy || g->proxy ? g->proxy_desc : NULL);
	json_out_object(&o, "kernel");
	json_out_str(&o, "path", g->kernel);
	json_out_str(&o, "running", p->release);
	json_out_str(&o, "lockdown", p->lock);
	json_out_close(&o);
	json_out_object(&o, "loader");
	{
		char why[1024];
		const char *name = kexec_loader_describe(why, sizeof(why));
		json_out_str(&o, "syscall", name);
		json_out_str(&o, "why_not", name ? NULL : why);
	}
	json_out_close(&o);
	json_out_object(&o, "flasher");
	json_out_u64(&o, "size", p->img->len);
	json_out_u64(&o, "unpacked", p->img->unpacked);
	json_out_u64(&o, "modules", p->img->n_modules);
	json_out_u64(&o, "job_bytes", p->img->sizes[INITRD_KIND_JOB]);
	json_out_close(&o);
	json_out_object(&o, "memory");
	json_out_u64(&o, "needed", p->needed);
	json_out_u64(&o, "total", p->total);
	json_out_close(&o);
	json_out_str(&o, "network", p->net);
	if (j->src)
		plan_json_new_system(&o, j, p->idc);
	json_out_str(&o, "then", job_then_to_string(j->then));
	if (p->hold) {
		json_out_object(&o, "hold");
		json_out_u64(&o, "ssh_port", j->ssh_port);
		json_out_u64(&o, "timeout_seconds", j->hold_timeout_ms / 1000);
		json_out_u64(&o, "authorized_keys", p->hold->authorized.n);
		json_out_array(&o, "host_keys");
		for (size_t i = 0; i < p->hold->n_host; i++) {
			json_out_object(&o, NULL);
			json_out_str(&o, "type", p->hold->host[i].type);
			json_out_str(&o, "fingerprint", p->hold->host[i].fingerprint);
			json_out_close(&o);
		}
		json_out_close(&o);
		json_out_close(&o);
	}
	json_out_str(&o, "cmdline", p->cmdline);
	json_out_str(&o, "handover", systemd_is_pid1() ? "systemctl kexec" : "sync + reboot(KEXEC)");
	json_out_bool(&o, "loaded", false);
	(void)json_out_end(&o);
}

static int confirm(const char *name)
{
	char answer[128];
	FILE *tty = fopen("/dev/tty", "r+e");
	FILE *in = tty ? tty : stdin;

	if (!name) {
		/* a hold without a target writes nothing itself, but still ends this system */
		fprintf(tty ? tty : stderr,
			"\nThis stops this system and holds in the flasher until an operator ends it. "
			"Type 'hold' to go on: ");
		name = "hold";
	} else
		fprintf(tty ? tty : stderr,
			"\nThis overwrites every byte of /dev/%s. Type the device name (%s) to go on: ",
			name, name);
	fflush(tty ? tty : stderr);
	if (!fgets(answer, sizeof(answer), in)) {
		if (tty)
			fclose(tty);
		return -ECANCELED;
	}
	if (tty)
		fclose(tty);
	answer[strcspn(answer, "\r\n")] = 0;
	if (strcmp(answer, name) != 0 &&
	    !(strncmp(answer, "/dev/", 5) == 0 && strcmp(answer + 5, name) == 0))
		return -ECANCELED;
	return 0;
}

int cmd_go(int argc, char *argv[])
{
	struct go g = { 0 };
	struct flasher_options fo = { 0 };
	struct flasher_image img = { 0 };
	struct disk_identity id = { 0 };
	struct utsname u;
	struct stat st;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[2048] = "", why[1024] = "", lock[64] = "", net[512] = "", cmdline[KEXEC_CMDLINE_MAX] = "";
	char hex[65], sz[32], sz2[32], disk[1024] = "", *name = NULL, sums_origin[1024] = "";
	_cleanup_free_ char *job_text = NULL;
	_cleanup_free_ uint8_t *proc_cmdline = NULL;
	uint8_t head[PROBE_SIZE];
	size_t head_len = 0, len;
	uint64_t src_size = UINT64_MAX, declared, needed, total, kernel_size = 0;
	struct image_probe probe = { .min_size = UINT64_MAX };
	struct memory_budget budget;
	int r, ex = 1, ifd = -1;
	bool loaded = false;
	struct hold_keys *hold = NULL;
	struct identity_collected idc = { 0 };
	struct flasher_secret secrets[IDENTITY_MAX_FILES + 8];
	struct report *report = NULL;

	log_set_prefix("reimage go");
	r = parse_args(argc, argv, &g);
	if (r != 0) {
		ex = r > 0 ? 0 : 2;
		goto out;
	}
	if (geteuid() != 0 && !g.dry_run) {
		log_error("reimage go needs root (it loads a kernel and overwrites a disk); "
			  "--dry-run works without");
		ex = EXIT_MACHINE;
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	uname(&u);

	/* --- kernel --- */
	if (!g.kernel) {
		snprintf(g.kernel_buf, sizeof(g.kernel_buf), "/boot/vmlinuz-%s", u.release);
		g.kernel = g.kernel_buf;
	}
	if (access(g.kernel, R_OK) < 0) {
		log_error("cannot read the kernel %s: %m; give the running kernel's image with --kernel",
			  g.kernel);
		goto out;
	}
	if (lockdown_mode(lock, sizeof(lock)) < 0)
		snprintf(lock, sizeof(lock), "not available");
	if (stat(g.kernel, &st) == 0)
		kernel_size = (uint64_t)st.st_size;

	/* --- target --- */
	if (!g.to)
		goto no_target;
	if (stat(g.to, &st) < 0 || !S_ISBLK(st.st_mode)) {
		log_error("%s is not a block device; name the whole disk, e.g. /dev/sda or /dev/nvme0n1",
			  g.to);
		ex = 6;
		goto out;
	}
	name = strrchr(g.to, '/') ? strrchr(g.to, '/') + 1 : (char *)g.to;
	{
		char real[256];
		snprintf(real, sizeof(real), "/sys/class/block/%s/partition", name);
		if (access(real, F_OK) == 0) {
			log_error("%s is a partition; reimage writes whole disks: name the disk it is on",
				  g.to);
			ex = 6;
			goto out;
		}
	}
	r = disk_identity_read(name, &id);
	if (r < 0) {
		log_error("cannot read what sysfs says about %s: %m", g.to);
		ex = 6;
		goto out;
	}
	/* the flasher finds the same physical disk even if names change after kexec */
	if (id.serial[0])
		g.job.dst_serial = strdup(id.serial);
	else if (id.wwn[0])
		g.job.dst_wwn = strdup(id.wwn);
	else if (id.model[0])
		g.job.dst_model = strdup(id.model);
	g.job.dst_size = id.size;
	describe_disk(name, st.st_rdev, disk, sizeof(disk));
no_target:

	/* --- source --- */
	if (g.job.src) {
		struct source_config sc = { .location = g.job.src, .headers = g.job.headers,
					    .n_headers = g.job.n_headers, .retries = 2,
					    .retry_for_ms = 30000, .connect_timeout_ms = 15000,
					    .stall_timeout_ms = 30000, .low_speed = 1, .tls = g.tls };
		char shown[2048];

		url_redact(g.job.src, shown, sizeof(shown));
		r = source_probe(&sc, head, sizeof(head), &head_len, &src_size, err, sizeof(err));
		if (r < 0) {
			log_error("the source is not reachable from here: %s", err[0] ? err : strerror(-r));
			log_error("nothing was loaded; this system is unchanged");
			ex = 3;
			goto out;
		}
	}
	declared = UINT64_MAX;
	if (g.job.src) {
		/* what the first bytes say: a format that cannot be written, a qcow2's virtual size
		 * and refused features (flash/image-probe.h) */
		r = image_probe(head, head_len, src_size, &probe, why, sizeof(why));
		if (r < 0) {
			log_error("%s; nothing was loaded", why);
			ex = 5;
			goto out;
		}
		declared = probe.min_size;
		if (g.job.member && probe.container != CONTAINER_TAR) {
			log_error("--member %s was given but the image is a %s, not a tar archive; "
				  "nothing was loaded", g.job.member, probe.what);
			ex = 2;
			goto out;
		}
	}
	if (g.job.src && declared != UINT64_MAX && declared > id.size) {
		log_error("the image (%s%s%s) is larger than %s (%s); nothing was loaded",
			  probe.container == CONTAINER_QCOW2 ? "its virtual size " : "at least ",
			  format_bytes(sz, sizeof(sz), declared),
			  probe.container == CONTAINER_QCOW2 ? ", a qcow2" : "", g.to,
			  format_bytes(sz2, sizeof(sz2), id.size));
		ex = 6;
		goto out;
	}
	if (g.sums) {
		struct flash_options o = { .src = g.job.src, .headers = g.job.headers,
					   .n_headers = g.job.n_headers, .retries = 2,
					   .retry_for_ms = 30000, .connect_timeout_ms = 15000,
					   .stall_timeout_ms = 30000, .low_speed = 1, .tls = g.tls };
		uint8_t d[32];
		char *origin = sums_origin;

		ex = sums_lookup(&o, g.sums, g.name, g.sums_sig, g.keyring, d, origin, sizeof(sums_origin), err, sizeof(err));
		if (ex != 0) {
			log_error("%s; nothing was loaded", err);
			goto out;
		}
		if (g.job.have_sha256 && memcmp(d, g.job.sha256, 32) != 0) {
			log_error("--sha256 and the %s disagree; nothing was loaded", origin);
			ex = 4;
			goto out;
		}
		memcpy(g.job.sha256, d, 32);
		g.job.have_sha256 = true;
		ex = 1;
	}
	if (g.minisig || g.pubkey) {
		struct source_config sc = { .location = g.minisig, .retries = 2, .retry_for_ms = 30000,
					    .connect_timeout_ms = 15000, .stall_timeout_ms = 30000,
					    .low_speed = 1, .tls = g.tls };
		_cleanup_free_ char *sigtext = NULL;
		_cleanup_free_ uint8_t *keytext = NULL;
		char sig_shown[2048];
		size_t sl;

		if (g.minisig && url_same_origin(g.minisig, g.job.src)) {
			/* the signature on SRC's own server may need its headers; no other gets them */
			sc.headers = g.job.headers;
			sc.n_headers = g.job.n_headers;
		}
		if (g.minisig && url_is_http(g.minisig))
			url_redact(g.minisig, sig_shown, sizeof(sig_shown));
		else
			snprintf(sig_shown, sizeof(sig_shown), "%s", g.minisig ? g.minisig : "");
		if (!g.minisig || !g.pubkey) {
			log_error("--minisig and --pubkey go together; nothing was loaded");
			ex = 2;
			goto out;
		}
		if (access(g.pubkey, F_OK) == 0) {
			r = read_full_file(g.pubkey, 4096, &keytext, &sl);
			r = r < 0 ? r : minisign_pubkey_parse((char *)keytext, sl, &g.job.minisign_key);
		} else
			r = minisign_pubkey_parse(g.pubkey, strlen(g.pubkey), &g.job.minisign_key);
		if (r < 0) {
			log_error("--pubkey %s is not a minisign public key; nothing was loaded", g.pubkey);
			ex = 2;
			goto out;
		}
		r = source_read_all(&sc, 64U << 10, &sigtext, &sl, err, sizeof(err));
		if (r < 0) {
			log_error("cannot read the signature %s: %s; nothing was loaded", sig_shown,
				  err[0] ? err : strerror(-r));
			ex = url_is_http(g.minisig) ? 3 : 2;
			goto out;
		}
		/* the trusted comment is shown in the plan: only once its global signature holds */
		if (minisign_sig_parse(sigtext, sl, &g.job.minisign_sig) < 0 ||
		    minisign_verify_comment(&g.job.minisign_key, &g.job.minisign_sig, why, sizeof(why)) < 0) {
			log_error("minisign: %s; nothing was loaded",
				  why[0] ? why : "not a minisign signature");
			ex = 4;
			goto out;
		}
		g.job.have_minisig = true;
	}
	if (g.job.src && !g.job.have_sha256 && !g.job.have_image_sha256 && !g.job.have_minisig)
		log_warning("no --sha256, --sums or --image-sha256: the flasher will write whatever "
			    "the server sends");

	/* --- network --- */
	if (g.carry) {
		r = net_carry_collect(&g.job, net, sizeof(net));
		if (r == -EPROTONOSUPPORT) {
			log_error("cannot carry this system's network to the flasher: %s; the flasher "
				  "rebuilds only VLANs (802.1Q), bonds (active-backup, 802.3ad) and "
				  "bridges; use --no-carry-network if DHCP or SLAAC on the bare NIC "
				  "reaches the source; nothing was loaded",
				  net);
			ex = 2;
			goto out;
		}
		if (r < 0) {
			snprintf(net, sizeof(net), "DHCP, SLAAC and DHCPv6 (%s)",
				 r == -ENETUNREACH ? "no default route here to carry over"
						   : "this system's configuration could not be read");
			g.job.n_addresses = 0;
			g.job.n_links = 0;
		} else
			strncat(net, " (carried over; DHCP as a fallback)", sizeof(net) - strlen(net) - 1);
	} else
		snprintf(net, sizeof(net), "DHCP, SLAAC and DHCPv6 (--no-carry-network)");

	/* --- the new system's identity: keys, name, network, files --- */
	if (identity_options_any(&g.ido)) {
		r = identity_collect(&g.ido, &g.job, &idc, err, sizeof(err));
		if (r < 0) {
			log_error("%s; nothing was loaded", err);
			ex = 2;
			goto out;
		}
	}

	/* --- hold: who may log in, and the machine's own SSH identity --- */
	if (g.job.hold) {
		hold = calloc(1, sizeof(*hold));
		if (!hold)
			goto out;
		r = hold_keys_collect(hold, g.key_files, g.n_key_files, err, sizeof(err));
		if (r < 0) {
			log_error("%s; nothing was loaded", err);
			ex = r == -ENOKEY || r == -ENOENT ? 2 : 1;
			goto out;
		}
	}

	/* --- reports: the flasher's go in the job; this machine's plan and hand-over from here */
	if (report_options_go(&g.report, &g.tls, &g.job, &report) < 0)
		goto out;

	/* --- the flasher --- */
	r = job_format(&g.job, &job_text);
	if (r < 0)
		goto out;
	fo = (struct flasher_options){
		.binary = "/proc/self/exe",
		.sysroot = "/",
		.kver = u.release,
		.modules = MODULES_HOST,
		.extra_modules = g.modules,
		.n_extra_modules = g.n_modules,
		/* also to mount the new system and configure it */
		.fs_modules = job_may_boot_new_system(&g.job) || job_wants_configure(&g.job),
		.job_text = job_text,
		.compression = INITRD_COMPRESSION_ZSTD,
		.hold_tools = g.job.hold,
	};
	if (hold)
		fo.n_secrets = hold_keys_secrets(hold, &fo.secrets);
	if (idc.n_files) {
		/* one job archive: the hold's files and the new system's */
		for (size_t i = 0; i < fo.n_secrets && i < 8; i++)
			secrets[i] = fo.secrets[i];
		memcpy(secrets + fo.n_secrets, idc.files, idc.n_files * sizeof(idc.files[0]));
		fo.n_secrets += idc.n_files;
		fo.secrets = secrets;
	}
	{
		char moddir[600];
		snprintf(moddir, sizeof(moddir), "/lib/modules/%s", u.release);
		if (access(moddir, F_OK) < 0 && g.n_modules == 0) {
			/* a kernel with every driver built in (or its modules not installed) */
			log_warning("%s does not exist: the flasher gets no modules and relies on the "
				    "drivers built into the kernel",
				    moddir);
			fo.modules = MODULES_NONE;
		}
	}
	fo.before_build = check_memory;
	budget = (struct memory_budget){
		.kernel_size = kernel_size,
		.reserve = FLASHER_RUNTIME_RESERVE +
			   (job_may_boot_new_system(&g.job) ? NEW_SYSTEM_RESERVE : 0),
	};
	fo.userdata = &budget;
	r = flasher_build(&fo, &img, err, sizeof(err));
	if (r == -ENOMEM && err[0]) {
		log_error("%s; nothing was loaded", err);
		ex = EXIT_MACHINE;
		goto out;
	}
	if (r < 0) {
		log_error("cannot build the flasher: %s; nothing was loaded", err);
		goto out;
	}

	total = meminfo("MemTotal");
	needed = img.unpacked + img.len + kernel_size * 4 + budget.reserve;

	/* --- command line: the running kernel's consoles and hardware settings, panic=10, freed
	 * pages cleared --- */
	if (read_full_file("/proc/cmdline", 65536, &proc_cmdline, &len) == 0) {
		proc_cmdline[strcspn((char *)proc_cmdline, "\n")] = 0;
		(void)cmdline_carry((char *)proc_cmdline, cmdline, sizeof(cmdline));
	}
	/* every flasher log line in dmesg too (not rate-limited) */
	strncat(cmdline, "panic=10 init_on_free=1 printk.devkmsg=on", sizeof(cmdline) - strlen(cmdline) - 1);

	/* --- the plan --- */
	if (g.json) {
		struct plan_facts pf = {
			.g = &g, .format = compression_name(compression_detect(head, head_len)),
			.image = probe.what,
			.release = u.release, .lock = lock, .disk = disk, .net = net,
			.cmdline = cmdline, .sums_origin = sums_origin, .id = &id, .img = &img,
			.hold = hold, .idc = &idc, .src_size = src_size, .needed = needed,
			.total = total,
		};
		print_plan_json(&pf);
	} else {
		printf("reimage go: plan\n");
		if (!g.job.src)
			printf("  source:   none: the flasher holds, and the operator writes over SSH "
			       "(reimage flash SRC DISK)\n");
		else {
			char shown[2048];
			url_redact(g.job.src, shown, sizeof(shown));
			printf("  source:   %s (%s, %s)\n", shown, compression_name(compression_detect(head, head_len)),
			       src_size != UINT64_MAX ? format_bytes(sz, sizeof(sz), src_size) : "size unknown");
			if (probe.what[0])
				printf("  image:    %s%s%s\n", probe.what, g.job.member ? ", member " : "",
				       g.job.member ? g.job.member : "");
		}
		if (g.job.have_sha256) {
			hex_encode(g.job.sha256, 32, hex);
			printf("  verify:   SHA-256 %s%s\n", hex, !g.sums ? "" : g.sums_sig ? " (from the checksum list, its signature checked)" : " (from the checksum list)");
			if (g.sums_sig)
				printf("            %s\n", sums_origin);
		}
		if (g.job.have_image_sha256) {
			hex_encode(g.job.image_sha256, 32, hex);
			printf("  verify:   image SHA-256 %s\n", hex);
		}
		if (g.job.have_minisig) {
			char keyid[17], comment[4 * MINISIGN_COMMENT_MAX + 1];
			minisign_keynum_format(g.job.minisign_key.keynum, keyid);
			escape_controls(g.job.minisign_sig.trusted_comment, comment, sizeof(comment));
			printf("  verify:   minisign signature by key %s (trusted comment, verified: \"%s\")\n",
			       keyid, comment);
		}
		if (g.job.n_headers)
			printf("  headers:  %zu (values: ***)\n", g.job.n_headers);
		if ((g.job.src && strncasecmp(g.job.src, "https://", 8) == 0) || g.tls.cacert || g.tls.pin ||
		    g.tls.client_cert || g.tls.insecure) {
			char tls[1024];
			tls_options_describe(&g.tls, tls, sizeof(tls));
			printf("  tls:      %s\n", tls);
			if (g.tls.insecure)
				printf("            WARNING: %s\n", TLS_INSECURE_WARNING);
		}
		if (g.job.http_proxy || g.job.https_proxy || g.proxy)
			printf("  proxy:    %s\n", g.proxy_desc);
		if (g.to) {
			printf("  target:   %s: %s%s%s, serial %s%s%s\n", g.to,
			       id.model[0] ? id.model : "unknown model", ", ",
			       format_bytes(sz, sizeof(sz), id.size), id.serial[0] ? id.serial : "none",
			       id.wwn[0] ? ", WWN " : "", id.wwn);
			printf("            %s\n", disk);
		}
		printf("  kernel:   %s (running %s), lockdown %s%s\n", g.kernel, u.release, lock,
		       strcmp(lock, "none") && strcmp(lock, "not available")
			       ? ": the distribution-signed kernel loads; an unsigned one will be refused"
			       : "");
		print_kexec_loader("  loader:   ");
		printf("  flasher:  %s (%s unpacked), %zu modules (loaded now), job %llu bytes (0600)\n",
		       format_bytes(sz, sizeof(sz), img.len), format_bytes(sz2, sizeof(sz2), img.unpacked),
		       img.n_modules, (unsigned long long)img.sizes[INITRD_KIND_JOB]);
		printf("  memory:   needs about %s, %s in all\n", format_bytes(sz, sizeof(sz), needed),
		       format_bytes(sz2, sizeof(sz2), total));
		printf("  network:  %s\n", net);
		if (g.job.src)
			identity_print_plan(stdout, &g.job, &idc);
		if (hold)
			print_hold(&g.job, hold);
		else
			printf("  then:     %s\n", g.job.then == JOB_THEN_KEXEC
							 ? "kexec into the new system (reboot if it has nothing bootable)"
							 : job_then_to_string(g.job.then));
		printf("  command line: %s\n", cmdline);
		printf("  hand-over: %s\n", systemd_is_pid1() ? "systemctl kexec" : "sync + reboot(KEXEC)");
	}
	fflush(stdout);

	if (g.save) {
		/* it holds the job's secrets: a new file renamed into place, never one that exists */
		r = write_file_replace(g.save, 0600, img.data, img.len);
		if (r < 0) {
			log_error_errno(r, "cannot write --save-initrd %s: %m", g.save);
			goto out;
		}
		fprintf(g.json ? stderr : stdout, "  saved the flasher to %s (mode 0600: it holds the job)\n",
			g.save);
	}
	report_options_plan(report, &g.job, g.dry_run, net);
	if (g.dry_run) {
		fprintf(g.json ? stderr : stdout, "dry run: nothing was loaded (kexec_loaded: %d)\n",
			kexec_loaded());
		ex = 0;
		goto out;
	}
	if (!g.yes && confirm(name) < 0) {
		log_error("not confirmed; nothing was loaded");
		ex = 1;
		goto out;
	}
	if (interrupted) {
		log_error("interrupted; nothing was loaded");
		ex = exit_code_for_signal(interrupted);
		goto out;
	}

	/* --- load last, unload on every way out --- */
	ifd = memfd_sealed("reimage-flasher", img.data, img.len);
	if (ifd < 0) {
		log_error_errno(ifd, "cannot put the flasher in memory: %m");
		goto out;
	}
	r = kexec_load(g.kernel, ifd, cmdline, why, sizeof(why));
	if (r < 0) {
		log_error("%s; nothing was loaded", why);
		/* as a bundle says it: this kernel or its settings do not allow a kexec */
		ex = r == -EPERM || r == -ENOSYS ? EXIT_MACHINE : EXIT_FAILED;
		goto out;
	}
	loaded = true;
	if (interrupted) {
		log_error("interrupted");
		ex = exit_code_for_signal(interrupted);
		goto out;
	}
	fprintf(g.json ? stderr : stdout, "loaded the flasher; handing over to it now\n");
	fflush(stdout);
	report_event(report, "handing-over", "\"via\":\"%s\"",
		     systemd_is_pid1() ? "systemctl kexec" : "reboot(KEXEC)");
	report_finish(report); /* the last events, up to 10 s: the network goes down next */
	report = NULL;
	r = kexec_exec(why, sizeof(why));
	if (r < 0) {
		log_error("%s", why);
		goto out;
	}
	/* with systemd, the shutdown is on its way; the flasher must stay loaded */
	loaded = false;
	ex = 0;
out:
	if (loaded) {
		if (kexec_unload(why, sizeof(why)) < 0)
			log_error("%s; a reboot would now start the flasher: run 'reimage kexec --unload'",
				  why);
		else
			log_error("the flasher was unloaded; this system is unchanged");
	}
	if (report && ex != 0)
		report_options_result(report, ex, "reimage go stopped before the hand-over; this "
					      "system is unchanged", "exit", NULL);
	report_finish(report);
	report_options_done(&g.report);
	safe_close(ifd);
	flasher_image_done(&img);
	if (job_text)
		explicit_bzero(job_text, strlen(job_text));
	job_done(&g.job);
	if (hold) {
		hold_keys_done(hold);
		free(hold);
	}
	identity_collected_done(&idc);
	log_forget_secrets();
	return ex;
}
