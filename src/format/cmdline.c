// SPDX-License-Identifier: GPL-2.0-or-later
/* Splitting the kernel command line into key=value words, quotes handled like the kernel. */
#include "format/cmdline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cmdline_foreach(const char *cmdline, int (*fn)(const char *key, const char *value, void *userdata),
		    void *userdata)
{
	char word[CMDLINE_MAX + 1];
	const char *p = cmdline;

	if (strlen(cmdline) > CMDLINE_MAX)
		return -E2BIG;
	for (;;) {
		bool in_quote = false;
		size_t o = 0;
		char *eq, *value = NULL;
		int r;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			return 0;
		/* The kernel drops quote characters wherever they are and lets them protect spaces. */
		for (; *p; p++) {
			if (*p == '"') {
				in_quote = !in_quote;
				continue;
			}
			if (!in_quote && (*p == ' ' || *p == '\t' || *p == '\n'))
				break;
			word[o++] = *p;
		}
		word[o] = 0;
		eq = strchr(word, '=');
		if (eq) {
			*eq = 0;
			value = eq + 1;
		}
		if (!word[0])
			continue;
		r = fn(word, value, userdata);
		if (r != 0)
			return r;
	}
}

struct get_ctx {
	const char *key;
	char *buf;
	size_t n;
	int found;
};

static int get_one(const char *key, const char *value, void *userdata)
{
	struct get_ctx *c = userdata;

	if (strcmp(key, c->key) != 0)
		return 0;
	if (strlen(value ? value : "") >= c->n) {
		c->found = -ENOBUFS;
		return 0;
	}
	snprintf(c->buf, c->n, "%s", value ? value : "");
	c->found = 1;
	return 0;
}

int cmdline_get(const char *cmdline, const char *key, char *buf, size_t n)
{
	struct get_ctx c = { .key = key, .buf = buf, .n = n };
	int r = cmdline_foreach(cmdline, get_one, &c);

	return r < 0 ? r : c.found;
}

/* Dotted words that belong to the boot of the system, not to a kernel module (systemd, dracut,
 * cloud-init, ...), and words this code sets itself (printk.devkmsg). */
static const char *const not_carried_prefixes[] = {
	"rd.", "systemd.", "rc.", "plymouth.", "cloud-init.", "printk.", "vconsole.", "luks.",
	"fsck.", "udev.", "netcfg.", "debian-installer.", "preseed.",
};
/* Undotted words the hardware may need: consoles, PCI, IOMMU, ACPI, APIC, the memory map. */
static const char *const carried_words[] = {
	"console", "earlycon", "pci", "pcie_aspm", "pcie_ports", "iommu", "intel_iommu",
	"amd_iommu", "acpi", "noapic", "nolapic", "memmap",
};

bool cmdline_word_carries(const char *key)
{
	const char *dot = strchr(key, '.');

	if (!dot) {
		for (size_t i = 0; i < sizeof(carried_words) / sizeof(carried_words[0]); i++)
			if (!strcmp(key, carried_words[i]))
				return true;
		return false;
	}
	if (dot == key || !dot[1])
		return false;
	for (size_t i = 0; i < sizeof(not_carried_prefixes) / sizeof(not_carried_prefixes[0]); i++)
		if (!strncmp(key, not_carried_prefixes[i], strlen(not_carried_prefixes[i])))
			return false;
	/* a module name: letters, digits, '_' and '-' */
	for (const char *p = key; p < dot; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-'))
			return false;
	return true;
}

struct carry_ctx {
	char *buf;
	size_t n, limit;
	int count;
};

static int carry_one(const char *key, const char *value, void *userdata)
{
	struct carry_ctx *c = userdata;
	size_t l = strlen(c->buf), need;

	if (!strcmp(key, "--") && !value)
		return 1; /* the rest is for init, as the kernel reads it */
	if (!cmdline_word_carries(key))
		return 0;
	/* the word is written back unquoted: one with a space or a quote stays behind */
	if (value && (strpbrk(value, " \t\n\"") || strpbrk(key, " \t\n\"")))
		return 0;
	need = strlen(key) + (value ? 1 + strlen(value) : 0) + 1;
	if (l + need >= c->limit)
		return 0;
	snprintf(c->buf + l, c->n - l, value ? "%s=%s " : "%s ", key, value ? value : "");
	c->count++;
	return 0;
}

int cmdline_carry(const char *cmdline, char *buf, size_t n)
{
	struct carry_ctx c = { .buf = buf, .n = n, .limit = n / 2 };
	int r;

	if (n == 0)
		return -ENOBUFS;
	buf[n - 1] = 0;
	r = cmdline_foreach(cmdline, carry_one, &c);
	return r < 0 ? r : c.count;
}
