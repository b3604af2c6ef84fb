// SPDX-License-Identifier: GPL-2.0-or-later
/* kexec_file_load, its error messages, and the hand-over. */
#include "kexec/kexec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/process-util.h"
#include "kexec/kexec-classic.h"

#ifndef KEXEC_FILE_UNLOAD
#define KEXEC_FILE_UNLOAD 0x00000001
#endif
#ifndef KEXEC_FILE_NO_INITRAMFS
#define KEXEC_FILE_NO_INITRAMFS 0x00000004
#endif

static int read_small(const char *path, char *buf, size_t n)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f)
		return negative_errno();
	if (!fgets(buf, (int)n, f))
		return -EIO;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int lockdown_mode(char *buf, size_t n)
{
	char line[256], *a, *b;
	int r = read_small("/sys/kernel/security/lockdown", line, sizeof(line));

	if (r < 0)
		return -ENOENT;
	/* "none [integrity] confidentiality": the bracketed word is active */
	a = strchr(line, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!a || !b)
		return -EBADMSG;
	*b = 0;
	snprintf(buf, n, "%s", a + 1);
	return 0;
}

int kexec_loaded(void)
{
	char v[16];
	int r = read_small("/sys/kernel/kexec_loaded", v, sizeof(v));

	if (r < 0)
		return r;
	return v[0] == '1';
}

bool systemd_is_pid1(void)
{
	char comm[64];

	/* sd_booted()'s test, plus the name of PID 1 */
	return access("/run/systemd/system", F_OK) == 0 && read_small("/proc/1/comm", comm, sizeof(comm)) == 0 &&
	       strcmp(comm, "systemd") == 0;
}

bool kexec_explain_not_allowed(char *why, size_t whylen)
{
	char v[16] = "";

	if (read_small("/proc/sys/kernel/kexec_load_disabled", v, sizeof(v)) == 0 && v[0] == '1')
		snprintf(why, whylen,
			 "kexec is disabled on this system (kernel.kexec_load_disabled = 1, which "
			 "stays set until the next boot): reboot into a system that allows kexec");
	else if (geteuid() != 0)
		snprintf(why, whylen, "kexec needs root (CAP_SYS_BOOT): run as root");
	else
		return false;
	return true;
}

