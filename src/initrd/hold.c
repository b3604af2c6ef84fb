// SPDX-License-Identifier: GPL-2.0-or-later
/* Hold mode's part of the flasher: SSH server, tools, accounts, operator keys and host keys. */
#include "initrd/hold.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/process-util.h"
#include "crypto/digest.h"
#include "format/base64.h"

#define KEYFILE_MAX (64U << 10)

int ssh_fingerprint_sha256(const uint8_t *blob, size_t len, char *out, size_t outsz)
{
	_cleanup_(digest_freep) struct digest *d = NULL;
	uint8_t md[32];
	char b64[64];
	size_t n;

	if (digest_new_sha256(&d) < 0 || digest_update(d, blob, len) < 0 ||
	    digest_final(d, md, sizeof(md)) < 0)
		return -EIO;
	base64_encode(md, sizeof(md), b64, sizeof(b64));
	/* OpenSSH prints it without the padding */
	n = strcspn(b64, "=");
	b64[n] = 0;
	snprintf(out, outsz, "SHA256:%s", b64);
	return 0;
}

/* Run argv with stdout (and stderr) captured into out; the exit status, or -errno. */
static int run_capture(char *const argv[], char *out, size_t outsz)
{
	int pipefd[2], status, r;
	size_t o = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		safe_close(pipefd[0]);
		safe_close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	safe_close(pipefd[1]);
	for (;;) {
		char tmp[512];
		ssize_t n = read(pipefd[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && o + 1 < outsz; i++)
			out[o++] = tmp[i];
	}
	if (outsz)
		out[o] = 0;
	safe_close(pipefd[0]);
	r = wait_child(pid, &status);
	if (r < 0)
		return r;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool program_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

struct skip_ctx {
	const char *file;
};

static void report_skip(void *userdata, unsigned lineno, const char *why)
{
	struct skip_ctx *c = userdata;
	log_warning("%s line %u: %s, skipped", c->file, lineno, why);
}

/* 1 when keys were read, 0 when the file does not exist and missing_ok, -errno otherwise. */
static int add_keys_file(struct hold_keys *h, const char *path, bool missing_ok, char *err,
			 size_t errlen)
{
	_cleanup_free_ uint8_t *text = NULL;
	struct skip_ctx c = { .file = path };
	size_t len, l;
	int r;

	r = read_full_file(path, SSH_KEYS_TEXT_MAX, &text, &len);
	if (r == -ENOENT && missing_ok)
		return 0;
	if (r < 0) {
		if (missing_ok) {
			log_warning("cannot read %s: %s; its keys are not used", path, strerror(-r));
			return 0;
		}
		snprintf(err, errlen, "cannot read the authorized keys file %s: %s", path,
			 r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return r;
	}
	r = ssh_keyset_add_text(&h->authorized, (const char *)text, len, report_skip, &c);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 r == -EFBIG ? "more than 256 keys" : strerror(-r));
		return r;
	}
	l = strlen(h->sources);
	snprintf(h->sources + l, sizeof(h->sources) - l, "%s%s", l ? ", " : "", path);
	return 1;
}

static int collect_authorized(struct hold_keys *h, char *const *extra, size_t n_extra, char *err,
			      size_t errlen)
{
	const char *env = getenv("REIMAGE_AUTHORIZED_KEYS");
	char tried[1024] = "";
	int r;

	if (env) {
		/* for tests and images: these files instead of root's and the sudo user's */
		while (*env) {
			size_t n = strcspn(env, ":");
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%.*s", (int)n, env);
			env += n + (env[n] == ':');
			if (!path[0])
				continue;
			r = add_keys_file(h, path, true, err, errlen);
			if (r < 0)
				return r;
			snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s",
				 tried[0] ? ", " : "", path);
		}
	} else {
		const char *sudo = getenv("SUDO_USER");
		r = add_keys_file(h, "/root/.ssh/authorized_keys", true, err, errlen);
		if (r < 0)
			return r;
		snprintf(tried, sizeof(tried), "/root/.ssh/authorized_keys");
		if (sudo && sudo[0] && strcmp(sudo, "root") != 0) {
			struct passwd *pw = getpwnam(sudo);
			if (pw && pw->pw_dir) {
				char path[PATH_MAX];
				snprintf(path, sizeof(path), "%s/.ssh/authorized_keys", pw->pw_dir);
				r = add_keys_file(h, path, true, err, errlen);
				if (r < 0)
					return r;
				snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), ", %s",
					 path);
			}
		}
	}
	for (size_t i = 0; i < n_extra; i++) {
		r = add_keys_file(h, extra[i], false, err, errlen);
		if (r < 0)
			return r;
	}
	if (h->authorized.n == 0) {
		snprintf(err, errlen,
			 "hold mode needs at least one SSH public key so that an operator can log "
			 "in, and none was found (looked in %s%s); give one with --authorized-keys "
			 "FILE",
			 tried[0] ? tried : "no default files",
			 n_extra ? " and the --authorized-keys files" : "");
		return -ENOKEY;
	}
	return ssh_keyset_format(&h->authorized, &h->authorized_text);
}

