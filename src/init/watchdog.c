// SPDX-License-Identifier: GPL-2.0-or-later
/* Petting /dev/watchdog during the job. */
#include "init/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"

static int wd_fd = -1;
static volatile int wd_stop;
static pthread_t wd_thread;
static unsigned interval_s = 5;

static void *pet(void *arg)
{
	while (!wd_stop) {
		(void)ioctl(wd_fd, WDIOC_KEEPALIVE, 0);
		sleep_ms(interval_s * 1000ULL, &wd_stop);
	}
	return NULL;
}

/* A process forked from the petting one (hold mode's SSH supervisor) must not keep the device
 * open: /dev/watchdog admits one opener, and PID 1 has to open it to disarm it when the worker
 * dies. Dropping the child's reference leaves the device armed and the parent's open intact. */
static void forget_in_child(void)
{
	wd_fd = safe_close(wd_fd);
}

int watchdog_start(void)
{
	static bool atfork_set;
	int timeout = 0;

	if (access("/dev/watchdog", F_OK) < 0)
		return 0;
	wd_fd = open("/dev/watchdog", O_WRONLY | O_CLOEXEC);
	if (wd_fd < 0)
		return log_warning_errno(negative_errno(), "cannot open /dev/watchdog: %m");
	if (!atfork_set && pthread_atfork(NULL, NULL, forget_in_child) == 0)
		atfork_set = true;
	if (ioctl(wd_fd, WDIOC_GETTIMEOUT, &timeout) == 0 && timeout > 0)
		interval_s = timeout > 4 ? (unsigned)timeout / 3 : 1;
	wd_stop = 0;
	if (pthread_create(&wd_thread, NULL, pet, NULL) != 0) {
		wd_fd = safe_close(wd_fd);
		return -EAGAIN;
	}
	log_info("watchdog: petting /dev/watchdog every %u s (timeout %d s)", interval_s, timeout);
	return 1;
}

void watchdog_stop(void)
{
	if (wd_fd < 0)
		return;
	wd_stop = 1;
	pthread_join(wd_thread, NULL);
	/* the magic close disarms drivers without "nowayout" */
	if (write(wd_fd, "V", 1) != 1)
		log_debug("watchdog: magic close not accepted");
	wd_fd = safe_close(wd_fd);
	log_info("watchdog: stopped petting");
}

int watchdog_disarm(void)
{
	_cleanup_close_ int fd = -EBADF;

	if (access("/dev/watchdog", F_OK) < 0)
		return 0;
	/* the dead process's descriptor is closed, so the device can be opened again */
	fd = open("/dev/watchdog", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return log_warning_errno(negative_errno(), "cannot open /dev/watchdog to stop it: %m");
	if (write(fd, "V", 1) != 1)
		return log_warning_errno(negative_errno(), "watchdog: magic close not accepted: %m");
	log_info("watchdog: stopped (a driver with nowayout still resets the machine; its disk's "
		 "ends are zeroed, so the firmware finds nothing to boot there)");
	return 1;
}
