// SPDX-License-Identifier: GPL-2.0-or-later
/* /proc/iomem parsing and aligned allocation from the RAM it describes. */
#include "format/iomem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int parse_hex(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	int digits = 0;

	while (*p < end) {
		char c = **p;
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (++digits > 16)
			return -EBADMSG;
		v = v << 4 | d;
		(*p)++;
	}
	if (digits == 0)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* Remove [start, end) from ram. */
static int ram_remove(struct iomem_ram *ram, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < ram->n; i++) {
		struct mem_range *m = &ram->r[i];
		if (end <= m->start || start >= m->end)
			continue;
		if (start <= m->start && end >= m->end) { /* all of it */
			memmove(m, m + 1, (ram->n - i - 1) * sizeof(*m));
			ram->n--;
			i--;
		} else if (start <= m->start) {
			m->start = end;
		} else if (end >= m->end) {
			m->end = start;
		} else { /* the middle: split */
			if (ram->n == IOMEM_MAX_RANGES)
				return -EFBIG;
			memmove(m + 2, m + 1, (ram->n - i - 1) * sizeof(*m));
			m[1] = (struct mem_range){ end, m->end };
			m->end = start;
			ram->n++;
			i++;
		}
	}
	return 0;
}

static int ram_add(struct iomem_ram *ram, uint64_t start, uint64_t end)
{
	size_t i = 0;

	if (start >= end)
		return 0;
	while (i < ram->n && ram->r[i].start < start)
		i++;
	if (ram->n == IOMEM_MAX_RANGES)
		return -EFBIG;
	memmove(&ram->r[i + 1], &ram->r[i], (ram->n - i) * sizeof(ram->r[0]));
	ram->r[i] = (struct mem_range){ start, end };
	ram->n++;
	/* merge neighbours and overlaps, so the list stays disjoint */
	for (size_t j = 0; j + 1 < ram->n;) {
		if (ram->r[j + 1].start <= ram->r[j].end) {
			if (ram->r[j + 1].end > ram->r[j].end)
				ram->r[j].end = ram->r[j + 1].end;
			memmove(&ram->r[j + 1], &ram->r[j + 2], (ram->n - j - 2) * sizeof(ram->r[0]));
			ram->n--;
		} else
			j++;
	}
	return 0;
}

static bool is_kernel_itself(const char *name, size_t n)
{
	static const char *const names[] = { "Kernel code", "Kernel data", "Kernel bss",
					     "Kernel rodata" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && memcmp(name, names[i], n) == 0)
			return true;
	return false;
}

int iomem_parse_usable_ram(const char *text, size_t len, struct iomem_ram *ret)
{
	/* children are removed after all RAM is known: a child may come before a later,
	 * adjacent System RAM line that a merge would join to it */
	struct mem_range holes[IOMEM_MAX_RANGES];
	size_t nholes = 0;
	struct iomem_ram ram = { .n = 0 };
	const char *p = text, *end = text + len;
	bool any_nonzero = false, in_ram = false;
	int r;

	if (!text || !ret)
		return -EINVAL;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end, *name;
		size_t indent = 0, namelen;
		uint64_t a, b;

		if (line_end == p) { /* an empty line */
			p = line_end + 1;
			continue;
		}
		while (p + indent < line_end && p[indent] == ' ')
			indent++;
		p += indent;
		if ((r = parse_hex(&p, line_end, &a)) < 0)
			return r;
		if (p >= line_end || *p++ != '-')
			return -EBADMSG;
		if ((r = parse_hex(&p, line_end, &b)) < 0)
			return r;
		if (line_end - p < 3 || memcmp(p, " : ", 3) != 0 || a > b)
			return -EBADMSG;
		name = p + 3;
		namelen = (size_t)(line_end - name);
		if (a || b)
			any_nonzero = true;
		if (indent == 0) {
			in_ram = namelen == 10 && memcmp(name, "System RAM", 10) == 0;
			/* b is inclusive; a range ending at the top of the address space is clamped */
			if (in_ram && (r = ram_add(&ram, a, b == UINT64_MAX ? b : b + 1)) < 0)
				return r;
		} else if (in_ram && !is_kernel_itself(name, namelen)) {
			if (nholes == IOMEM_MAX_RANGES)
				return -EFBIG;
			holes[nholes++] = (struct mem_range){ a, b == UINT64_MAX ? b : b + 1 };
		}
		p = eol ? eol + 1 : end;
	}
	if (!any_nonzero && len > 0)
		return -EPERM;
	for (size_t i = 0; i < nholes; i++)
		if ((r = ram_remove(&ram, holes[i].start, holes[i].end)) < 0)
			return r;
	if (ram.n == 0)
		return -ENOENT;
	*ret = ram;
	return 0;
}

int iomem_ram_take(struct iomem_ram *ram, uint64_t size, uint64_t align, uint64_t min,
		   uint64_t *ret_addr)
{
	if (!ram || !ret_addr || size == 0 || align == 0 || (align & (align - 1)))
		return -EINVAL;
	for (size_t i = 0; i < ram->n; i++) {
		uint64_t start = ram->r[i].start > min ? ram->r[i].start : min, addr;

		if (start > UINT64_MAX - (align - 1))
			continue;
		addr = (start + align - 1) & ~(align - 1);
		if (addr < ram->r[i].end && ram->r[i].end - addr >= size) {
			struct iomem_ram copy = *ram;
			int r = ram_remove(&copy, addr, addr + size);
			if (r < 0)
				return r;
			*ram = copy;
			*ret_addr = addr;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}
