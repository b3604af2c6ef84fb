/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/process-util.h"

#include <errno.h>
#include <sys/wait.h>

#include "basic/macro.h"

int wait_child(pid_t pid, int *ret_status)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return negative_errno();
	*ret_status = status;
	return 0;
}
