/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the flasher has done to its disks, in /run/reimage/written: one "DEVICE PID STATE" line
 * per change of state, appended by the process that writes (the worker, or `reimage flash` in an
 * SSH session of a hold) and read by PID 1 (which fails closed for a writer that died), by the
 * hold loop (whose timeout ends with the first touched disk) and by `reimage status|done`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WRITE_STATE_FILE "/run/reimage/written"
#define WRITE_STATE_TIMEOUT_FILE "/run/reimage/reboot-timeout"

enum write_state {
	WRITE_TOUCHED,	/* the disk was changed (its ends zeroed first); not finished yet */
	WRITE_FAILED,	/* the write failed and the disk's ends are zeroed again */
	WRITE_VERIFIED, /* written, every check passed, the ends committed */
};

const char *write_state_to_string(enum write_state s);

/* Append a line for device. Errors are logged, not returned: the record is best effort, the
 * disk's ends are already safe. */
void write_state_mark(const char *device, enum write_state s);

/* The device of the last line, its writer's pid and state (each may be NULL). 1 found, 0 none. */
int write_state_last(char *dev, size_t n, pid_t *ret_pid, enum write_state *ret_state);

/* The last state recorded for device. 1 found (and *ret set), 0 never touched. */
int write_state_of(const char *device, enum write_state *ret);

/* Call fn for every device whose last state is WRITE_TOUCHED: a write that did not end. */
void write_state_foreach_unfinished(void (*fn)(const char *device, pid_t pid, void *userdata),
				    void *userdata);

/* The job's timeout for a failure that touched nothing, for PID 1 (which never reads the job):
 * write it once the job is known; read it back, or def when none was written. */
void write_state_set_reboot_timeout(uint64_t ms);
uint64_t write_state_reboot_timeout(uint64_t def);
