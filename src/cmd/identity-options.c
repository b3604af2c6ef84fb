// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsing the new-system identity options. */
#include "cmd/identity-options.h"

#include <errno.h>

#include "basic/log.h"

int identity_option_apply(struct identity_options *o, int c, const char *arg)
{
	switch (c) {
	case OPT_ID_KEEP_IDENTITY: o->keep_identity = true; return 1;
	case OPT_ID_KEEP_HOST_KEYS: o->keep_host_keys = true; return 1;
	case OPT_ID_KEEP_AUTHORIZED_KEYS: o->keep_authorized_keys = true; return 1;
	case OPT_ID_KEEP_NETWORK: o->keep_network = true; return 1;
	case OPT_ID_GROW: o->grow = 1; return 1;
	case OPT_ID_NO_GROW: o->grow = 0; return 1;
	case OPT_ID_HOSTNAME: o->hostname = arg; return 1;
	case OPT_ID_USER_DATA: o->user_data = arg; return 1;
	case OPT_ID_META_DATA: o->meta_data = arg; return 1;
	case OPT_ID_SSH_AUTHORIZED_KEYS:
		if (o->n_key_files >= IDENTITY_MAX_KEY_FILES) {
			log_error("too many --ssh-authorized-keys options (at most %d)",
				  IDENTITY_MAX_KEY_FILES);
			return -E2BIG;
		}
		o->key_files[o->n_key_files++] = arg;
		return 1;
	case OPT_ID_COPY:
		if (o->n_copies >= JOB_MAX_COPIES) {
			log_error("too many --copy options (at most %d)", JOB_MAX_COPIES);
			return -E2BIG;
		}
		o->copies[o->n_copies++] = arg;
		return 1;
	default: return 0;
	}
}
