// SPDX-License-Identifier: GPL-2.0-or-later
/* reimage bundle: one executable file (static loader + kernel + flasher + job) that reimages
 * the machine it is run on, or a look inside one without running it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/exit-codes.h"
#include "basic/file-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "bundle/reader.h"
#include "cmd/commands.h"
#include "cmd/flasher-args.h"
#include "cmd/json-out.h"
#include "crypto/digest.h"
#include "flash/image-probe.h"
#include "flash/source.h"
#include "format/bundle.h"
#include "format/arm64-image.h"
#include "format/elf.h"
#include "format/url.h"
#include "initrd/flasher.h"

#define LOADER_NAME "reimage-bundle-loader"
#define LOADER_MAX (16U << 20)
#define PAGE 4096

static void help(void)
{
	printf("Usage: reimage bundle -o FILE --src URL --dst DEV [OPTIONS]\n"
	       "       reimage bundle --info FILE\n"
	       "\n"
	       "Write one executable file that reimages the machine it runs on: a static loader,\n"
	       "a kernel, the flasher and its job. Run as root on any x86_64 Linux with\n"
	       "kexec_file_load (nothing else needed there), it checks its own SHA-256, shows the\n"
	       "plan and the target disk it finds, asks for the device name (or --yes), then\n"
	       "kexecs into the flasher. FILE --info (or reimage bundle --info FILE, which does\n"
	       "not run it) shows what is inside.\n"
	       "\n"
	       "  -o, --output FILE         write the bundle here (mode 0755; 0700 when the job\n"
	       "                            holds secrets)\n"
	       "      --info FILE           verify a bundle and print what is inside, without\n"
	       "                            running it\n"
	       "      --json                with --info: one JSON object (sections, target, plan)\n"
	       "      --kernel PATH         the kernel to carry (default /boot/vmlinuz-$(uname -r));\n"
	       "                            its modules come from --sysroot\n"
	       "      --append ARGS         more kernel command line for the flasher (repeatable)\n"
	       "      --loader PATH         the static loader (default: next to this binary, or in\n"
	       "                            " REIMAGE_LIBEXECDIR ")\n"
	       FLASHER_ARGS_HELP("from the kernel file",
				 "net-storage (the target's hardware is not known here)")
	       "  -h, --help  -V, --version\n"
	       "\n"
	       "The kernel version comes from the kernel file itself; the target is named by the\n"
	       "job's dst, and the flasher gets its network by DHCP. See 'man reimage-bundle'.\n");
}

enum {
	OPT_INFO = 0x100,
	OPT_KERNEL,
	OPT_APPEND,
	OPT_LOADER,
	OPT_JSON,
};

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "info", required_argument, NULL, OPT_INFO },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "loader", required_argument, NULL, OPT_LOADER },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "version", no_argument, NULL, 'V' },
	FLASHER_ARGS_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{}
};

static void digest_cb_update(void *ctx, const uint8_t *buf, size_t n)
{
	(void)digest_update(ctx, buf, n);
}

static void digest_cb_final(void *ctx, uint8_t out[32])
{
	if (digest_final(ctx, out, 32) < 0)
		memset(out, 0, 32); /* cannot match a real digest */
}

