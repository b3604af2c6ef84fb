/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waiting on a file descriptor under a deadline that a stop flag can cut short. */
#pragma once

#include <stdint.h>

/* Wait until fd is readable (or has hung up), until the monotonic time deadline_ms (see
 * now_ms()), in slices of at most 200 ms so that *stop, when given, is noticed soon after it is
 * set. 1 when readable; 0 when the deadline came first; -ECANCELED when *stop was set; another
 * negative errno when poll() itself failed. Signals (EINTR) only restart the wait. */
int fd_wait_readable(int fd, uint64_t deadline_ms, const volatile int *stop);
