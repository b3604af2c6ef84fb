/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reaping child processes. */
#pragma once

#include <sys/types.h>

/* waitpid(pid) until the child has ended, through signals (EINTR): a caught SIGTERM must not
 * be mistaken for the child's failure. 0 with its wait status in *ret_status, or a negative
 * errno (-ECHILD: not our child, or already reaped). */
int wait_child(pid_t pid, int *ret_status);