static int do_info(const char *path, bool json)
{
	_cleanup_(digest_freep) struct digest *d = NULL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct bundle_contents c;
	struct bundle_hash h = { NULL, digest_cb_update, digest_cb_final };
	char why[1024], hex[65], sz[32];
	int r;

	if (fd < 0)
		return log_error_errno(negative_errno(), "cannot open %s: %m", path), 1;
	if (digest_new_sha256(&d) < 0)
		return log_error("out of memory"), 1;
	h.ctx = d;
	r = bundle_read(fd, &h, -1, -1, &c, why, sizeof(why));
	if (r < 0) {
		log_error("%s: %s", path, why);
		return EXIT_DATA;
	}
	hex_encode(c.trailer.sha256, 32, hex);
	if (json) {
		static const char *const names[] = { [BUNDLE_KERNEL] = "kernel",
						     [BUNDLE_INITRD] = "flasher",
						     [BUNDLE_META] = "meta",
						     [BUNDLE_INFO] = "info",
						     [BUNDLE_CMDLINE] = "cmdline" };
		struct json_out o;

		json_out_begin(&o, stdout);
		json_out_str(&o, "file", path);
		json_out_u64(&o, "size", c.trailer.file_size);
		json_out_str(&o, "contents_sha256", hex);
		json_out_bool(&o, "verified", true);
		json_out_object(&o, "sections");
		json_out_u64(&o, "loader", c.trailer.loader_size);
		for (size_t i = 0; i < ELEMENTSOF(names); i++)
			if (names[i])
				json_out_u64(&o, names[i], c.trailer.length[i]);
		json_out_close(&o);
		json_out_str(&o, "kernel_version", c.meta.kernel_version);
		json_out_object(&o, "target");
		json_out_str(&o, "device", c.meta.dst);
		json_out_str(&o, "serial", c.meta.dst_serial[0] ? c.meta.dst_serial : NULL);
		json_out_str(&o, "wwn", c.meta.dst_wwn[0] ? c.meta.dst_wwn : NULL);
		json_out_str(&o, "model", c.meta.dst_model[0] ? c.meta.dst_model : NULL);
		json_out_u64_or_null(&o, "size", c.meta.dst_size ? c.meta.dst_size : UINT64_MAX);
		json_out_close(&o);
		json_out_bool(&o, "secrets", c.meta.secrets);
		json_out_str(&o, "cmdline", c.cmdline);
		json_out_str(&o, "plan", c.info); /* the text the bundle shows when run */
		r = json_out_end(&o);
		bundle_contents_done(&c);
		return r < 0 ? EXIT_FAILED : EXIT_OK;
	}
	fputs(c.info, stdout);
	printf("  file:     %s, contents SHA-256 %s (verified)\n",
	       format_bytes(sz, sizeof(sz), c.trailer.file_size), hex);
	printf("  sections: loader %llu, kernel %llu, flasher %llu, meta %llu, info %llu, command "
	       "line %llu bytes\n",
	       (unsigned long long)c.trailer.loader_size,
	       (unsigned long long)c.trailer.length[BUNDLE_KERNEL],
	       (unsigned long long)c.trailer.length[BUNDLE_INITRD],
	       (unsigned long long)c.trailer.length[BUNDLE_META],
	       (unsigned long long)c.trailer.length[BUNDLE_INFO],
	       (unsigned long long)c.trailer.length[BUNDLE_CMDLINE]);
	bundle_contents_done(&c);
	return 0;
}

/* The static loader: --loader, else next to this binary (the build tree), else libexecdir. */
#define EM_X86_64_ 62
#define EM_AARCH64_ 183

/* The machine a kernel runs on, by its header: a bzImage is x86_64; an arm64 Image (as it is,
 * gzip'd or EFI zboot: the loader unwraps those) is arm64. Its release into kver when the
 * kernel says it ("" when only --kernel-version can). EM_* or -ENOEXEC / -EPROTONOSUPPORT. */
static int kernel_machine(const uint8_t *k, size_t len, char *kver, size_t kverlen)
{
	enum kernel_wrapper w;
	struct arm64_image img;
	int r = bundle_kernel_probe(k, len, kver, kverlen);

	if (r == 0)
		return EM_X86_64_;
	if (r != -ENOEXEC)
		return r;
	if (kernel_wrapper_detect(k, len, &w, NULL, NULL, NULL, 0) < 0)
		return -ENOEXEC;
	kver[0] = 0;
	if (w == KERNEL_WRAPPER_NONE) {
		r = arm64_image_parse(k, len, &img);
		if (r < 0)
			return r == -ENOEXEC ? -ENOEXEC : -EPROTONOSUPPORT;
		if (arm64_image_release(k, len, kver, kverlen) < 0)
			kver[0] = 0;
	}
	return EM_AARCH64_;
}

