// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the filters that read text from the image and the operator (/etc/hosts,
 * cloud-init meta-data and user-data). */
#include "format/identity-config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cloud_init_identity id = { .hostname = "h.example", .authorized_keys = "ssh-ed25519 A\n" };
	char *t;

	if (hosts_set_hostname((const char *)data, size, "h.example", &t) == 0)
		free(t);
	if (cloud_init_meta_data((const char *)data, size, "reimage-0", "h", &t) == 0)
		free(t);
	if (cloud_init_user_data((const char *)data, size, &id, "reimage-b", &t) == 0)
		free(t);
	return 0;
}
