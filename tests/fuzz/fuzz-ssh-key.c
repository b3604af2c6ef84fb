// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: authorized_keys files (every line through the public key parser) and the
 * writer of the merged set, whose output must parse back to the same keys. */
#include "format/ssh-key.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssh_keyset s, back;
	char *text;
	int n;

	n = ssh_keyset_add_text(&s, (const char *)data, size, NULL, NULL);
	if (n >= 0 && ssh_keyset_format(&s, &text) == 0) {
		if (ssh_keyset_add_text(&back, text, strlen(text), NULL, NULL) != (int)s.n)
			abort();
		free(text);
		ssh_keyset_done(&back);
	}
	ssh_keyset_done(&s);
	return 0;
}
