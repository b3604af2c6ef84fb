/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one table of process exit codes shared by every subcommand and the bundle loader, so a
 * script reads the same number the same way whatever it ran (reimage(1), EXIT STATUS). */
#pragma once

enum reimage_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,   /* failed, refused by the user, or an internal error; kexec --status:
			    * nothing is loaded */
	EXIT_USAGE = 2,    /* bad options or arguments, an unreadable option file, a bad job */
	EXIT_SOURCE = 3,   /* the source (or a checksum list, a signature) cannot be read: HTTP,
			    * network, TLS, a missing file */
	EXIT_VERIFY = 4,   /* a digest or signature did not match, no checksum entry */
	EXIT_DATA = 5,     /* corrupt, truncated or unusable data: an image that does not decompress
			    * or is in a format reimage does not write, a
			    * damaged or foreign bundle or initramfs */
	EXIT_TARGET = 6,   /* the target was refused: in use, too small, not a whole disk, not
			    * the disk the job was made for, missing */
	EXIT_WRITE = 7,    /* writing to the target failed */
	EXIT_MACHINE = 8,  /* this machine cannot do it: not root, no kexec_file_load or kexec
			    * disabled, not enough memory */
	EXIT_SIGNAL_BASE = 128, /* + the signal number, as a shell reports a killed command */
};

/* The exit code for a run ended by signal sig (SIGINT 130, SIGTERM 143, SIGHUP 129). */
static inline int exit_code_for_signal(int sig)
{
	return EXIT_SIGNAL_BASE + (sig > 0 && sig < 64 ? sig : 2);
}