/* The public half of a dropbear key file, and its fingerprint. */
static int describe_host_key(const char *file, struct hold_host_key *k, char *err, size_t errlen)
{
	char *argv[] = { (char *)"dropbearkey", (char *)"-y", (char *)"-f", (char *)file, NULL };
	_cleanup_free_ struct ssh_pubkey *pk = malloc(sizeof(*pk));
	char out[8192], *line, *save = NULL;
	int r;

	if (!pk)
		return -ENOMEM;
	r = run_capture(argv, out, sizeof(out));
	if (r != 0) {
		snprintf(err, errlen, "dropbearkey -y failed: %s", out);
		return -EIO;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (ssh_pubkey_parse(line, strlen(line), false, pk) == 0) {
			snprintf(k->type, sizeof(k->type), "%s", pk->type);
			return ssh_fingerprint_sha256(pk->blob, pk->blob_len, k->fingerprint,
						      sizeof(k->fingerprint));
		}
	snprintf(err, errlen, "dropbearkey -y printed no public key");
	return -EBADMSG;
}

static int load_host_key(struct hold_keys *h, const char *tmpdir, const char *name,
			 const char *openssh_file, char *err, size_t errlen)
{
	struct hold_host_key *k = &h->host[h->n_host];
	char out[PATH_MAX], msg[4096];
	int r;

	snprintf(out, sizeof(out), "%s/%s", tmpdir, name);
	if (openssh_file) {
		char *argv[] = { (char *)"dropbearconvert", (char *)"openssh", (char *)"dropbear",
				 (char *)openssh_file, out, NULL };
		r = run_capture(argv, msg, sizeof(msg));
		if (r != 0) {
			msg[strcspn(msg, "\n")] = 0;
			snprintf(err, errlen, "dropbearconvert could not convert %s: %s", openssh_file,
				 msg[0] ? msg : "no reason given");
			(void)unlink(out);
			return -EBADMSG;
		}
	} else {
		char *argv[] = { (char *)"dropbearkey", (char *)"-t", (char *)name, (char *)"-f", out,
				 NULL };
		r = run_capture(argv, msg, sizeof(msg));
		if (r != 0) {
			msg[strcspn(msg, "\n")] = 0;
			snprintf(err, errlen, "dropbearkey could not make a %s key: %s", name, msg);
			(void)unlink(out);
			return -EIO;
		}
	}
	*k = (struct hold_host_key){ 0 };
	r = read_full_file(out, KEYFILE_MAX, &k->data, &k->len);
	if (r >= 0)
		r = describe_host_key(out, k, err, errlen);
	else
		snprintf(err, errlen, "cannot read the converted key: %s", strerror(-r));
	(void)unlink(out);
	if (r < 0) {
		if (k->data) {
			explicit_bzero(k->data, k->len);
			free(k->data);
		}
		*k = (struct hold_host_key){ 0 };
		return r;
	}
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->path, sizeof(k->path), "etc/dropbear/dropbear_%s_host_key", name);
	h->n_host++;
	return 0;
}

