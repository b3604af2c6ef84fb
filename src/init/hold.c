// SPDX-License-Identifier: GPL-2.0-or-later
/* Hold mode at run time: dropbear, waiting for the operator, the timeout, the end action. */
#include "init/hold.h"
#include "init/write-state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/process-util.h"
#include "basic/time-util.h"
#include "init/boot-new.h"
#include "init/init.h"
#include "init/watchdog.h"
#include "initrd/hold.h"
#include "initrd/initrd.h"

#define MAX_HOST_KEYS 3

static void write_atomic(const char *path, const char *text)
{
	char tmp[256];
	_cleanup_close_ int fd = -1;

	(void)mkdir(HOLD_RUN_DIR, 0755);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || rename(tmp, path) < 0)
		(void)unlink(tmp);
}

static void info_write(const struct job *j, uint64_t deadline_ms, bool holding)
{
	char text[256];

	snprintf(text, sizeof(text), "pid=%d\nport=%u\ndeadline_ms=%llu\ntimeout_ms=%llu\nholding=%d\n",
		 (int)getpid(), j->ssh_port, (unsigned long long)deadline_ms,
		 (unsigned long long)j->hold_timeout_ms, holding);
	write_atomic(HOLD_INFO_FILE, text);
}

void hold_announce(const struct job *j)
{
	info_write(j, 0, false);
}

int hold_info_read(struct hold_info *ret)
{
	_cleanup_fclose_ FILE *f = fopen(HOLD_INFO_FILE, "re");
	struct hold_info h = { 0 };
	char line[128];
	unsigned seen = 0;

	if (!f)
		return errno == ENOENT ? -ENOENT : -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char key[32];
		if (sscanf(line, "%31[a-z_]=%llu", key, &v) != 2)
			return -EBADMSG;
		if (!strcmp(key, "pid"))
			h.pid = (pid_t)v, seen |= 1;
		else if (!strcmp(key, "port"))
			h.port = (unsigned)v;
		else if (!strcmp(key, "deadline_ms"))
			h.deadline_ms = v;
		else if (!strcmp(key, "timeout_ms"))
			h.timeout_ms = v;
		else if (!strcmp(key, "holding"))
			h.holding = v != 0;
	}
	if (!(seen & 1) || h.pid <= 1)
		return -EBADMSG;
	*ret = h;
	return 0;
}

bool hold_is_active(void)
{
	struct hold_info h;

	return hold_info_read(&h) == 0;
}

/* May `reimage done kexec` boot disk? Only a write that finished verified. 0, or -EPERM with the
 * reason in err. */
int hold_may_boot(const char *disk, char *err, size_t errlen)
{
	enum write_state st;

	if (write_state_of(disk, &st) <= 0) {
		snprintf(err, errlen,
			 "%s was not written in this flasher: 'reimage done kexec' boots only an "
			 "image written and verified here; use 'reimage done reboot' to start what "
			 "the firmware finds",
			 disk);
		return -EPERM;
	}
	if (st != WRITE_VERIFIED) {
		snprintf(err, errlen,
			 "the write to %s %s: nothing unverified is booted; write it again with "
			 "'reimage flash', or 'reimage done reboot'",
			 disk, st == WRITE_FAILED ? "failed (its first and last MiB are zeroed)"
						  : "did not finish");
		return -EPERM;
	}
	return 0;
}

/* --- the SSH server --- */