static int find_loader(const char *given, int machine, uint8_t **ret, size_t *ret_len, char *path,
		       size_t n)
{
	char self[PATH_MAX], tried[3 * PATH_MAX] = "";
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *candidates[3];
	char c0[PATH_MAX + 64], c1[PATH_MAX + 64];
	size_t k = 0;
	struct elf_info *info;
	int r;

	if (given)
		candidates[k++] = given;
	else {
		if (l > 0) {
			self[l] = 0;
			snprintf(c0, sizeof(c0), "%s/" LOADER_NAME, dirname(self));
			candidates[k++] = c0;
			snprintf(c1, sizeof(c1), "%s/../libexec/reimage/" LOADER_NAME, self);
			candidates[k++] = c1;
		}
		candidates[k++] = REIMAGE_LIBEXECDIR "/" LOADER_NAME;
	}
	for (size_t i = 0; i < k; i++) {
		r = read_full_file(candidates[i], LOADER_MAX, ret, ret_len);
		if (r == 0) {
			snprintf(path, n, "%s", candidates[i]);
			break;
		}
		if (given)
			return log_error_errno(r, "cannot read --loader %s: %m", given);
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s", i ? ", " : "",
			 candidates[i]);
	}
	if (r < 0) {
		log_error("cannot find the bundle loader (%s); looked at %s: build it with reimage "
			  "(meson compile) or give --loader PATH",
			  LOADER_NAME, tried);
		return r;
	}
	/* a dynamic loader would need a libc on the target that may not be there */
	info = malloc(sizeof(*info));
	if (!info)
		return log_error_errno(-ENOMEM, "out of memory");
	r = elf_parse(*ret, *ret_len, info);
	if (r != 0 || info->machine != machine) {
		if (r == 0 && (info->machine == EM_X86_64_ || info->machine == EM_AARCH64_))
			log_error("%s is a loader for %s, but the kernel is for %s: give the loader "
				  "of the kernel's machine with --loader (the arm64 one is "
				  "build-arm64/reimage-bundle-loader, made by scripts/build-arm64)",
				  path, info->machine == EM_AARCH64_ ? "arm64" : "x86_64",
				  machine == EM_AARCH64_ ? "arm64" : "x86_64");
		else
			log_error("%s is not a static %s program: not a bundle loader", path,
				  machine == EM_AARCH64_ ? "arm64" : "x86_64");
		free(info);
		free(*ret);
		*ret = NULL;
		return -ENOEXEC;
	}
	free(info);
	return 0;
}

/* What the source's first bytes say, read now (the bundle's loader has no network): a format
 * or qcow2 feature the flasher would refuse stops the build; a qcow2's virtual size goes into
 * the meta for the loader to check against the disk. A source not reachable from here is only
 * a warning: the machine the bundle runs on may see networks this one does not. */
static int bundle_probe_image(const struct flasher_args *a, uint64_t *ret_min)
{
	struct source_config sc = { .location = a->job.src, .headers = a->job.headers,
				    .n_headers = a->job.n_headers, .retries = 0,
				    .retry_for_ms = 5000, .connect_timeout_ms = 5000,
				    .stall_timeout_ms = 15000, .low_speed = 1, .tls = a->tls };
	_cleanup_free_ uint8_t *head = malloc(64U << 10);
	struct image_probe p;
	uint64_t size = UINT64_MAX;
	char err[1024] = "", why[1024];
	size_t n = 0;
	int r;

	*ret_min = 0;
	if (!a->job.src)
		return 0;
	if (!head)
		return -ENOMEM;
	r = source_probe(&sc, head, 64U << 10, &n, &size, err, sizeof(err));
	if (r < 0) {
		log_warning("could not read the image from here (%s); its format and size are checked "
			    "by the flasher only", err[0] ? err : strerror(-r));
		return 0;
	}
	r = image_probe(head, n, size, &p, why, sizeof(why));
	if (r < 0) {
		log_error("%s; no bundle was written", why);
		return r;
	}
	if (a->job.member && p.container != CONTAINER_TAR) {
		log_error("--member %s was given but the image is a %s, not a tar archive; no bundle "
			  "was written", a->job.member, p.what);
		return -EINVAL;
	}
	log_info("image: %s", p.what);
	if (p.min_size != UINT64_MAX)
		*ret_min = p.min_size;
	return 0;
}