static void explain(int err, const char *kernel_path, int kernel_fd, int initrd_fd,
		    size_t cmdline_len, char *why, size_t whylen)
{
	char lock[64] = "";
	struct stat st;
	char a[32], b[32];

	switch (err) {
	case EPERM:
		if (kexec_explain_not_allowed(why, whylen))
			;
		else if (lockdown_mode(lock, sizeof(lock)) == 0 && strcmp(lock, "none") != 0)
			snprintf(why, whylen,
				 "the kernel is locked down (%s, e.g. Secure Boot) and refuses %s: "
				 "lockdown only accepts a kernel signed with a key the firmware or "
				 "shim trusts; use your distribution's signed vmlinuz",
				 lock, kernel_path);
		else
			snprintf(why, whylen,
				 "the kernel refused kexec (no CAP_SYS_BOOT in this namespace, or a "
				 "security module said no)");
		break;
	case EBUSY:
		snprintf(why, whylen,
			 "another kexec load or execution is in progress; wait for it and try again");
		break;
	case ENOEXEC:
		snprintf(why, whylen,
			 "%s is not a kernel this kernel can kexec (x86: a 64-bit bzImage with boot "
			 "protocol 2.12 or later; arm64: an uncompressed Image)",
			 kernel_path);
		break;
	case EKEYREJECTED:
	case ENOKEY:
	case ENODATA:
	case EBADMSG:
	case ELIBBAD:
	case ENOPKG:
		snprintf(why, whylen,
			 "the signature of %s was rejected (%s): kexec signature enforcement is on "
			 "(Secure Boot or KEXEC_SIG_FORCE) and the kernel is unsigned or signed by "
			 "a key the running kernel does not trust; use the distribution's signed "
			 "vmlinuz",
			 kernel_path, strerror(err));
		break;
	case ETXTBSY:
		snprintf(why, whylen,
			 "%s or the initramfs is open for writing by some process; close it and "
			 "try again",
			 kernel_path);
		break;
	case EFBIG:
		snprintf(why, whylen, "the kernel or the initramfs is larger than 4 GiB");
		break;
	case ENOMEM:
	case EADDRNOTAVAIL: {
		struct sysinfo si;
		uint64_t k = 0, i = 0;
		if (fstat(kernel_fd, &st) == 0)
			k = (uint64_t)st.st_size;
		if (initrd_fd >= 0 && fstat(initrd_fd, &st) == 0)
			i = (uint64_t)st.st_size;
		sysinfo(&si);
		snprintf(why, whylen,
			 "not enough memory to load the kernel (%s) and initramfs (%s): %s of RAM "
			 "free; free some memory or use a smaller flasher",
			 format_bytes(a, sizeof(a), k), format_bytes(b, sizeof(b), i),
			 format_bytes(lock, sizeof(lock), (uint64_t)si.freeram * si.mem_unit));
		break;
	}
	case EINVAL:
		if (cmdline_len > KEXEC_CMDLINE_MAX)
			snprintf(why, whylen, "the command line is %zu bytes, over the limit of %d",
				 cmdline_len, KEXEC_CMDLINE_MAX);
		else
			snprintf(why, whylen,
				 "the kernel refused the load as invalid: the kernel or initramfs is "
				 "empty or not a regular file, or together they need more than half "
				 "of the RAM");
		break;
	case ENOSYS:
		snprintf(why, whylen, "this kernel has no kexec_file_load (built without CONFIG_KEXEC_FILE, or "
			 "a seccomp filter such as a container's blocks it): this system cannot kexec; "
			 "run it on the machine's own kernel, outside any container");
		break;
	default:
		snprintf(why, whylen, "kexec_file_load failed: %s", strerror(err));
	}
}

int kexec_load_fd(int kernel_fd, const char *kernel_name, int initrd_fd, const char *cmdline,
		  char *why, size_t whylen)
{
	size_t len = strlen(cmdline) + 1;
	unsigned long flags = initrd_fd < 0 ? KEXEC_FILE_NO_INITRAMFS : 0;

	if (len > KEXEC_CMDLINE_MAX) {
		explain(EINVAL, kernel_name, kernel_fd, initrd_fd, len, why, whylen);
		return -EINVAL;
	}
	if (syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, len, cmdline, flags) < 0) {
		int err = errno;
		/* no kexec_file_load in this kernel (Debian's arm64 kernels): lay out the
		 * segments ourselves and use kexec_load */
		if (err == ENOSYS)
			return kexec_classic_load(kernel_fd, kernel_name, initrd_fd, cmdline, why,
						  whylen);
		explain(err, kernel_name, kernel_fd, initrd_fd, len, why, whylen);
		return -err;
	}
	return 0;
}

const char *kexec_loader_name(enum kexec_loader l)
{
	return l == KEXEC_LOADER_CLASSIC ? "kexec_load (this kernel has no kexec_file_load; "
					   "reimage lays out the segments, its purgatory checks "
					   "their SHA-256)"
					 : "kexec_file_load";
}

const char *kexec_loader_describe(char *why, size_t whylen)
{
	enum kexec_loader l;

	why[0] = 0;
	if (geteuid() != 0) {
		snprintf(why, whylen, "not checked (not root)");
		return NULL;
	}
	if (kexec_probe(&l, why, whylen) == 0)
		return kexec_loader_name(l);
	return NULL;
}

void print_kexec_loader(const char *prefix)
{
	char why[1024];
	const char *name = kexec_loader_describe(why, sizeof(why));

	if (name)
		printf("%s%s\n", prefix, name);
	else if (geteuid() != 0)
		printf("%s%s\n", prefix, why);
	else
		printf("%snone can load here: %s\n", prefix, why);
}

