// SPDX-License-Identifier: GPL-2.0-or-later
/* The loader at the front of every bundle: a static program that reads its own file, checks
 * its SHA-256, shows the plan and what it sees on this machine, and kexecs into the kernel and
 * flasher it carries. It needs nothing on the machine but Linux with kexec_file_load. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "basic/exit-codes.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "bundle/reader.h"
#include "flash/target-check.h"
#include "format/cmdline.h"
#include "init/target.h"
#include "kexec/kexec.h"


/* The flasher's own command line: freed pages cleared, a reboot 10 s after a panic, and every
 * log line in dmesg (not rate-limited). The running kernel's consoles and hardware settings
 * go in front (cmdline_carry). */
#define FLASHER_CMDLINE "panic=10 init_on_free=1 printk.devkmsg=on"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static const char *prog = "bundle";

static void help(void)
{
	printf("Usage: %s [--info | --dry-run] [--yes]\n"
	       "\n"
	       "A reimage bundle: a kernel and a flasher that overwrite a disk of this machine\n"
	       "with an image fetched over the network. Run as root, it checks its own SHA-256,\n"
	       "shows the plan and what it finds here, asks for the device name, then loads the\n"
	       "kernel with kexec_file_load and hands over (systemctl kexec, or reboot(KEXEC)).\n"
	       "\n"
	       "      --info      check the file and print what is inside; load nothing\n"
	       "      --dry-run   check the file and this machine, print the plan; load nothing\n"
	       "      --yes       do not ask to type the device name\n"
	       "  -h, --help      show this help\n"
	       "  -V, --version   show the reimage version that made the loader\n"
	       "\n"
	       "Exit status: 0 handed over (or --info/--dry-run passed), 1 failed or not\n"
	       "confirmed, 2 bad options, 3 not a bundle or corrupted, 4 this machine cannot run\n"
	       "it (not root, no kexec_file_load, no such disk).\n",
	       prog);
}

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: error: ", prog);
	errno = saved; /* for %m */
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void sha_update(void *ctx, const uint8_t *buf, size_t n)
{
	sha256_update(ctx, n, buf);
}

static void sha_final(void *ctx, uint8_t out[32])
{
	sha256_digest(ctx, 32, out);
}

static int read_small(const char *path, char *buf, size_t n)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f || !fgets(buf, (int)n, f))
		return -ENOENT;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static uint64_t mem_total(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			return kb * 1024;
	return 0;
}

static int confirm(const char *name)
{
	char answer[128];
	FILE *tty = fopen("/dev/tty", "r+e");
	FILE *in = tty ? tty : stdin, *out = tty ? tty : stderr;
	bool ok;

	fprintf(out, "\nThis overwrites every byte of /dev/%s. Type the device name (%s) to go on: ",
		name, name);
	fflush(out);
	ok = fgets(answer, sizeof(answer), in) != NULL;
	if (tty)
		fclose(tty);
	if (!ok || interrupted)
		return -ECANCELED;
	answer[strcspn(answer, "\r\n")] = 0;
	if (strcmp(answer, name) != 0 &&
	    !(strncmp(answer, "/dev/", 5) == 0 && strcmp(answer + 5, name) == 0))
		return -ECANCELED;
	return 0;
}

static int seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0
		       ? negative_errno()
		       : 0;
}

