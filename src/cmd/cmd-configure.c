// SPDX-License-Identifier: GPL-2.0-or-later
/* reimage configure: the flasher's post-write step, by hand, on a disk that is not in use. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "cmd/commands.h"
#include "cmd/identity-options.h"
#include "flash/target-check.h"
#include "init/configure.h"
#include "net/carry.h"

static void help(void)
{
	printf("Usage: reimage configure DISK [OPTIONS]\n"
	       "\n"
	       "Do to DISK what the flasher does after a verified write: move the backup GPT to\n"
	       "the disk's end and, as the options ask, grow the root partition and file system\n"
	       "and write this machine's identity into the system on it. For an image written\n"
	       "with 'reimage flash' (or dd) to a disk that is not in use.\n"
	       "\n" IDENTITY_OPTIONS_HELP
	       "The flasher's view (what a job carries, for checking a job by hand):\n"
	       "      --job FILE            take the identity keys of this job file instead\n"
	       "      --identity-dir DIR    its identity files (default " IDENTITY_DIR ")\n"
	       "      --yes                 do not ask to type the device name\n"
	       "  -h, --help\n");
}

enum { OPT_JOB = 0x100, OPT_IDENTITY_DIR, OPT_YES };

static const struct option options[] = {
	{ "job", required_argument, NULL, OPT_JOB },
	{ "identity-dir", required_argument, NULL, OPT_IDENTITY_DIR },
	{ "yes", no_argument, NULL, OPT_YES },
	IDENTITY_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{}
};

int cmd_configure(int argc, char *argv[])
{
	struct identity_options io;
	struct identity_collected ic = { 0 };
	struct identity_source src = { 0 };
	struct job j;
	const char *job_file = NULL, *dir = NULL, *disk;
	char err[2048] = "", why[1024] = "";
	struct stat st;
	bool yes = false;
	int c, r, ex = 1;

	log_set_prefix("reimage configure");
	identity_options_init(&io);
	job_init(&j);
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_JOB: job_file = optarg; break;
		case OPT_IDENTITY_DIR: dir = optarg; break;
		case OPT_YES: yes = true; break;
		case 'h': help(); return 0;
		default:
			r = identity_option_apply(&io, c, optarg);
			if (r > 0)
				break;
			if (r == 0)
				log_error("run 'reimage configure --help' for the options");
			return 2;
		}
	}
	if (argc - optind != 1) {
		log_error("expected one DISK, got %d arguments", argc - optind);
		return 2;
	}
	disk = argv[optind];
	if ((job_file || dir) && identity_options_any(&io)) {
		log_error("give either --job (with --identity-dir) or identity options, not both");
		return 2;
	}
	if (dir && !job_file) {
		log_error("--identity-dir goes with --job");
		return 2;
	}
	if (stat(disk, &st) < 0 || !S_ISBLK(st.st_mode)) {
		log_error("%s is not a block device", disk);
		return 2;
	}
	if (target_check_block_device(st.st_rdev, disk, why, sizeof(why)) < 0) {
		log_error("%s", why);
		return 2;
	}
	if (!yes) {
		char answer[64];
		fprintf(stderr, "This changes the partition table and the system on %s. Type 'yes' to "
				"go on: ",
			disk);
		if (!fgets(answer, sizeof(answer), stdin) || strncmp(answer, "yes", 3) != 0) {
			log_error("not confirmed; nothing was changed");
			return 1;
		}
	}
	if (job_file) {
		_cleanup_free_ uint8_t *text = NULL;
		size_t len;
		r = read_full_file(job_file, JOB_MAX_SIZE, &text, &len);
		if (r < 0) {
			log_error_errno(r, "cannot read --job %s: %m", job_file);
			return 2;
		}
		r = job_parse((char *)text, len, &j, err, sizeof(err));
		explicit_bzero(text, len);
		if (r < 0) {
			log_error("%s: %s", job_file, err);
			return 2;
		}
		src.dir = dir ? dir : IDENTITY_DIR;
	} else {
		if (io.keep_network || io.keep_identity) {
			char net[512];
			if (net_carry_collect(&j, net, sizeof(net)) == 0)
				log_info("network: %s", net);
		}
		r = identity_collect(&io, &j, &ic, err, sizeof(err));
		if (r < 0) {
			log_error("%s; nothing was changed", err);
			ex = 2;
			goto out;
		}
		identity_print_plan(stdout, &j, &ic);
		fflush(stdout);
		src.files = ic.files;
		src.n_files = ic.n_files;
	}
	r = configure_new_system(&j, &src, disk, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	printf("configured the system on %s\n", disk);
	ex = 0;
out:
	identity_collected_done(&ic);
	job_done(&j);
	return ex;
}