static _Noreturn void ssh_supervise(const struct job *j)
{
	char port[16];
	char *argv[24];
	char keys[MAX_HOST_KEYS][96];
	size_t n = 0, nk = 0;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(port, sizeof(port), "%u", j->ssh_port);
	/* -F foreground (supervised here), -E log to stderr (the console), -s keys only,
	 * -j -k no port forwarding: the flasher is not a jump host */
	argv[n++] = (char *)HOLD_DROPBEAR;
	argv[n++] = (char *)"-F";
	argv[n++] = (char *)"-E";
	argv[n++] = (char *)"-s";
	argv[n++] = (char *)"-j";
	argv[n++] = (char *)"-k";
	argv[n++] = (char *)"-p";
	argv[n++] = port;
	argv[n++] = (char *)"-P";
	argv[n++] = (char *)"/run/dropbear.pid";
	{
		static const char *const names[] = { "ed25519", "ecdsa", "rsa" };
		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			snprintf(keys[nk], sizeof(keys[nk]), "%s/dropbear_%s_host_key",
				 HOLD_HOST_KEY_DIR, names[i]);
			if (access(keys[nk], R_OK) == 0) {
				argv[n++] = (char *)"-r";
				argv[n++] = keys[nk++];
			}
		}
	}
	argv[n] = NULL;
	if (nk == 0)
		log_warning("ssh: no host key in %s; dropbear cannot start", HOLD_HOST_KEY_DIR);
	if (access(HOLD_AUTHORIZED_KEYS, R_OK) < 0)
		log_warning("ssh: no %s: nobody can log in", HOLD_AUTHORIZED_KEYS);
	for (unsigned restarts = 0;; restarts++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[0], argv);
			log_error_errno(negative_errno(), "ssh: cannot run %s: %m", argv[0]);
			_exit(127);
		}
		if (pid < 0) {
			log_error_errno(negative_errno(), "ssh: cannot fork: %m");
			sleep(5);
			continue;
		}
		if (restarts == 0)
			log_info("ssh: dropbear listening on port %u (%zu host keys)", j->ssh_port, nk);
		if (wait_child(pid, &status) < 0)
			status = 0;
		if (WIFSIGNALED(status))
			log_error("ssh: dropbear died of signal %d; restarting it in 2 s",
				  WTERMSIG(status));
		else
			log_error("ssh: dropbear exited with status %d; restarting it in 2 s",
				  WEXITSTATUS(status));
		/* a dropbear that cannot start at all must not flood the console */
		sleep(restarts < 5 ? 2 : 30);
	}
}

void hold_ssh_start(const struct job *j)
{
	pid_t pid = fork();

	if (pid == 0)
		ssh_supervise(j);
	if (pid < 0)
		log_error_errno(negative_errno(), "ssh: cannot start the supervisor: %m");
}

/* --- the wait --- */

/* Processes of logged-in SSH sessions: children of dropbear's per-connection processes. Only
 * an authenticated connection has one, so reconnecting without a key cannot hold the timeout
 * off. */
int hold_ssh_sessions(void)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	_cleanup_free_ uint8_t *pidtext = NULL;
	pid_t master, conns[64], ppids[2048][2];
	size_t n_conns = 0, n = 0, len;
	struct dirent *de;
	int sessions = 0;

	if (!d || read_full_file("/run/dropbear.pid", 64, &pidtext, &len) < 0)
		return 0;
	master = (pid_t)strtol((char *)pidtext, NULL, 10);
	while ((de = readdir(d)) && n < ELEMENTSOF(ppids)) {
		char path[64], buf[512], *rp;
		_cleanup_close_ int fd = -1;
		ssize_t r;
		int ppid;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (r = read(fd, buf, sizeof(buf) - 1)) <= 0)
			continue;
		buf[r] = 0;
		/* "pid (comm) state ppid": comm may hold spaces and parentheses */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
			continue;
		ppids[n][0] = (pid_t)strtol(de->d_name, NULL, 10);
		ppids[n][1] = (pid_t)ppid;
		n++;
	}
	for (size_t i = 0; i < n && n_conns < ELEMENTSOF(conns); i++)
		if (ppids[i][1] == master)
			conns[n_conns++] = ppids[i][0];
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < n_conns; c++)
			if (ppids[i][1] == conns[c])
				sessions++;
	return sessions;
}

static void continue_after_sleep(const sigset_t *set)
{
	struct timespec ts = { .tv_sec = 1 };

	(void)sigtimedwait(set, NULL, &ts);
}

static _Noreturn void end_hold(const char *action, const char *target, const struct job *j)
{
	char err[512] = "";
	int r;

	status_write("ending", action);
	sync();
	/* the operator's `reimage done` prints its answer before the connection drops */
	sleep_ms(1000, NULL);
	if (!strcmp(action, "poweroff")) {
		log_notice("hold ended by 'reimage done poweroff': powering off");
		(void)reboot(RB_POWER_OFF);
	} else if (!strcmp(action, "kexec")) {
		char disk[256] = "";
		if (target && target[0])
			snprintf(disk, sizeof(disk), "%s", target);
		else if (write_state_last(disk, sizeof(disk), NULL, NULL) <= 0 && j->dst)
			snprintf(disk, sizeof(disk), "%s", j->dst);
		log_notice("hold ended by 'reimage done kexec': starting the system on %s",
			   disk[0] ? disk : "(no disk)");
		r = disk[0] ? boot_new_system(disk, err, sizeof(err)) : -ENODEV;
		log_error("kexec into the new system failed: %s; rebooting instead",
			  disk[0] ? err : "no disk was written and none was named");
		sync();
		(void)reboot(RB_AUTOBOOT);
		(void)r;
	} else {
		log_notice("hold ended by 'reimage done reboot': rebooting");
		(void)reboot(RB_AUTOBOOT);
	}
	hold_forever("failed", "the end action of the hold failed");
}

