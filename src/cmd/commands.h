/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subcommands behind the multi-call binary; each returns a process exit code. */
#pragma once

struct command {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *summary;
};

int cmd_bundle(int argc, char *argv[]);
int cmd_flash(int argc, char *argv[]);
int cmd_initrd(int argc, char *argv[]);
int cmd_kexec(int argc, char *argv[]);
int cmd_go(int argc, char *argv[]);
int cmd_status(int argc, char *argv[]);
int cmd_done(int argc, char *argv[]);
int cmd_configure(int argc, char *argv[]);