/* What this machine says about the target. Returns 0, or EXIT_TARGET after saying why. */
static int check_target(const struct bundle_meta *m, struct disk_identity *id, char *inuse,
			size_t inuselen)
{
	const char *name = strrchr(m->dst, '/') + 1;
	char path[256], why[1024];
	struct stat st;

	if (stat(m->dst, &st) < 0) {
		err("the target %s does not exist on this machine: this bundle was made for a "
		    "machine with that disk; check the name with lsblk and build a bundle for it",
		    m->dst);
		return EXIT_TARGET;
	}
	if (!S_ISBLK(st.st_mode)) {
		err("the target %s is not a block device here", m->dst);
		return EXIT_TARGET;
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/partition", name);
	if (access(path, F_OK) == 0) {
		err("the target %s is a partition here; the flasher writes whole disks", m->dst);
		return EXIT_TARGET;
	}
	if (disk_identity_read(name, id) < 0) {
		err("cannot read what sysfs says about %s (is /sys mounted?)", m->dst);
		return EXIT_TARGET;
	}
	{
		const char *want[] = { m->dst_serial, m->dst_wwn, m->dst_model };
		const char *have[] = { id->serial, id->wwn, id->model };
		const char *what[] = { "serial", "WWN", "model" };

		for (size_t i = 0; i < ELEMENTSOF(want); i++)
			if (want[i][0] && strcmp(want[i], have[i]) != 0) {
				err("%s here has %s '%s', but the bundle was made for the disk with "
				    "%s '%s': not the disk it is meant for",
				    m->dst, what[i], have[i], what[i], want[i]);
				return EXIT_TARGET;
			}
	}
	if (m->dst_size && m->dst_size != id->size) {
		char a[32], b[32];
		err("%s here holds %s, but the bundle was made for a disk of %s: not the disk it is "
		    "meant for",
		    m->dst, format_bytes(a, sizeof(a), id->size), format_bytes(b, sizeof(b), m->dst_size));
		return EXIT_TARGET;
	}
	if (m->image_size && m->image_size > id->size) {
		char a[32], b[32];
		err("%s here holds %s, but the image the bundle writes needs %s (read from the "
		    "image's header when the bundle was made): the disk is too small",
		    m->dst, format_bytes(a, sizeof(a), id->size),
		    format_bytes(b, sizeof(b), m->image_size));
		return EXIT_TARGET;
	}
	if (target_check_block_device(st.st_rdev, m->dst, why, sizeof(why)) == -EBUSY) {
		why[strcspn(why, ";")] = 0; /* the advice that follows is for reimage flash */
		snprintf(inuse, inuselen, "in use now: %s (fine: the flasher writes it after this "
					  "system is gone)",
			 why);
	} else
		snprintf(inuse, inuselen, "not in use now");
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "info", no_argument, NULL, 'i' },   { "dry-run", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },    { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, {}
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct bundle_contents c = { 0 };
	struct sha256_ctx sha;
	struct bundle_hash hash = { &sha, sha_update, sha_final };
	struct disk_identity id = { 0 };
	struct utsname u;
	_cleanup_close_ int self = -EBADF, kfd = -EBADF, ifd = -EBADF;
	char why[2048] = "", lock[64], inuse[1200], cmdline[KEXEC_CMDLINE_MAX] = "", hex[65];
	enum kexec_loader loader;
	char a[32], b[32], pc[4096];
	bool info = false, dry_run = false, yes = false, loaded = false;
	int refused = 0; /* the exit code of the first check that refused */
	uint64_t total;
	int ch, r, ex = EXIT_FAILED;

	if (argv[0] && argv[0][0])
		prog = argv[0];
	while ((ch = getopt_long(argc, argv, "hV", options, NULL)) >= 0) {
		switch (ch) {
		case 'i': info = true; break;
		case 'n': dry_run = true; break;
		case 'y': yes = true; break;
		case 'h': help(); return 0;
		case 'V': printf("reimage bundle loader %s\n", REIMAGE_VERSION); return 0;
		default: fprintf(stderr, "run '%s --help' for the options\n", prog); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		err("unexpected argument '%s'; run '%s --help'", argv[optind], prog);
		return EXIT_USAGE;
	}
	if (info && (dry_run || yes)) {
		err("--info only reads the file: it goes with neither --dry-run nor --yes");
		return EXIT_USAGE;
	}
	if (!info && !dry_run && geteuid() != 0) {
		err("this bundle overwrites a disk and loads a kernel: run it as root (--info and "
		    "--dry-run work without)");
		return EXIT_MACHINE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err("cannot open /proc/self/exe to read the payload: %m (is /proc mounted?)");
		return EXIT_FAILED;
	}
	if (!info && !dry_run) {
		kfd = memfd_create("reimage-bundle-kernel", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		ifd = memfd_create("reimage-bundle-flasher", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (kfd < 0 || ifd < 0) {
			err("cannot make the in-memory files for the kernel and flasher: %m");
			return EXIT_FAILED;
		}
	}
	sha256_init(&sha);
	r = bundle_read(self, &hash, kfd, ifd, &c, why, sizeof(why));
	if (r < 0) {
		err("%s%s", why, info ? "" : "; nothing was loaded");
		return EXIT_DATA;
	}
	hex_encode(c.trailer.sha256, 32, hex);
	if (info) {
		fputs(c.info, stdout);
		printf("  file:     %s, contents SHA-256 %s (verified)\n",
		       format_bytes(a, sizeof(a), c.trailer.file_size), hex);
		printf("  loader:   static, reimage %s\n", REIMAGE_VERSION);
		ex = 0;
		goto out;
	}
	if (kfd >= 0 && (seal(kfd) < 0 || seal(ifd) < 0)) {
		err("cannot seal the in-memory kernel and flasher: %m");
		goto out;
	}

	/* --- the plan, then this machine: every check is shown before the verdict --- */
	fputs(c.info, stdout);
	printf("  file:     %s, contents SHA-256 %s (verified)\n",
	       format_bytes(a, sizeof(a), c.trailer.file_size), hex);
	uname(&u);
	printf("on this machine (%s, kernel %s):\n", u.nodename, u.release);
	fflush(stdout);
	if (check_target(&c.meta, &id, inuse, sizeof(inuse)) != 0)
		refused = EXIT_TARGET;
	else {
		printf("  target:   %s: %s, %s, serial %s%s%s\n", c.meta.dst,
		       id.model[0] ? id.model : "unknown model", format_bytes(a, sizeof(a), id.size),
		       id.serial[0] ? id.serial : "none", id.wwn[0] ? ", WWN " : "", id.wwn);
		printf("            %s\n", inuse);
	}
	if (lockdown_mode(lock, sizeof(lock)) < 0)
		snprintf(lock, sizeof(lock), "not available");
	printf("  lockdown: %s%s\n", lock,
	       strcmp(lock, "none") && strcmp(lock, "not available")
		       ? " (only a kernel signed with a key this machine trusts will load)"
		       : "");
	if (geteuid() != 0)
		printf("  kexec:    not checked (not root; a real run needs root)\n");
	else if (kexec_probe(&loader, why, sizeof(why)) < 0) {
		err("%s", why);
		refused = refused ?: EXIT_MACHINE;
	} else
		printf("  kexec:    %s\n", kexec_loader_name(loader));
	total = mem_total();
	printf("  memory:   %s in all; kernel %s + flasher %s to load\n",
	       format_bytes(a, sizeof(a), total),
	       format_bytes(b, sizeof(b), c.trailer.length[BUNDLE_KERNEL]),
	       format_bytes(pc, sizeof(pc), c.trailer.length[BUNDLE_INITRD]));
	if (total && c.trailer.length[BUNDLE_KERNEL] + c.trailer.length[BUNDLE_INITRD] > total / 2) {
		err("the kernel and flasher need more than half of the RAM, which kexec refuses; "
		    "build a smaller bundle (--modules, --compression xz)");
		refused = refused ?: EXIT_MACHINE;
	}
	if (read_small("/proc/cmdline", pc, sizeof(pc)) == 0)
		(void)cmdline_carry(pc, cmdline, sizeof(cmdline));
	strncat(cmdline, FLASHER_CMDLINE, sizeof(cmdline) - strlen(cmdline) - 1);
	if (c.cmdline[0]) {
		/* carried words are capped at half the limit, the additions at BUNDLE_CMDLINE_MAX */
		strncat(cmdline, " ", sizeof(cmdline) - strlen(cmdline) - 1);
		strncat(cmdline, c.cmdline, sizeof(cmdline) - strlen(cmdline) - 1);
	}
	printf("  command line: %s\n", cmdline);
	printf("  hand-over: %s\n", systemd_is_pid1() ? "systemctl kexec" : "sync + reboot(KEXEC)");
	fflush(stdout);
	if (refused) {
		err("this machine cannot run this bundle (see above); nothing was loaded");
		ex = refused;
		goto out;
	}
	if (dry_run) {
		r = kexec_loaded();
		printf("dry run: verified and checked; nothing was loaded (kexec_loaded: %s)\n",
		       r < 0 ? "not available" : r ? "1, loaded by someone else" : "0");
		ex = 0;
		goto out;
	}
	if (!yes && confirm(strrchr(c.meta.dst, '/') + 1) < 0) {
		err("not confirmed; nothing was loaded");
		goto out;
	}
	if (interrupted) {
		err("interrupted; nothing was loaded");
		ex = exit_code_for_signal(interrupted);
		goto out;
	}

	/* --- load last, unload on every way out before the hand-over --- */
	r = kexec_load_fd(kfd, "the bundle's kernel", ifd, cmdline, why, sizeof(why));
	if (r < 0) {
		err("%s; nothing was loaded", why);
		ex = r == -EPERM || r == -ENOSYS ? EXIT_MACHINE : EXIT_FAILED;
		goto out;
	}
	loaded = true;
	if (interrupted) {
		err("interrupted");
		ex = exit_code_for_signal(interrupted);
		goto out;
	}
	printf("loaded the flasher; handing over to it now\n");
	fflush(stdout);
	r = kexec_exec(why, sizeof(why));
	if (r < 0) {
		err("%s", why);
		goto out;
	}
	/* with systemd the shutdown is on its way, and the flasher must stay loaded */
	loaded = false;
	ex = 0;
out:
	if (loaded) {
		if (kexec_unload(why, sizeof(why)) < 0)
			err("%s; a reboot would now start the flasher: unload it (kexec -u)", why);
		else
			err("the flasher was unloaded; this system is unchanged");
	}
	bundle_contents_done(&c);
	return ex;
}