static int collect_host_keys(struct hold_keys *h, char *err, size_t errlen)
{
	static const char *const names[] = { "ed25519", "ecdsa", "rsa" };
	const char *dir = getenv("REIMAGE_SSH_HOST_KEY_DIR");
	char tmpdir[] = "/run/reimage-go.XXXXXX", tmpdir2[] = "/tmp/reimage-go.XXXXXX", *td;
	size_t found = 0;
	int r = 0;

	snprintf(h->host_dir, sizeof(h->host_dir), "%s", dir && dir[0] ? dir : "/etc/ssh");
	if (!program_in_path("dropbearconvert") || !program_in_path("dropbearkey")) {
		snprintf(err, errlen, "hold mode needs dropbear's tools (dropbearconvert, "
				      "dropbearkey) here to prepare the host keys; on Debian: apt "
				      "install dropbear-bin");
		return -ENOENT;
	}
	/* the private keys pass through files: keep them in RAM, readable by us only */
	td = mkdtemp(tmpdir);
	if (!td)
		td = mkdtemp(tmpdir2);
	if (!td) {
		snprintf(err, errlen, "cannot make a private directory for the host keys: %s",
			 strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		char src[PATH_MAX + 64], why[1024] = "";
		snprintf(src, sizeof(src), "%s/ssh_host_%s_key", h->host_dir, names[i]);
		if (access(src, F_OK) < 0)
			continue;
		found++;
		if (load_host_key(h, td, names[i], src, why, sizeof(why)) < 0)
			log_warning("%s", why);
	}
	if (h->n_host == 0) {
		char why[1024] = "";
		if (found)
			log_warning("none of the OpenSSH host keys in %s could be converted for "
				    "dropbear: the flasher gets a new host key",
				    h->host_dir);
		h->host_new = true;
		r = load_host_key(h, td, "ed25519", NULL, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "%s", why);
	}
	(void)rmdir(td);
	return r;
}

int hold_keys_collect(struct hold_keys *h, char *const *extra, size_t n_extra, char *err,
		      size_t errlen)
{
	int r;

	r = collect_authorized(h, extra, n_extra, err, errlen);
	if (r < 0)
		return r;
	return collect_host_keys(h, err, errlen);
}

size_t hold_keys_secrets(struct hold_keys *h, const struct flasher_secret **ret)
{
	size_t n = 0;

	h->secrets[n++] = (struct flasher_secret){ "root", 0700, NULL, 0 };
	h->secrets[n++] = (struct flasher_secret){ "root/.ssh", 0700, NULL, 0 };
	h->secrets[n++] = (struct flasher_secret){ "root/.ssh/authorized_keys", 0600,
						   h->authorized_text,
						   h->authorized_text ? strlen(h->authorized_text) : 0 };
	h->secrets[n++] = (struct flasher_secret){ "etc/dropbear", 0700, NULL, 0 };
	for (size_t i = 0; i < h->n_host; i++)
		h->secrets[n++] = (struct flasher_secret){ h->host[i].path, 0600, h->host[i].data,
							   h->host[i].len };
	*ret = h->secrets;
	return n;
}

void hold_keys_done(struct hold_keys *h)
{
	ssh_keyset_done(&h->authorized);
	free(h->authorized_text);
	for (size_t i = 0; i < h->n_host; i++)
		if (h->host[i].data) {
			explicit_bzero(h->host[i].data, h->host[i].len);
			free(h->host[i].data);
		}
	h->n_host = 0;
	h->authorized_text = NULL;
}

static const char *first_existing(const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* busybox applets for looking at disks and the system; not reboot/poweroff/halt: they signal
 * PID 1 the way busybox init expects, and `reimage done` is the way out */
static const char *const applets[] = {
	"sh", "ash", "ls", "cat", "cp", "mv", "rm", "mkdir", "rmdir", "ln", "chmod", "touch",
	"mount", "umount", "df", "du", "free", "ps", "top", "kill", "dmesg", "uptime", "date",
	"sleep", "echo", "env", "which", "find", "grep", "sed", "awk", "head", "tail", "less",
	"more", "vi", "wc", "sort", "uniq", "cut", "tr", "hexdump", "xxd", "od", "dd", "sync",
	"sha256sum", "sha512sum", "md5sum", "cmp", "stat", "ip", "ping", "ping6", "wget",
	"nslookup", "tar", "gzip", "gunzip", "zcat", "xzcat", "unxz", "tee", "true", "false",
	"test", "[", "printf", "basename", "dirname", "readlink", "realpath", "lsmod",
	"modprobe", "fdisk", "mknod", "hostname", "ifconfig", "route", "netstat", "clear",
	"reset", "id", "whoami", "nproc", "uname", "watch", "xargs", "yes", "seq", "losetup",
	"fsync", "partprobe", "blkdiscard", "truncate", "mktemp", "strings",
};

static const char *const disk_tools[] = { "lsblk", "blkid", "sfdisk", "wipefs", "fdisk",
					  "blockdev" };

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n";
static const char group[] = "root:x:0:\ntty:x:5:\n";
static const char shells[] = "/bin/sh\n";
static const char nsswitch[] = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n";
static const char profile[] =
	"# reimage flasher, hold mode\n"
	"export PATH=/usr/bin:/usr/sbin:/bin:/sbin\n"
	"export PS1='flasher:\\w# '\n"
	"echo 'reimage flasher (hold mode): this machine runs from RAM; its disks are not in use.'\n"
	"echo '  reimage status                 what the flasher is doing'\n"
	"echo '  reimage flash SRC /dev/DISK    write an image (URL, file or - for stdin)'\n"
	"echo '  reimage done reboot|poweroff|kexec [/dev/DISK]   end the hold'\n";

int hold_add_tools(struct initrd *rd, char *err, size_t errlen)
{
	static const char *const dropbear[] = { "/usr/sbin/dropbear", "/sbin/dropbear" };
	static const char *const busybox[] = { "/usr/bin/busybox", "/bin/busybox" };
	const char *p;
	int r;

	p = first_existing(dropbear, ELEMENTSOF(dropbear));
	if (!p) {
		snprintf(err, errlen, "hold mode needs the dropbear SSH server (/usr/sbin/dropbear) "
				      "to put into the flasher; on Debian: apt install dropbear-bin");
		return -ENOENT;
	}
	r = initrd_add_program(rd, p, "usr/sbin/dropbear", INITRD_KIND_OTHER, err, errlen);
	if (r < 0)
		return r;
	p = first_existing(busybox, ELEMENTSOF(busybox));
	if (!p) {
		snprintf(err, errlen, "hold mode needs busybox for the operator's shell; on Debian: "
				      "apt install busybox-static");
		return -ENOENT;
	}
	r = initrd_add_program(rd, p, "bin/busybox", INITRD_KIND_OTHER, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(disk_tools); i++) {
		char cands[4][64];
		const char *c[4];
		for (int k = 0; k < 4; k++) {
			static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
			snprintf(cands[k], sizeof(cands[k]), "%s/%s", dirs[k], disk_tools[i]);
			c[k] = cands[k];
		}
		p = first_existing(c, 4);
		if (p) {
			char dest[64];
			snprintf(dest, sizeof(dest), "usr/sbin/%s", disk_tools[i]);
			r = initrd_add_program(rd, p, dest, INITRD_KIND_OTHER, err, errlen);
			if (r < 0 && r != -EEXIST)
				return r;
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(applets); i++) {
		char dest[64], other[64];
		snprintf(dest, sizeof(dest), "bin/%s", applets[i]);
		snprintf(other, sizeof(other), "usr/sbin/%s", applets[i]);
		/* the real tool wins over the applet (e.g. util-linux fdisk) */
		bool have = false;
		for (size_t k = 0; k < rd->n; k++)
			if (strcmp(rd->entries[k].path, other) == 0)
				have = true;
		if (have)
			continue;
		r = initrd_add_symlink(rd, dest, "busybox");
		if (r < 0 && r != -EEXIST)
			return r;
	}
	r = initrd_add_dir(rd, "etc/dropbear", 0700);
	if (r >= 0)
		r = initrd_add_data(rd, "etc/passwd", 0644, passwd, strlen(passwd), INITRD_KIND_OTHER);
	if (r >= 0)
		r = initrd_add_data(rd, "etc/group", 0644, group, strlen(group), INITRD_KIND_OTHER);
	if (r >= 0)
		r = initrd_add_data(rd, "etc/shells", 0644, shells, strlen(shells), INITRD_KIND_OTHER);
	if (r >= 0)
		r = initrd_add_data(rd, "etc/nsswitch.conf", 0644, nsswitch, strlen(nsswitch),
				    INITRD_KIND_OTHER);
	if (r >= 0)
		r = initrd_add_data(rd, "etc/profile", 0644, profile, strlen(profile),
				    INITRD_KIND_OTHER);
	if (r >= 0)
		r = initrd_add_dir(rd, "dev/pts", 0755);
	if (r < 0 && !err[0])
		snprintf(err, errlen, "cannot add the hold-mode files: %s", strerror(-r));
	return r;
}
