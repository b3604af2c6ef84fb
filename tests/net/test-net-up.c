// SPDX-License-Identifier: GPL-2.0-or-later
/* Live network helper for tests/system/test_net6.py: runs the flasher's whole network bring-up
 * (src/init/network.c: a carried static configuration over a rebuilt VLAN/bond/bridge stack,
 * or DHCPv4, SLAAC and DHCPv6 racing) for a job file, in the network namespace it is started
 * in. Not a meson test: it reconfigures that namespace. Prints NETWORK-UP or
 * NETWORK-FAILED: <why>; the flasher's log lines go to stderr. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/time-util.h"
#include "format/job.h"
#include "init/network.h"
#include "initrd/initrd.h"

static int run(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "resolv-conf", required_argument, NULL, 'c' },
		{ "stay-ms", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{}
	};
	_cleanup_free_ char *text = NULL;
	uint64_t stay_ms = 0;
	char err[1024], why[2048];
	struct job j;
	size_t len;
	int c, r;

	while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			network_resolv_conf = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &stay_ms) < 0)
				return log_error_errno(-EINVAL, "Bad --stay-ms");
			break;
		case 'v':
			log_set_max_level(LOG_LEVEL_DEBUG);
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind + 1 != argc)
		return log_error_errno(-EINVAL, "Usage: %s [--resolv-conf PATH] JOBFILE", argv[0]);
	r = read_full_file(argv[optind], JOB_MAX_SIZE, (uint8_t **)&text, &len);
	if (r < 0)
		return log_error_errno(r, "Cannot read %s: %m", argv[optind]);
	r = job_parse(text, len, &j, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "Bad job: %s", err);
	r = network_up(&j, NULL, why, sizeof(why));
	if (r < 0)
		printf("NETWORK-FAILED: %s\n", why);
	else
		printf("NETWORK-UP\n");
	fflush(stdout);
	if (r >= 0 && stay_ms)
		sleep_ms(stay_ms, NULL);
	network_stop();
	job_done(&j);
	return r;
}

int main(int argc, char *argv[])
{
	log_set_prefix("flasher");
	return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
