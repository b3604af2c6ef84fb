// SPDX-License-Identifier: GPL-2.0-or-later
/* Running gpgv over memfds and reading its verdict from --status-fd. */
#include "crypto/gpgv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/io-util.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/process-util.h"
#include "basic/time-util.h"

/* the longest status line kept whole (a GOODSIG with a long user id fits); longer ones are
 * read and dropped */
#define STATUS_LINE_MAX 4096
#define GPGV_TIMEOUT_MS_DEFAULT (120U * 1000)

static const char *find_gpgv(void)
{
	static const char *const paths[] = { "/usr/bin/gpgv", "/bin/gpgv", "/usr/local/bin/gpgv" };
	const char *env = getenv("REIMAGE_GPGV"); /* for tests and odd installs */

	if (env && env[0])
		return access(env, X_OK) == 0 ? env : NULL;
	for (size_t i = 0; i < ELEMENTSOF(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* An inheritable memfd holding data: gpgv opens it as /proc/self/fd/N. */
static int memfd_with(const char *name, const uint8_t *data, size_t len)
{
	int fd = memfd_create(name, 0);
	size_t o = 0;

	if (fd < 0)
		return -errno;
	while (o < len) {
		ssize_t w = write(fd, data + o, len - o);
		if (w < 0) {
			int r = -errno;
			close(fd);
			return r;
		}
		o += (size_t)w;
	}
	return fd;
}

static void explain(const struct gpg_status *s, char *msg, size_t msglen)
{
	if (s->bad)
		snprintf(msg, msglen, "BAD signature (key %s): the checksum list was changed after it "
				      "was signed, or the signature belongs to another file",
			 s->keyid[0] ? s->keyid : "?");
	else if (s->no_pubkey)
		snprintf(msg, msglen, "the signature was made by key %s, which is not in the keyring; "
				      "give the distribution's signing key with --keyring",
			 s->keyid[0] ? s->keyid : "?");
	else if (s->revoked_key)
		snprintf(msg, msglen, "the signing key %s has been REVOKED", s->keyid);
	else if (s->expired_key)
		snprintf(msg, msglen, "the signing key has EXPIRED");
	else if (s->expired_sig)
		snprintf(msg, msglen, "the signature has EXPIRED");
	else if (s->n_signatures == 0)
		snprintf(msg, msglen, "gpgv found no signature in the signature file");
	else
		snprintf(msg, msglen, "gpgv did not report a valid signature");
}

static uint64_t gpgv_timeout_ms(void)
{
	const char *e = getenv("REIMAGE_GPGV_TIMEOUT_MS"); /* for tests */
	uint64_t v;

	if (e && parse_u64(e, &v) == 0 && v > 0)
		return v;
	return GPGV_TIMEOUT_MS_DEFAULT;
}

/* Read gpgv's status output to its end, line by line into ret (however many signatures the
 * file holds: a pipe left unread would block gpgv, and us waiting for it), then reap gpgv. All
 * under one time limit, past which gpgv is killed: -ETIMEDOUT. 0 with *ret_wstatus. */
static int read_status(int fd, pid_t pid, struct gpg_status *ret, int *ret_wstatus)
{
	char line[STATUS_LINE_MAX];
	size_t have = 0;
	bool dropping = false, eof = false;
	uint64_t deadline = now_ms() + gpgv_timeout_ms();

	while (!eof) {
		ssize_t n;
		/* a deadline, or a pipe we cannot wait on, is treated as no answer */
		if (fd_wait_readable(fd, deadline, NULL) <= 0)
			goto timeout;
		n = read(fd, line + have, sizeof(line) - have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			eof = true;
			n = 0;
		}
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(line, '\n', have);
			size_t used;
			if (!nl) {
				if (have == sizeof(line) || (eof && have > 0)) {
					if (!dropping)
						gpg_status_feed(line, have, ret);
					dropping = !eof; /* the rest of an overlong line */
					have = 0;
				}
				break;
			}
			used = (size_t)(nl + 1 - line);
			if (!dropping)
				gpg_status_feed(line, used, ret);
			dropping = false;
			memmove(line, nl + 1, have - used);
			have -= used;
		}
	}
	for (;;) {
		pid_t w = waitpid(pid, ret_wstatus, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= deadline)
			goto timeout;
		sleep_ms(10, NULL);
	}
timeout:
	(void)kill(pid, SIGKILL);
	(void)wait_child(pid, ret_wstatus);
	return -ETIMEDOUT;
}

int gpgv_verify(const uint8_t *keyring, size_t keyring_len, const uint8_t *sig, size_t sig_len,
		const uint8_t *data, size_t len, struct gpg_status *ret, char *msg, size_t msglen)
{
	_cleanup_free_ uint8_t *dearmored = NULL;
	_cleanup_close_ int kfd = -1, sfd = -1, dfd = -1, nullfd = -1;
	int pipefd[2] = { -1, -1 }, wstatus, r;
	const char *gpgv = find_gpgv();
	pid_t pid;

	*ret = (struct gpg_status){ 0 };
	if (!gpgv) {
		snprintf(msg, msglen, "gpgv is not installed here; install it (apt-get install gpgv) "
				      "or check the checksum list another way and pass --sha256");
		return -ENOENT;
	}
	if (openpgp_is_armored((const char *)keyring, keyring_len)) {
		size_t n;
		r = openpgp_dearmor((const char *)keyring, keyring_len, &dearmored, &n);
		if (r < 0) {
			snprintf(msg, msglen, "the keyring is armored but broken (%s)", strerror(-r));
			return -EBADMSG;
		}
		keyring = dearmored;
		keyring_len = n;
	} else if (keyring_len == 0 || !(keyring[0] & 0x80)) {
		/* every OpenPGP packet starts with a tag byte whose top bit is set */
		snprintf(msg, msglen, "the keyring is not an OpenPGP key file (binary, or armored "
				      "\"-----BEGIN PGP PUBLIC KEY BLOCK-----\")");
		return -EBADMSG;
	}

	kfd = memfd_with("keyring", keyring, keyring_len);
	sfd = memfd_with("signature", sig, sig_len);
	dfd = memfd_with("data", data, len);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (kfd < 0 || sfd < 0 || dfd < 0 || nullfd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		r = kfd < 0 ? kfd : sfd < 0 ? sfd : dfd < 0 ? dfd : -errno;
		snprintf(msg, msglen, "cannot prepare to run gpgv: %s", strerror(-r));
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		snprintf(msg, msglen, "cannot run gpgv: %s", strerror(-r));
		return r;
	}
	if (pid == 0) {
		char kpath[64], spath[64], dpath[64], sfdstr[16];
		/* status on the pipe, kept open across exec; gpgv's own chatter (it names keys and
		 * dates) is not needed. All these fds are above 2 (0-2 are open), so the dup2s
		 * below cannot close one of them. */
		if (fcntl(pipefd[1], F_SETFD, 0) < 0 || dup2(nullfd, 0) < 0 || dup2(nullfd, 1) < 0 ||
		    dup2(nullfd, 2) < 0)
			_exit(127);
		snprintf(sfdstr, sizeof(sfdstr), "%d", pipefd[1]);
		snprintf(kpath, sizeof(kpath), "/proc/self/fd/%d", kfd);
		snprintf(spath, sizeof(spath), "/proc/self/fd/%d", sfd);
		snprintf(dpath, sizeof(dpath), "/proc/self/fd/%d", dfd);
		/* an empty private home: never the user's own keyrings or options */
		setenv("GNUPGHOME", "/nonexistent-reimage-gnupghome", 1);
		/* gpgv gets the dispositions of a fresh process, not our ignored SIGPIPE */
		signal(SIGPIPE, SIG_DFL);
		execl(gpgv, "gpgv", "--status-fd", sfdstr, "--keyring", kpath, "--", spath, dpath,
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	r = read_status(pipefd[0], pid, ret, &wstatus);
	close(pipefd[0]);
	if (r == -ETIMEDOUT) {
		snprintf(msg, msglen,
			 "gpgv did not finish checking the signature within %llu s (a signature file "
			 "with very many signatures?); it was stopped: the checksum list is not trusted",
			 (unsigned long long)(gpgv_timeout_ms() / 1000));
		return r;
	}
	if (r < 0) {
		snprintf(msg, msglen, "lost track of gpgv: %s", strerror(-r));
		return r;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && ret->n_signatures == 0) {
		snprintf(msg, msglen, "cannot run %s", gpgv);
		return -ENOEXEC;
	}
	/* both must agree: gpgv's exit status and what its status lines say */
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && gpg_status_is_good(ret))
		return 0;
	explain(ret, msg, msglen);
	return -EKEYREJECTED;
}
