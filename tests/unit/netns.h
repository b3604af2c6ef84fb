/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For tests that change network configuration: move the calling thread into a fresh network
 * namespace (so nothing of the host's is touched) or skip the test (exit 77) where that is not
 * allowed. */
#pragma once

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define EXIT_TEST_SKIP 77

static inline void netns_enter_private_or_skip(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET) failed, skipping (needs root)");
		exit(EXIT_TEST_SKIP);
	}
}

/* Run a shell command (iproute2) in the namespace of the calling thread, or skip. */
static inline void netns_sh_or_skip(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "'%s' failed, skipping (iproute2 or veth missing?)\n", cmd);
		exit(EXIT_TEST_SKIP);
	}
}
