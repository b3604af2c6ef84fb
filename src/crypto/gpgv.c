// SPDX-License-Identifier: GPL-2.0-or-later
/* Running gpgv over memfds and reading its verdict from --status-fd. */
#include "crypto/gpgv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/macro.h"

#define STATUS_MAX (64U << 10)

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

int gpgv_verify(const uint8_t *keyring, size_t keyring_len, const uint8_t *sig, size_t sig_len,
		const uint8_t *data, size_t len, struct gpg_status *ret, char *msg, size_t msglen)
{
	_cleanup_free_ uint8_t *dearmored = NULL;
	_cleanup_free_ char *status = NULL;
	_cleanup_close_ int kfd = -1, sfd = -1, dfd = -1, nullfd = -1;
	int pipefd[2] = { -1, -1 }, wstatus, r;
	const char *gpgv = find_gpgv();
	size_t status_len = 0;
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
		execl(gpgv, "gpgv", "--status-fd", sfdstr, "--keyring", kpath, "--", spath, dpath,
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	status = malloc(STATUS_MAX + 1);
	if (!status) {
		close(pipefd[0]);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(pipefd[0], status + status_len, STATUS_MAX - status_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		status_len += (size_t)n;
		if (status_len == STATUS_MAX)
			break; /* far more than a verdict needs; the rest is not read */
	}
	close(pipefd[0]);
	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR) {
			snprintf(msg, msglen, "lost track of gpgv: %m");
			return -ECHILD;
		}
	status[status_len] = 0;
	gpg_status_parse(status, status_len, ret);
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
