/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Collecting what the new system gets of this machine (SSH host keys, authorized keys, host
 * name, cloud-init data, copied files) into job keys and files of the 0600 job archive, under
 * etc/reimage/identity/ (read there by init/configure.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "format/job.h"
#include "format/ssh-key.h"
#include "initrd/flasher.h"

#define IDENTITY_MAX_FILES 48
#define IDENTITY_MAX_KEY_FILES 16
#define IDENTITY_COPY_MAX (16U << 20)
#define IDENTITY_COPIES_MAX (64U << 20)

struct identity_options {
	bool keep_host_keys, keep_authorized_keys, keep_network, keep_identity;
	int grow; /* -1: not said (on under keep_identity) */
	const char *hostname, *user_data, *meta_data;
	const char *key_files[IDENTITY_MAX_KEY_FILES];
	size_t n_key_files;
	const char *copies[JOB_MAX_COPIES]; /* SRC:DEST[:MODE] */
	size_t n_copies;
};

struct identity_collected {
	struct flasher_secret files[IDENTITY_MAX_FILES];
	size_t n_files;
	char host_fp[JOB_MAX_HOST_KEYS][64], host_type[JOB_MAX_HOST_KEYS][48];
	char host_dir[256];
	struct ssh_keyset authorized;
	char key_sources[1024];
	const char *copy_src[JOB_MAX_COPIES];
};

void identity_options_init(struct identity_options *o);
/* Anything asked for? */
bool identity_options_any(const struct identity_options *o);

/* Fill the job's identity keys and the archive files from this machine. The network itself
 * is carried by net/carry.c: keep_network needs it there (-EADDRNOTAVAIL otherwise). 0, or
 * -errno with err set (a file missing or unreadable, no host keys, no authorized keys). */
int identity_collect(const struct identity_options *o, struct job *j, struct identity_collected *c,
		     char *err, size_t errlen);

/* The plan's lines for it: fingerprints, never a key. */
void identity_print_plan(FILE *f, const struct job *j, const struct identity_collected *c);

/* The size of --copy number i's contents. */
size_t identity_copy_len(const struct identity_collected *c, size_t i);

/* Wipe and free. */
void identity_collected_done(struct identity_collected *c);
