// SPDX-License-Identifier: GPL-2.0-or-later
/* Entry point of the multi-call binary: picks the subcommand. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "basic/macro.h"
#include "cmd/commands.h"
#include "init/init.h"

static int cmd_init(int argc, char *argv[])
{
	fprintf(stderr, "reimage init: error: this is PID 1 of the flasher and runs only as process 1 "
			"(it mounts file systems, loads drivers and reboots); build a flasher with "
			"'reimage initrd'\n");
	return 2;
}

static const struct command commands[] = {
	{ "flash", cmd_flash, "stream an image (URL, file or stdin) onto a disk or into a file" },
	{ "go", cmd_go, "reimage this machine in place: build the flasher, kexec into it" },
	{ "initrd", cmd_initrd, "build the RAM-only flasher initramfs, or list one" },
	{ "bundle", cmd_bundle, "write one executable that reimages the machine it runs on" },
	{ "configure", cmd_configure, "fit a written disk and give its system this machine's identity" },
	{ "kexec", cmd_kexec, "load a kernel (kexec_file_load, or kexec_load where there is none), unload it, or jump into it" },
	{ "status", cmd_status, "inside a flasher: what it is doing, what was written, the hold" },
	{ "done", cmd_done, "inside a flasher in hold mode: end the hold (reboot, poweroff, kexec)" },
	{ "init", cmd_init, "PID 1 of the flasher (automatic when run as process 1)" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: reimage COMMAND [OPTIONS] ...\n"
		"\n"
		"Reimage a disk from an image streamed over HTTP(S), verified on the way.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the version\n"
		"\n"
		"Run 'reimage COMMAND --help' for the options of a command.\n");
}

int main(int argc, char *argv[])
{
	/* Every command may hold secrets (request headers, URL credentials, a job with a client
	 * key, hold-mode keys): no core dump of them, no /proc/PID/mem or ptrace for other users.
	 * Inherited by the flasher's worker, which PID 1 forks. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* the flasher's /init */
	if (getpid() == 1)
		init_main();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("reimage %s\n", REIMAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "reimage: error: unknown command '%s'; run 'reimage --help' for the list\n",
		argv[1]);
	return 2;
}
