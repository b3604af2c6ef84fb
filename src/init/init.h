/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reimage as PID 1 of the flasher: set up the system, run the job in a worker process, reap,
 * and never exit (the kernel panics when PID 1 exits). */
#pragma once

#include <stdint.h>

/* Does not return. */
_Noreturn void init_main(void);

/* The job runner, in the worker process: job, watchdog, drivers, network, target, flash, end
 * action. Does not return either: it reboots, powers off, or holds. */
_Noreturn void worker_main(void);

/* Stay up and say why every minute. */
_Noreturn void hold_forever(const char *state, const char *message);

/* A failure that wrote nothing: say why every minute, then reboot into the old system. */
_Noreturn void reboot_after(const char *state, const char *message, uint64_t timeout_ms);

/* Record the flasher's state in /run/reimage/status for `reimage status` and the hold loop. */
void status_write(const char *state, const char *message);
