// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: Boot Loader Specification entries and loader.conf, from a disk image just written
 * (outside input). The first line of the input is the entry's file name, the rest its text;
 * several entries parsed from one input are sorted and one is chosen. */
#include "format/bls.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bls_entry e[4];
	size_t n = 0;
	char err[256], *def = NULL, name[256];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t namelen = nl ? (size_t)(nl - data) : size;
	const char *text = nl ? (const char *)nl + 1 : "";
	size_t len = nl ? size - namelen - 1 : 0;
	bool matched;
	static const char *const names[] = { NULL, "a-1.0.conf", "b+0-2.conf", "a-1.0~rc1+3.conf" };

	if (bls_loader_conf_default((const char *)data, size, &def) > 0 && !def[0])
		abort();
	if (namelen >= sizeof(name))
		namelen = sizeof(name) - 1;
	memcpy(name, data, namelen);
	name[namelen] = 0;
	if (memchr(name, 0, namelen))
		goto out;
	/* the same text under a few names, so the ordering code sees real entries */
	for (size_t i = 0; i < 4; i++)
		if (bls_entry_parse(i ? names[i] : name, text, len, &e[n], err, sizeof(err)) == 0) {
			if (!e[n].id || !e[n].name || (!e[n].linux_path && !e[n].efi))
				abort();
			n++;
		}
	if (n > 0) {
		int idx = bls_select(e, n, def, "x64", &matched);
		if (idx >= (int)n)
			abort();
		for (size_t i = 0; i + 1 < n; i++)
			if (bls_entry_compare(&e[i], &e[i + 1]) > 0)
				abort(); /* not sorted */
	}
	{
		/* the rest of the input is not NUL-terminated: compare a copy */
		char *v = fuzz_strndup((const uint8_t *)text, len);
		if (v && bls_version_compare(name, v) != -bls_version_compare(v, name))
			abort(); /* not antisymmetric */
		free(v);
	}
	for (size_t i = 0; i < n; i++)
		bls_entry_done(&e[i]);
out:
	free(def);
	return 0;
}
