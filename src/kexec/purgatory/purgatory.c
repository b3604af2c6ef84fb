// SPDX-License-Identifier: GPL-2.0-or-later
/* The purgatory's check: hash what kexec copied into place and compare it with what reimage
 * computed when it loaded the segments. Runs with the MMU off, on the purgatory's own stack. */
#include <stddef.h>

#include "kexec/purgatory/purgatory.h"
#include "kexec/purgatory/sha256.h"

_Static_assert(offsetof(struct purgatory_params, kernel_entry) == 8, "entry.S reads offset 8");
_Static_assert(offsetof(struct purgatory_params, dtb) == 16, "entry.S reads offset 16");

__attribute__((section(".data.params"), used)) struct purgatory_params purgatory_params = {
	.magic = PURGATORY_MAGIC,
};

/* the compiler may emit calls to these even without a libc */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int purgatory_verify(void);

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *a = d;
	const unsigned char *b = s;
	while (n--)
		*a++ = *b++;
	return d;
}

/* 0 when the segments hash to the stored digest */
int purgatory_verify(void)
{
	struct sha256_ctx c;
	uint8_t got[32];
	unsigned diff = 0;
	uint64_t n = purgatory_params.nr_regions;

	if (n > PURGATORY_MAX_REGIONS)
		return -1;
	sha256_init(&c);
	for (uint64_t i = 0; i < n; i++)
		sha256_update(&c, (const void *)(uintptr_t)purgatory_params.regions[i].start,
			      (size_t)purgatory_params.regions[i].len);
	sha256_final(&c, got);
	for (unsigned i = 0; i < 32; i++)
		diff |= got[i] ^ purgatory_params.sha256[i];
	return diff ? -1 : 0;
}