/* 1 with the request taken (and its file removed), 0 none. */
static int take_request(char *action, size_t an, char *target, size_t tn)
{
	_cleanup_fclose_ FILE *f = fopen(HOLD_REQUEST_FILE, "re");
	char line[512];

	if (!f)
		return 0;
	(void)unlink(HOLD_REQUEST_FILE);
	if (!fgets(line, sizeof(line), f))
		return 0;
	line[strcspn(line, "\n")] = 0;
	target[0] = 0;
	{
		char *sp = strchr(line, ' ');
		if (sp) {
			*sp = 0;
			snprintf(target, tn, "%s", sp + 1);
		}
	}
	if (strcmp(line, "reboot") && strcmp(line, "poweroff") && strcmp(line, "kexec")) {
		log_warning("ignoring an unknown request '%.32s' in %s", line, HOLD_REQUEST_FILE);
		return 0;
	}
	snprintf(action, an, "%s", line);
	return 1;
}

_Noreturn void hold_wait(const struct job *j, const char *state, const char *message)
{
	uint64_t start = now_ms(), deadline = j->hold_timeout_ms ? start + j->hold_timeout_ms : 0;
	uint64_t next_note = 0;
	sigset_t usr1;
	bool written_noted = false, session_noted = false;

	watchdog_stop();
	/* `reimage done` wakes us with SIGUSR1; blocked, it is only ever taken by sigtimedwait */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	status_write(state, message);
	info_write(j, deadline, true);
	log_notice("holding (%s)%s%s: SSH on port %u; end it with 'reimage done "
		   "reboot|poweroff|kexec'",
		   state, message && message[0] ? ": " : "", message ? message : "", j->ssh_port);
	for (;;) {
		struct timespec ts = { .tv_sec = 1 };
		char action[32], target[256], dev[256];
		bool written = write_state_last(dev, sizeof(dev), NULL, NULL) > 0;
		uint64_t now = now_ms();

		if (take_request(action, sizeof(action), target, sizeof(target))) {
			char disk[256] = "", why[512];

			if (strcmp(action, "kexec") != 0)
				end_hold(action, target, j);
			if (target[0])
				snprintf(disk, sizeof(disk), "%s", target);
			else if (!written && j->dst)
				snprintf(disk, sizeof(disk), "%s", j->dst);
			else
				snprintf(disk, sizeof(disk), "%s", dev);
			if (hold_may_boot(disk, why, sizeof(why)) == 0)
				end_hold(action, disk, j);
			log_error("not starting the system on %s: %s; still holding", disk, why);
		}
		if (written && !written_noted) {
			written_noted = true;
			next_note = 0;
			log_notice("%s was written: the hold timeout no longer applies; waiting for "
				   "'reimage done'",
				   dev);
		}
		if (!written && deadline && now >= deadline && hold_ssh_sessions() > 0) {
			/* never pull the machine from under a logged-in operator */
			if (!session_noted)
				log_notice("the hold timeout passed, but an operator is logged in: it "
					   "waits until the sessions end");
			session_noted = true;
			continue_after_sleep(&usr1);
			continue;
		}
		if (session_noted) {
			/* the last session just ended: a minute to come back before the reboot */
			session_noted = false;
			deadline = now + 60000;
			info_write(j, deadline, true);
			log_notice("the SSH sessions ended with nothing written: rebooting into the old "
				   "system in 60 s unless a disk is written or someone logs in");
			continue;
		}
		if (!written && deadline && now >= deadline) {
			char d[32];
			format_duration(j->hold_timeout_ms, d, sizeof(d));
			log_notice("the hold timeout (%s) passed and nothing was written: rebooting "
				   "into the untouched old system",
				   d);
			end_hold("reboot", NULL, j);
		}
		if (now >= next_note) {
			char d[32];
			if (written)
				log_notice("holding (%s): %s was written; waiting for 'reimage done "
					   "reboot|poweroff|kexec' over SSH (port %u), with no "
					   "timeout",
					   state, dev, j->ssh_port);
			else if (deadline) {
				format_duration(deadline - now, d, sizeof(d));
				log_notice("holding (%s): SSH on port %u; nothing written yet; reboots "
					   "into the old system in %s unless a disk is written",
					   state, j->ssh_port, d);
			} else
				log_notice("holding (%s): SSH on port %u; nothing written; no timeout",
					   state, j->ssh_port);
			next_note = now + 60000;
		}
		(void)sigtimedwait(&usr1, NULL, &ts);
	}
}
