// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the job file, its writer (round trip), and jobs on the kernel command line. */
#include "format/cmdline.h"
#include "format/job.h"
#include "fuzz.h"

static int ignore(const char *k, const char *v, void *u)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job j, k;
	char err[256], *text, *s;

	if (job_parse((const char *)data, size, &j, err, sizeof(err)) == 0) {
		if (job_format(&j, &text) == 0) {
			char *again;
			/* what we write, we must read back, and it must say the same: written
			 * again, it is the same text (nothing trimmed, lost or reordered) */
			if (job_parse(text, strlen(text), &k, err, sizeof(err)) != 0)
				abort();
			if (job_format(&k, &again) == 0) {
				if (strcmp(text, again) != 0)
					abort();
				free(again);
			}
			job_done(&k);
			free(text);
		}
		job_done(&j);
	}
	s = fuzz_strndup(data, size);
	if (s) {
		char carried[512] = "";

		(void)cmdline_foreach(s, ignore, NULL);
		/* what the flasher's command line gets of it: bounded, and never a quote */
		if (cmdline_carry(s, carried, sizeof(carried)) >= 0 &&
		    (strlen(carried) >= sizeof(carried) / 2 || strchr(carried, '"')))
			abort();
		if (job_from_cmdline(s, &j, err, sizeof(err)) == 1)
			job_done(&j);
		free(s);
	}
	return 0;
}