static int make_info(const struct flasher_args *a, const char *kernel, uint64_t kernel_size,
		     const struct flasher_image *img, const char *append, char **ret)
{
	const struct job *j = &a->job;
	_cleanup_free_ char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	char shown[2048], hex[65], x[32], y[32];

	if (!f)
		return -ENOMEM;
	url_redact(j->src, shown, sizeof(shown));
	fprintf(f, "reimage bundle (made by reimage %s): plan\n", REIMAGE_VERSION);
	fprintf(f, "  source:   %s\n", shown);
	if (j->have_sha256) {
		hex_encode(j->sha256, 32, hex);
		fprintf(f, "  verify:   SHA-256 %s\n", hex);
	}
	if (j->have_image_sha256) {
		hex_encode(j->image_sha256, 32, hex);
		fprintf(f, "  verify:   image SHA-256 %s\n", hex);
	}
	if (j->have_minisig) {
		char keyid[17];
		minisign_keynum_format(j->minisign_key.keynum, keyid);
		fprintf(f, "  verify:   minisign signature by key %s\n", keyid);
	}
	if (!j->have_sha256 && !j->have_image_sha256 && !j->have_minisig)
		fprintf(f, "  verify:   nothing: the flasher writes whatever the server sends\n");
	if (j->verify)
		fprintf(f, "            and reads everything back after writing\n");
	if (j->n_headers)
		fprintf(f, "  headers:  %zu (values: ***)\n", j->n_headers);
	fprintf(f, "  target:   %s", j->dst);
	if (j->dst_serial)
		fprintf(f, ", serial %s", j->dst_serial);
	if (j->dst_wwn)
		fprintf(f, ", WWN %s", j->dst_wwn);
	if (j->dst_model)
		fprintf(f, ", model %s", j->dst_model);
	if (j->dst_size)
		fprintf(f, ", %s", format_bytes(x, sizeof(x), j->dst_size));
	fprintf(f, "\n");
	if (j->tls_insecure)
		fprintf(f, "  tls:      VERIFICATION OFF (tls-insecure): anyone on the network path can "
			   "serve a forged image\n");
	else if (j->tls_cacert || j->tls_pin || j->tls_client_cert)
		fprintf(f, "  tls:      %s%s%s\n",
			j->tls_cacert ? "the job's CA certificates" : "the carried CA bundle",
			j->tls_pin ? ", public key pinned" : "",
			j->tls_client_cert ? ", a client certificate (key ***)" : "");
	fprintf(f, "  then:     %s\n", job_then_to_string(j->then));
	if (j->n_addresses) {
		char ip[64];
		job_ip_format(&j->addresses[0], true, ip, sizeof(ip));
		fprintf(f, "  network:  static %s%s%s\n", ip, j->n_addresses > 1 ? " and more" : "",
			j->dhcp_fallback ? " (DHCP as a fallback)" : "");
	} else
		fprintf(f, "  network:  DHCPv4 on every Ethernet link with carrier, and IPv6 SLAAC\n");
	fprintf(f, "  kernel:   %s, %s\n", kernel, format_bytes(x, sizeof(x), kernel_size));
	fprintf(f, "  flasher:  %s %s (%s unpacked), %zu modules (%s), job %llu bytes (mode 0600 "
		   "inside)\n",
		format_bytes(x, sizeof(x), img->len), initrd_compression_to_string(a->o.compression),
		format_bytes(y, sizeof(y), img->unpacked), img->n_modules,
		a->o.modules == MODULES_HOST	       ? "those loaded where it was built"
		: a->o.modules == MODULES_NET_STORAGE ? "network and storage drivers"
		: a->n_extra			       ? "those named with --add-module"
						       : "none",
		(unsigned long long)img->sizes[INITRD_KIND_JOB]);
	if (append[0])
		fprintf(f, "  command line additions: %s\n", append);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

int cmd_bundle(int argc, char *argv[])
{
	struct flasher_args a;
	struct flasher_image img = { 0 };
	struct bundle_trailer t = { 0 };
	struct bundle_meta m = { 0 };
	_cleanup_(digest_freep) struct digest *d = NULL;
	_cleanup_free_ uint8_t *loader = NULL, *kernel = NULL;
	_cleanup_free_ char *info = NULL, *append = NULL;
	const char *output = NULL, *kernel_path = NULL, *loader_arg = NULL, *info_path = NULL;
	bool json = false;
	char err[1024] = "", kver[128], kernel_buf[300], loader_path[PATH_MAX + 64], meta[2048];
	char x[32], y[32], z[32], hex[65];
	uint8_t tail[BUNDLE_TRAILER_SIZE], file_sha[32];
	static const uint8_t zeros[PAGE];
	size_t loader_len = 0, kernel_len = 0, append_len = 0, pad;
	int machine;
	int c, r, ex = 2, meta_len;

	log_set_prefix("reimage bundle");
	flasher_args_init(&a);
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:hV", options, NULL)) >= 0) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_INFO: info_path = optarg; break;
		case OPT_JSON: json = true; break;
		case 'V': ex = command_version(); goto out;
		case OPT_KERNEL: kernel_path = optarg; break;
		case OPT_LOADER: loader_arg = optarg; break;
		case OPT_APPEND: {
			size_t n = strlen(optarg);
			char *ns;
			if (strpbrk(optarg, "\n\r")) {
				log_error("--append: the command line must be on one line");
				goto out;
			}
			ns = realloc(append, append_len + n + 2);
			if (!ns) {
				log_error("out of memory");
				goto out;
			}
			append = ns;
			if (append_len)
				append[append_len++] = ' ';
			memcpy(append + append_len, optarg, n + 1);
			append_len += n;
			break;
		}
		case 'h': help(); ex = 0; goto out;
		default:
			r = flasher_args_option(&a, c, optarg);
			if (r < 0)
				goto out;
			if (r == 0) {
				log_error("run 'reimage bundle --help' for the options");
				goto out;
			}
		}
	}
	if (info_path) {
		if (output || optind != argc) {
			log_error("--info FILE only reads a bundle: it goes with no -o and no arguments");
			goto out;
		}
		flasher_args_done(&a);
		return do_info(info_path, json);
	}
	if (json) {
		log_error("--json goes with --info FILE (building a bundle prints a short report)");
		goto out;
	}
	if (optind != argc) {
		log_error("unexpected argument '%s'; run 'reimage bundle --help'", argv[optind]);
		goto out;
	}
	if (!output) {
		log_error("missing -o FILE (or --info FILE)");
		goto out;
	}
	if (append_len > BUNDLE_CMDLINE_MAX) {
		log_error("--append: %zu bytes of command line, at most %d fit", append_len,
			  BUNDLE_CMDLINE_MAX);
		goto out;
	}

	/* --- the kernel: its own header says what it is --- */
	if (!kernel_path) {
		snprintf(kernel_buf, sizeof(kernel_buf), "/boot/vmlinuz-%s", a.running);
		kernel_path = kernel_buf;
	}
	r = read_full_file(kernel_path, BUNDLE_KERNEL_MAX, &kernel, &kernel_len);
	if (r < 0) {
		log_error_errno(r, "cannot read the kernel %s: %m%s", kernel_path,
				r == -EFBIG ? " (over 512 MiB)" : "; give one with --kernel");
		ex = 1;
		goto out;
	}
	machine = kernel_machine(kernel, kernel_len, kver, sizeof(kver));
	if (machine == -ENOEXEC || machine == -EBADMSG) {
		log_error("%s is neither an x86 bzImage nor an arm64 Image; a bundle carries a "
			  "kernel that kexec can load (e.g. /boot/vmlinuz-VERSION)",
			  kernel_path);
		ex = 1;
		goto out;
	}
	if (machine < 0) {
		log_error("%s is a kernel that kexec refuses (x86: it needs boot protocol 2.12 or "
			  "later, a 64-bit kernel loadable above 4 GiB; arm64: a little-endian "
			  "Image from Linux 3.17 or later)",
			  kernel_path);
		ex = 1;
		goto out;
	}
	if (!kver[0] && !a.kver_set) {
		log_error("%s does not say its release (a compressed arm64 kernel): give "
			  "--kernel-version", kernel_path);
		ex = 2;
		goto out;
	}
	if (!a.kver_set)
		a.o.kver = kver;
	else if (kver[0] && strcmp(a.o.kver, kver) != 0) {
		log_error("--kernel-version %s, but %s says it is %s: modules must match the kernel",
			  a.o.kver, kernel_path, kver);
		goto out;
	}
	a.no_hold = true; /* the SSH host keys here are not those of the machine it runs on */
	if (flasher_args_finish(&a, false) < 0)
		goto out;
	if (!a.have_job) {
		log_error("a bundle needs a job: --src URL --dst DEVICE (and --sha256 HEX), or "
			  "--job FILE");
		goto out;
	}
	if (a.o.modules != MODULES_NONE || a.n_extra) {
		char moddir[PATH_MAX];
		snprintf(moddir, sizeof(moddir), "%s/lib/modules/%s", a.o.sysroot, a.o.kver);
		if (access(moddir, F_OK) < 0) {
			log_error("%s does not exist: the modules of kernel %s are not there; give "
				  "--sysroot DIR where they are installed, or --modules none when every "
				  "driver the flasher needs is built into the kernel",
				  moddir, a.o.kver);
			ex = 1;
			goto out;
		}
	}
	r = find_loader(loader_arg, machine, &loader, &loader_len, loader_path, sizeof(loader_path));
	if (r < 0) {
		ex = 1;
		goto out;
	}

	/* --- the flasher --- */
	r = flasher_build(&a.o, &img, err, sizeof(err));
	if (r < 0) {
		log_error("cannot build the flasher: %s", err);
		ex = 1;
		goto out;
	}
	if (img.len > BUNDLE_INITRD_MAX) {
		log_error("the flasher is %s, over the %s a bundle can carry; use fewer modules",
			  format_bytes(x, sizeof(x), img.len), format_bytes(y, sizeof(y), BUNDLE_INITRD_MAX));
		ex = 1;
		goto out;
	}

	/* --- meta and info --- */
	snprintf(m.kernel_version, sizeof(m.kernel_version), "%s", a.o.kver);
	if (strlen(a.job.dst) >= sizeof(m.dst) || strncmp(a.job.dst, "/dev/", 5) != 0 ||
	    !a.job.dst[5]) {
		log_error("the job's dst '%s' must be a device path such as /dev/sda (under %zu "
			  "bytes): the bundle checks for it on the machine it runs on",
			  a.job.dst, sizeof(m.dst));
		goto out;
	}
	snprintf(m.dst, sizeof(m.dst), "%s", a.job.dst);
	snprintf(m.dst_serial, sizeof(m.dst_serial), "%s", a.job.dst_serial ? a.job.dst_serial : "");
	snprintf(m.dst_wwn, sizeof(m.dst_wwn), "%s", a.job.dst_wwn ? a.job.dst_wwn : "");
	snprintf(m.dst_model, sizeof(m.dst_model), "%s", a.job.dst_model ? a.job.dst_model : "");
	m.dst_size = a.job.dst_size;
	if (bundle_probe_image(&a, &m.image_size) < 0)
		goto out;
	m.secrets = a.secrets;
	meta_len = bundle_meta_format(&m, meta, sizeof(meta));
	if (meta_len < 0 || bundle_meta_parse(meta, (size_t)meta_len, &m) < 0) {
		log_error("the target's identity in the job does not fit a bundle (a value too long "
			  "or with control characters)");
		goto out;
	}
	r = make_info(&a, a.o.kver, kernel_len, &img, append ? append : "", &info);
	if (r < 0) {
		log_error("out of memory");
		ex = 1;
		goto out;
	}

	/* --- layout: loader, pad to a page, kernel, flasher, meta, info, command line --- */
	pad = (PAGE - loader_len % PAGE) % PAGE;
	t.loader_size = loader_len;
	t.offset[BUNDLE_KERNEL] = loader_len + pad;
	t.length[BUNDLE_KERNEL] = kernel_len;
	t.offset[BUNDLE_INITRD] = t.offset[BUNDLE_KERNEL] + kernel_len;
	t.length[BUNDLE_INITRD] = img.len;
	t.offset[BUNDLE_META] = t.offset[BUNDLE_INITRD] + img.len;
	t.length[BUNDLE_META] = (uint64_t)meta_len;
	t.offset[BUNDLE_INFO] = t.offset[BUNDLE_META] + (uint64_t)meta_len;
	t.length[BUNDLE_INFO] = strlen(info);
	t.offset[BUNDLE_CMDLINE] = t.offset[BUNDLE_INFO] + t.length[BUNDLE_INFO];
	t.length[BUNDLE_CMDLINE] = append_len;
	t.file_size = t.offset[BUNDLE_CMDLINE] + append_len + BUNDLE_TRAILER_SIZE;
	{
		const struct file_piece pieces[] = {
			{ loader, loader_len },	     { zeros, pad },
			{ kernel, kernel_len },	     { img.data, img.len },
			{ meta, (size_t)meta_len },  { info, strlen(info) },
			{ append ? append : "", append_len },
		};
		if (digest_new_sha256(&d) < 0) {
			log_error("out of memory");
			ex = 1;
			goto out;
		}
		for (size_t i = 0; i < ELEMENTSOF(pieces); i++)
			(void)digest_update(d, pieces[i].data, pieces[i].len);
		bundle_trailer_write(&t, tail);
		(void)digest_update(d, tail, BUNDLE_DIGEST_OFFSET);
		if (digest_final(d, t.sha256, 32) < 0) {
			log_error("SHA-256 failed");
			ex = 1;
			goto out;
		}
		bundle_trailer_write(&t, tail);
		{
			_cleanup_(digest_freep) struct digest *whole = NULL;
			const struct file_piece all[] = {
				pieces[0], pieces[1], pieces[2], pieces[3], pieces[4], pieces[5],
				pieces[6], { tail, sizeof(tail) },
			};
			/* what sha256sum says of the file, for people who publish it */
			if (digest_new_sha256(&whole) < 0) {
				log_error("out of memory");
				ex = 1;
				goto out;
			}
			for (size_t i = 0; i < ELEMENTSOF(all); i++)
				(void)digest_update(whole, all[i].data, all[i].len);
			if (digest_final(whole, file_sha, 32) < 0) {
				log_error("SHA-256 failed");
				ex = 1;
				goto out;
			}
			/* secrets inside: only root may read it (and run it) */
			/* a new file renamed into place: never seen half-written, and a running bundle
			 * (ETXTBSY for O_TRUNC) can still be replaced */
			r = write_file_replace_pieces(output, m.secrets ? 0700 : 0755, all,
						      ELEMENTSOF(all));
		}
		if (r < 0) {
			log_error_errno(r, "cannot write %s: %m", output);
			ex = 1;
			goto out;
		}
	}
	hex_encode(t.sha256, 32, hex);
	printf("Wrote %s: %s, mode %s\n", output, format_bytes(x, sizeof(x), t.file_size),
	       m.secrets ? "0700 (the job holds secrets)" : "0755");
	printf("  loader   %10s  (%s)\n", format_bytes(x, sizeof(x), loader_len), loader_path);
	printf("  kernel   %10s  (%s, %s)\n", format_bytes(y, sizeof(y), kernel_len), kernel_path,
	       a.o.kver);
	printf("  flasher  %10s  (%s, %s unpacked, %zu modules)\n", format_bytes(z, sizeof(z), img.len),
	       initrd_compression_to_string(a.o.compression),
	       format_bytes(x, sizeof(x), img.unpacked), img.n_modules);
	printf("  contents %s  (SHA-256 recorded in the trailer)\n", hex);
	hex_encode(file_sha, 32, hex);
	printf("  file     %s  (sha256sum of the file: publish it)\n", hex);
	printf("Run it as root on the machine to reimage: %s (%s --info shows the plan)\n", output,
	       output);
	ex = 0;
out:
	flasher_image_done(&img);
	flasher_args_done(&a);
	log_forget_secrets();
	return ex;
}
