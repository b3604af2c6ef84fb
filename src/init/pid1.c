// SPDX-License-Identifier: GPL-2.0-or-later
/* PID 1 of the flasher: mounts, console, Ctrl-Alt-Del, the worker, reaping. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "flash/sink.h"
#include "init/init.h"
#include "init/watchdog.h"
#include "init/write-state.h"

static void mount_one(const char *src, const char *target, const char *type, unsigned long flags,
		      const char *data)
{
	(void)mkdir(target, 0755);
	if (mount(src, target, type, flags, data) < 0 && errno != EBUSY)
		log_warning_errno(negative_errno(), "cannot mount %s on %s: %m", type, target);
}

static void setup_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	/* the kernel already gave us the console as 0-2 when it existed in the initramfs;
	 * make sure anyway, e.g. when started another way */
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

void status_write(const char *state, const char *message)
{
	_cleanup_fclose_ FILE *f = NULL;

	(void)mkdir("/run/reimage", 0755);
	f = fopen("/run/reimage/status.tmp", "we");
	if (!f)
		return;
	fprintf(f, "state=%s\nmessage=%s\n", state, message ? message : "");
	if (fflush(f) == 0)
		(void)rename("/run/reimage/status.tmp", "/run/reimage/status");
}

_Noreturn void hold_forever(const char *state, const char *message)
{
	status_write(state, message);
	for (unsigned minutes = 0;; minutes++) {
		log_notice("holding (%s), %u min so far, with no timeout: %s", state, minutes, message);
		log_notice("the machine stays up; the disk is not bootable unless the job "
			   "succeeded. Power-cycle or reflash it when ready.");
		sleep(60);
	}
}

_Noreturn void reboot_after(const char *state, const char *message, uint64_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	char left[32];

	status_write(state, message);
	for (;;) {
		uint64_t now = now_ms();

		if (now >= deadline)
			break;
		format_duration(deadline - now, left, sizeof(left));
		log_notice("the job ended (%s): %s", state, message);
		log_notice("nothing was written to any disk: rebooting into the untouched old system "
			   "in %s",
			   left);
		sleep_ms(MIN(deadline - now, 60000ULL), NULL);
	}
	log_notice("rebooting into the untouched old system now");
	sync();
	(void)reboot(RB_AUTOBOOT);
	hold_forever(state, "the reboot into the old system failed");
}

static void zero_unfinished(const char *device, pid_t pid, void *userdata)
{
	int r = sink_zero_ends(device);

	(void)userdata;
	if (r < 0)
		log_error("the write to %s (pid %d) did not finish, and zeroing its first and last "
			  "MiB failed: %s; do not boot from it",
			  device, (int)pid, strerror(-r));
	else {
		log_notice("the write to %s (pid %d) did not finish: its first and last MiB are "
			   "zeroed, so nothing boots a partial image",
			   device, (int)pid);
		write_state_mark(device, WRITE_FAILED);
	}
}

/* The worker is gone without ending the job its own way: fail closed for every disk it was
 * writing, make sure no watchdog resets the machine, then hold (a disk was touched) or reboot
 * into the untouched old system after the job's timeout (nothing was). */
static pid_t after_worker_died(void)
{
	bool touched;
	pid_t p;

	write_state_foreach_unfinished(zero_unfinished, NULL);
	(void)watchdog_disarm();
	touched = write_state_last(NULL, 0, NULL, NULL) > 0;
	/* keep reaping while holding: a child process could still come and go */
	p = fork();
	if (p != 0)
		return p;
	if (touched)
		hold_forever("failed", "the job ended unexpectedly; the disk it wrote cannot boot "
				       "(its first and last MiB are zeroed); see the messages above");
	reboot_after("failed", "the job ended unexpectedly before writing anything",
		     write_state_reboot_timeout(15ULL * 60 * 1000));
}

_Noreturn void init_main(void)
{
	pid_t worker;

	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	setup_console();
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	/* terminals for the SSH sessions of hold mode */
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
	{
		int kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
		if (kmsg >= 0)
			log_set_kmsg_fd(kmsg);
	}
	log_set_prefix("reimage");
	/* Ctrl-Alt-Del sends SIGINT to PID 1 (ignored) instead of an instant reboot */
	(void)reboot(RB_DISABLE_CAD);
	setenv("PATH", "/usr/bin:/bin:/usr/sbin:/sbin", 1);
	log_info("flasher started (reimage %s)", REIMAGE_VERSION);
	status_write("starting", "");

	worker = fork();
	if (worker == 0)
		worker_main();
	if (worker < 0)
		hold_forever("failed", "cannot start the worker process");

	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, 0);

		if (p < 0) {
			if (errno == ECHILD)
				sleep(1);
			continue;
		}
		if (p != worker || worker < 0)
			continue;
		if (WIFSIGNALED(status))
			log_error("the worker died of signal %d (%s)", WTERMSIG(status),
				  strsignal(WTERMSIG(status)));
		else
			log_error("the worker exited with status %d", WEXITSTATUS(status));
		worker = -1;
		(void)after_worker_died();
	}
}
