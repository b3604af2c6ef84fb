// SPDX-License-Identifier: GPL-2.0-or-later
/* bzImage setup header and boot_params, from untrusted kernel bytes. */
#include "format/bzimage.h"

#include <errno.h>
#include <string.h>

static uint32_t le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage *ret)
{
	struct bzimage b = {};
	unsigned sects;

	if (!buf || !ret)
		return -EINVAL;
	if (len < 0x268 || le(buf + 0x1fe, 2) != 0xaa55 || memcmp(buf + 0x202, "HdrS", 4) != 0)
		return -ENOEXEC;
	b.version = (uint16_t)le(buf + 0x206, 2);
	/* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	if (b.version < 0x020c || (le(buf + 0x236, 2) & 3) != 3)
		return -EPROTONOSUPPORT;
	sects = buf[0x1f1] ? buf[0x1f1] : 4;
	b.setup_size = ((size_t)sects + 1) * 512;
	b.kernel_alignment = le(buf + 0x230, 4);
	b.cmdline_size = le(buf + 0x238, 4);
	b.pref_address = (uint64_t)le(buf + 0x258, 4) | (uint64_t)le(buf + 0x25c, 4) << 32;
	b.init_size = le(buf + 0x260, 4);
	if (b.setup_size >= len || b.init_size == 0 || b.kernel_alignment == 0 ||
	    (b.kernel_alignment & (b.kernel_alignment - 1)) || 0x202 + (size_t)buf[0x201] > len)
		return -EBADMSG;
	*ret = b;
	return 0;
}

uint32_t e820_type_from_name(const char *name)
{
	static const struct {
		const char *name;
		uint32_t type;
	} t[] = {
		{ "System RAM", 1 },
		{ "Reserved", 2 },
		{ "ACPI Tables", 3 },
		{ "ACPI Non-volatile Storage", 4 },
		{ "Unusable memory", 5 },
		{ "Persistent Memory (legacy)", 12 },
		{ "Persistent Memory", 7 },
		{ "Soft Reserved", 0xefffffff },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].name) == 0)
			return t[i].type;
	return 2;
}

int boot_params_build(uint8_t *bp, const uint8_t *kernel, size_t kernel_len, uint64_t cmdline,
		      uint64_t initrd, uint64_t initrd_size, const struct e820_entry *e820,
		      size_t n_e820, uint64_t rsdp)
{
	size_t end;

	if (!bp || !kernel || (n_e820 && !e820))
		return -EINVAL;
	if (kernel_len < 0x202)
		return -EBADMSG;
	/* the header runs to the end of the jump at 0x200: 0x202 + its 8-bit offset */
	end = 0x202 + (size_t)kernel[0x201];
	if (end > kernel_len || end > 0x290)
		return -EBADMSG;
	if (n_e820 > E820_MAX_ENTRIES_ZEROPAGE)
		return -EFBIG;
	memset(bp, 0, BOOT_PARAMS_SIZE);
	memcpy(bp + 0x1f1, kernel + 0x1f1, end - 0x1f1);
	bp[0x210] = 0xff; /* type_of_loader: undefined */
	put(bp + 0x228, cmdline & 0xffffffff, 4);
	put(bp + 0x0c8, cmdline >> 32, 4);
	put(bp + 0x218, initrd & 0xffffffff, 4);
	put(bp + 0x0c0, initrd >> 32, 4);
	put(bp + 0x21c, initrd_size & 0xffffffff, 4);
	put(bp + 0x0c4, initrd_size >> 32, 4);
	put(bp + 0x070, rsdp, 8);
	bp[0x1e8] = (uint8_t)n_e820;
	for (size_t i = 0; i < n_e820; i++) {
		uint8_t *e = bp + 0x2d0 + 20 * i;
		put(e, e820[i].addr, 8);
		put(e + 8, e820[i].size, 8);
		put(e + 16, e820[i].type, 4);
	}
	return 0;
}