int kexec_probe(enum kexec_loader *ret, char *why, size_t whylen)
{
	int r = kexec_file_probe(why, whylen);

	if (r == -ENOSYS) {
		r = kexec_classic_probe(why, whylen);
		if (r == 0)
			*ret = KEXEC_LOADER_CLASSIC;
		return r;
	}
	if (r == 0)
		*ret = KEXEC_LOADER_FILE;
	return r;
}

int kexec_load(const char *kernel_path, int initrd_fd, const char *cmdline, char *why,
	       size_t whylen)
{
	_cleanup_close_ int kfd = open(kernel_path, O_RDONLY | O_CLOEXEC);

	if (kfd < 0) {
		int r = negative_errno();
		snprintf(why, whylen, "cannot open the kernel %s: %s", kernel_path, strerror(-r));
		return r;
	}
	return kexec_load_fd(kfd, kernel_path, initrd_fd, cmdline, why, whylen);
}

int kexec_file_probe(char *why, size_t whylen)
{
	/* The syscall checks the caller's permission, then the flags, before it touches
	 * anything (kernel/kexec_file.c): an unknown flag tells "available" (EINVAL) from "not
	 * built in or filtered" (ENOSYS) and "not allowed" (EPERM) without loading or unloading. */
	if (syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 0x80000000UL) == 0 || errno == EINVAL)
		return 0;
	{
		int err = errno;
		explain(err, "the kernel", -1, -1, 0, why, whylen);
		return -err;
	}
}

int kexec_unload(char *why, size_t whylen)
{
	if (syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, (unsigned long)KEXEC_FILE_UNLOAD) < 0) {
		int err = errno;
		if (err == ENOSYS)
			return kexec_classic_unload(why, whylen);
		snprintf(why, whylen, "unloading the kexec image failed: %s", strerror(err));
		return -err;
	}
	return 0;
}

int kexec_exec_systemctl(const char *systemctl, char *why, size_t whylen)
{
	pid_t pid = fork();
	int status, r;

	if (pid < 0)
		return negative_errno();
	if (pid == 0) {
		execlp(systemctl, systemctl, "kexec", (char *)NULL);
		_exit(127);
	}
	/* The shutdown that systemctl starts stops our unit or session, which sends us (a caught
	 * signal: EINTR) and systemctl SIGTERM, or SIGHUP when a terminal goes away, maybe before
	 * systemctl has exited. Either is the hand-over under way, never a failure: the caller
	 * would unload the flasher, and systemd would then reboot through the firmware into the
	 * old system. */
	r = wait_child(pid, &status);
	if (r < 0) {
		snprintf(why, whylen, "cannot wait for systemctl kexec: %s", strerror(-r));
		return r;
	}
	if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGHUP ||
				    WTERMSIG(status) == SIGKILL))
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0; /* systemd takes it from here */
	if (WIFEXITED(status))
		snprintf(why, whylen, "systemctl kexec failed (exit status %d%s)", WEXITSTATUS(status),
			 WEXITSTATUS(status) == 127 ? ": systemctl not found" : "");
	else
		snprintf(why, whylen, "systemctl kexec was killed by signal %d", WTERMSIG(status));
	return -EIO;
}

int kexec_exec(char *why, size_t whylen)
{
	if (kexec_loaded() != 1) {
		snprintf(why, whylen, "no kexec image is loaded");
		return -ENOENT;
	}
	if (systemd_is_pid1())
		return kexec_exec_systemctl("systemctl", why, whylen);
	/* kexec does not sync or unmount (kernel/kexec.c): at least sync */
	sync();
	if (syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_KEXEC,
		    NULL) < 0) {
		int err = errno;
		snprintf(why, whylen, "reboot(KEXEC) failed: %s", strerror(err));
		return -err;
	}
	return 0;
}

int memfd_sealed(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	const uint8_t *p = data;
	size_t done = 0;

	if (fd < 0)
		return negative_errno();
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? negative_errno() : -EIO;
			close(fd);
			return r;
		}
		done += (size_t)n;
	}
	/* never reopened for writing: kexec_file_load refuses files open for write (ETXTBSY) */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	return fd;
}
