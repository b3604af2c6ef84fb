/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hold mode at run time: the SSH server, the wait for `reimage done` or the timeout, and the
 * small files under /run/reimage through which `reimage flash`, `reimage status` and
 * `reimage done` (run from an operator's SSH session) talk to the holding worker. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "format/job.h"

#define HOLD_RUN_DIR "/run/reimage"
#define HOLD_INFO_FILE HOLD_RUN_DIR "/hold"	     /* the holding worker's pid, port, deadline */
#define HOLD_REQUEST_FILE HOLD_RUN_DIR "/done-request" /* "ACTION [TARGET]" */
#define HOLD_STATUS_FILE HOLD_RUN_DIR "/status"
#define HOLD_EVENTS_FILE HOLD_RUN_DIR "/events" /* the report events, one JSON object a line */

struct hold_info {
	pid_t pid;		/* the worker; `reimage done` signals it with SIGUSR1 */
	unsigned port;
	uint64_t deadline_ms;	/* CLOCK_MONOTONIC; 0: no timeout */
	uint64_t timeout_ms;
	bool holding;		/* 0 while the job of a hold runs */
};

/* Start dropbear in a supervising child process that restarts it when it dies. */
void hold_ssh_start(const struct job *j);

/* Record hold mode before anything else runs, so `reimage flash` in a session marks its
 * writes even while the job still runs. */
void hold_announce(const struct job *j);

/* Wait for `reimage done` (reboot, poweroff, kexec) or, while nothing was written to a disk,
 * for the hold timeout (then reboot into the old system). Says what it waits for every
 * minute. Never returns. */
_Noreturn void hold_wait(const struct job *j, const char *state, const char *message);

/* Is this process running inside a flasher in hold mode? */
bool hold_is_active(void);

/* May `reimage done kexec` boot disk? Only when its last write in this flasher finished
 * verified (init/write-state.h). 0, or -EPERM with the reason in err. */
int hold_may_boot(const char *disk, char *err, size_t errlen);

/* How many logged-in SSH sessions have a process running now. */
int hold_ssh_sessions(void);

/* 0 and the info, -ENOENT outside a flasher in hold mode, -EBADMSG. */
int hold_info_read(struct hold_info *ret);

