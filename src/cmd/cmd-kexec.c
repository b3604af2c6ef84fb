// SPDX-License-Identifier: GPL-2.0-or-later
/* reimage kexec: load a kernel with kexec_file_load, unload, report, execute. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "cmd/commands.h"
#include "initrd/initrd.h"
#include "kexec/kexec.h"

static void help(void)
{
	printf("Usage: reimage kexec KERNEL [--initrd FILE] [--cmdline S | --reuse-cmdline]\n"
	       "                    [--append S] [--exec]\n"
	       "       reimage kexec --exec | --unload | --status\n"
	       "\n"
	       "Load a kernel with kexec_file_load (signature-checked where the kernel enforces\n"
	       "it, so it works under Secure Boot with a signed kernel), and jump into it. Where\n"
	       "the kernel has no kexec_file_load (Debian's arm64 kernels), reimage lays out the\n"
	       "segments itself and uses kexec_load, with its own purgatory checking them.\n"
	       "\n"
	       "      --initrd FILE     the initramfs\n"
	       "      --cmdline S       the new kernel's command line\n"
	       "      --reuse-cmdline   the running kernel's command line (/proc/cmdline)\n"
	       "      --append S        add S to the command line\n"
	       "      --exec            jump into the loaded kernel: through 'systemctl kexec' when\n"
	       "                        systemd is PID 1, else sync and reboot(KEXEC)\n"
	       "      --unload          unload the loaded kernel\n"
	       "      --status          whether a kernel is loaded, the loader, the lockdown state\n"
	       "  -h, --help\n");
}

enum { OPT_INITRD = 0x100, OPT_CMDLINE, OPT_REUSE, OPT_APPEND, OPT_EXEC, OPT_UNLOAD, OPT_STATUS };

static const struct option options[] = {
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "reuse-cmdline", no_argument, NULL, OPT_REUSE },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "exec", no_argument, NULL, OPT_EXEC },
	{ "unload", no_argument, NULL, OPT_UNLOAD },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "help", no_argument, NULL, 'h' },
	{}
};

int cmd_kexec(int argc, char *argv[])
{
	const char *initrd = NULL, *cmdline = NULL, *append = NULL;
	bool reuse = false, exec = false, unload = false, status = false;
	char why[1024], line[KEXEC_CMDLINE_MAX + 2] = "";
	_cleanup_close_ int ifd = -EBADF;
	int c, r;

	log_set_prefix("reimage kexec");
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_INITRD: initrd = optarg; break;
		case OPT_CMDLINE: cmdline = optarg; break;
		case OPT_REUSE: reuse = true; break;
		case OPT_APPEND: append = optarg; break;
		case OPT_EXEC: exec = true; break;
		case OPT_UNLOAD: unload = true; break;
		case OPT_STATUS: status = true; break;
		case 'h': help(); return 0;
		default: log_error("run 'reimage kexec --help' for the options"); return 2;
		}
	}
	if (status) {
		char lock[64];
		int l = kexec_loaded();
		printf("kexec image loaded: %s\n", l < 0 ? "unknown" : l ? "yes" : "no");
		if (lockdown_mode(lock, sizeof(lock)) == 0)
			printf("lockdown: %s%s\n", lock,
			       strcmp(lock, "none") ? " (only signed kernels can be kexec'ed)" : "");
		else
			printf("lockdown: not available in this kernel\n");
		print_kexec_loader("loader: ");
		printf("hand-over: %s\n", systemd_is_pid1() ? "systemctl kexec (systemd is PID 1)"
							   : "sync + reboot(LINUX_REBOOT_CMD_KEXEC)");
		return 0;
	}
	if (unload) {
		if (kexec_unload(why, sizeof(why)) < 0) {
			log_error("%s", why);
			return 1;
		}
		printf("unloaded\n");
		return 0;
	}
	if (optind == argc) {
		if (!exec) {
			log_error("missing KERNEL; run 'reimage kexec --help'");
			return 2;
		}
	} else {
		if (optind + 1 != argc) {
			log_error("expected one KERNEL, got %d arguments", argc - optind);
			return 2;
		}
		if (cmdline && reuse) {
			log_error("give --cmdline or --reuse-cmdline, not both");
			return 2;
		}
		if (reuse) {
			_cleanup_free_ uint8_t *buf = NULL;
			size_t len;
			r = read_full_file("/proc/cmdline", 65536, &buf, &len);
			if (r < 0)
				return log_error_errno(r, "cannot read /proc/cmdline: %m"), 1;
			buf[strcspn((char *)buf, "\n")] = 0;
			snprintf(line, sizeof(line), "%s", (char *)buf);
		} else if (cmdline)
			snprintf(line, sizeof(line), "%s", cmdline);
		if (append) {
			size_t l = strlen(line);
			snprintf(line + l, sizeof(line) - l, "%s%s", l ? " " : "", append);
		}
		if (strlen(line) >= KEXEC_CMDLINE_MAX) {
			log_error("the command line is longer than %d bytes", KEXEC_CMDLINE_MAX - 1);
			return 2;
		}
		if (initrd) {
			ifd = open(initrd, O_RDONLY | O_CLOEXEC);
			if (ifd < 0)
				return log_error_errno(negative_errno(), "cannot open %s: %m", initrd), 1;
		}
		r = kexec_load(argv[optind], ifd, line, why, sizeof(why));
		if (r < 0) {
			log_error("%s", why);
			return 1;
		}
		printf("loaded %s%s%s with command line \"%s\"\n", argv[optind], initrd ? " and " : "",
		       initrd ? initrd : "", line);
	}
	if (exec) {
		r = kexec_exec(why, sizeof(why));
		if (r < 0) {
			log_error("%s", why);
			return 1;
		}
	}
	return 0;
}
