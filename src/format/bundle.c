// SPDX-License-Identifier: GPL-2.0-or-later
/* The bundle trailer, the meta section and the bzImage header check (see bundle.h). */
#include "format/bundle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/parse-util.h"

static const char *const section_names[_BUNDLE_SECTION_MAX] = {
	[BUNDLE_KERNEL] = "kernel", [BUNDLE_INITRD] = "initrd", [BUNDLE_META] = "meta",
	[BUNDLE_INFO] = "info",	    [BUNDLE_CMDLINE] = "cmdline",
};

static const uint64_t section_max[_BUNDLE_SECTION_MAX] = {
	[BUNDLE_KERNEL] = BUNDLE_KERNEL_MAX, [BUNDLE_INITRD] = BUNDLE_INITRD_MAX,
	[BUNDLE_META] = BUNDLE_TEXT_MAX,     [BUNDLE_INFO] = BUNDLE_TEXT_MAX,
	[BUNDLE_CMDLINE] = BUNDLE_CMDLINE_MAX,
};

const char *bundle_section_name(enum bundle_section s)
{
	return s < _BUNDLE_SECTION_MAX ? section_names[s] : "?";
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

int bundle_trailer_parse(const uint8_t *tail, size_t tail_len, uint64_t file_size,
			 struct bundle_trailer *ret)
{
	struct bundle_trailer t = { 0 };
	const uint8_t *p;
	uint64_t end, payload_end;

	if (!tail || tail_len < BUNDLE_TRAILER_SIZE || file_size < tail_len)
		return -ENOMSG;
	p = tail + tail_len - BUNDLE_TRAILER_SIZE;
	if (memcmp(p + 152, BUNDLE_MAGIC, 8) != 0)
		return -ENOMSG;
	if (le32(p + 148) != BUNDLE_VERSION)
		return -EPROTONOSUPPORT;
	if (le32(p + 144) != BUNDLE_TRAILER_SIZE)
		return -EBADMSG;
	for (size_t i = 96; i < 112; i++)
		if (p[i])
			return -EBADMSG;
	t.file_size = le64(p);
	t.loader_size = le64(p + 8);
	if (t.file_size > file_size)
		return -EIO;
	if (t.file_size < file_size)
		return -EBADMSG; /* bytes in front of what the trailer describes */
	payload_end = file_size - BUNDLE_TRAILER_SIZE;
	/* an ELF header at the very least */
	if (t.loader_size < 64 || t.loader_size > payload_end)
		return -EBADMSG;
	end = t.loader_size;
	for (int s = 0; s < _BUNDLE_SECTION_MAX; s++) {
		t.offset[s] = le64(p + 16 + 16 * s);
		t.length[s] = le64(p + 24 + 16 * s);
		/* in order, not overlapping, inside the payload; written so nothing overflows */
		if (t.offset[s] < end || t.offset[s] > payload_end ||
		    t.length[s] > payload_end - t.offset[s] || t.length[s] > section_max[s])
			return -EBADMSG;
		end = t.offset[s] + t.length[s];
	}
	if (t.length[BUNDLE_KERNEL] == 0 || t.length[BUNDLE_INITRD] == 0 || t.length[BUNDLE_META] == 0)
		return -EBADMSG;
	memcpy(t.sha256, p + BUNDLE_DIGEST_OFFSET, 32);
	*ret = t;
	return 0;
}

void bundle_trailer_write(const struct bundle_trailer *t, uint8_t out[BUNDLE_TRAILER_SIZE])
{
	memset(out, 0, BUNDLE_TRAILER_SIZE);
	put64(out, t->file_size);
	put64(out + 8, t->loader_size);
	for (int s = 0; s < _BUNDLE_SECTION_MAX; s++) {
		put64(out + 16 + 16 * s, t->offset[s]);
		put64(out + 24 + 16 * s, t->length[s]);
	}
	memcpy(out + BUNDLE_DIGEST_OFFSET, t->sha256, 32);
	put32(out + 144, BUNDLE_TRAILER_SIZE);
	put32(out + 148, BUNDLE_VERSION);
	memcpy(out + 152, BUNDLE_MAGIC, 8);
}

static int set_text(char *field, size_t n, bool *seen, const char *v, size_t vlen)
{
	if (*seen || vlen >= n)
		return -EBADMSG;
	memcpy(field, v, vlen);
	field[vlen] = 0;
	*seen = true;
	return 0;
}

static int meta_line(struct bundle_meta *m, bool seen[8], const char *k, size_t klen, const char *v,
		     size_t vlen)
{
	char num[32];
	uint64_t u;

#define KEY(s) (klen == sizeof(s) - 1 && memcmp(k, s, klen) == 0)
	if (KEY("kernel-version"))
		return set_text(m->kernel_version, sizeof(m->kernel_version), &seen[0], v, vlen);
	if (KEY("dst")) {
		if (vlen < 6 || memcmp(v, "/dev/", 5) != 0)
			return -EBADMSG;
		return set_text(m->dst, sizeof(m->dst), &seen[1], v, vlen);
	}
	if (KEY("dst-serial"))
		return set_text(m->dst_serial, sizeof(m->dst_serial), &seen[2], v, vlen);
	if (KEY("dst-wwn"))
		return set_text(m->dst_wwn, sizeof(m->dst_wwn), &seen[3], v, vlen);
	if (KEY("dst-model"))
		return set_text(m->dst_model, sizeof(m->dst_model), &seen[4], v, vlen);
	if (KEY("dst-size") || KEY("image-size")) {
		bool *s = KEY("dst-size") ? &seen[5] : &seen[7];
		if (*s || vlen >= sizeof(num))
			return -EBADMSG;
		memcpy(num, v, vlen);
		num[vlen] = 0;
		if (parse_u64(num, &u) < 0)
			return -EBADMSG;
		*(KEY("dst-size") ? &m->dst_size : &m->image_size) = u;
		*s = true;
		return 0;
	}
	if (KEY("secrets")) {
		if (seen[6])
			return -EBADMSG;
		seen[6] = true;
		if (vlen == 3 && memcmp(v, "yes", 3) == 0)
			m->secrets = true;
		else if (!(vlen == 2 && memcmp(v, "no", 2) == 0))
			return -EBADMSG;
		return 0;
	}
#undef KEY
	return -EBADMSG;
}

int bundle_meta_parse(const char *text, size_t len, struct bundle_meta *ret)
{
	struct bundle_meta m = { 0 };
	bool seen[8] = { false };
	size_t pos = 0;

	if (!text || len > BUNDLE_TEXT_MAX)
		return -EBADMSG;
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos), *eq;
		size_t n = nl ? (size_t)(nl - line) : len - pos, klen, vlen;
		const char *v;
		int r;

		pos += n + (nl ? 1 : 0);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
				return -EBADMSG;
		while (n > 0 && (*line == ' ' || *line == '\t'))
			line++, n--;
		if (n == 0 || line[0] == '#')
			continue;
		eq = memchr(line, '=', n);
		if (!eq)
			return -EBADMSG;
		klen = (size_t)(eq - line);
		while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
			klen--;
		v = eq + 1;
		vlen = n - (size_t)(v - line);
		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		r = meta_line(&m, seen, line, klen, v, vlen);
		if (r < 0)
			return r;
	}
	if (!seen[1])
		return -EBADMSG;
	*ret = m;
	return 0;
}

int bundle_meta_format(const struct bundle_meta *m, char *buf, size_t n)
{
	int l = snprintf(buf, n, "kernel-version = %s\ndst = %s\n", m->kernel_version, m->dst);
	size_t o;

	if (l < 0 || (size_t)l >= n)
		return -ENOBUFS;
	o = (size_t)l;
#define ADD(fmt, ...)                                                                              \
	do {                                                                                       \
		l = snprintf(buf + o, n - o, fmt, __VA_ARGS__);                                    \
		if (l < 0 || (size_t)l >= n - o)                                                   \
			return -ENOBUFS;                                                           \
		o += (size_t)l;                                                                    \
	} while (0)
	if (m->dst_serial[0])
		ADD("dst-serial = %s\n", m->dst_serial);
	if (m->dst_wwn[0])
		ADD("dst-wwn = %s\n", m->dst_wwn);
	if (m->dst_model[0])
		ADD("dst-model = %s\n", m->dst_model);
	if (m->dst_size)
		ADD("dst-size = %llu\n", (unsigned long long)m->dst_size);
	if (m->image_size)
		ADD("image-size = %llu\n", (unsigned long long)m->image_size);
	ADD("secrets = %s\n", m->secrets ? "yes" : "no");
#undef ADD
	return (int)o;
}

/* x86 boot protocol offsets (Documentation/arch/x86/boot.rst, "The real-mode kernel header") */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_BOOT_FLAG 0x1fe
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_KERNEL_VERSION 0x20e
#define BZ_XLOADFLAGS 0x236
#define XLF_KERNEL_64 (1 << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1 << 1)

int bundle_kernel_probe(const uint8_t *buf, size_t len, char *version, size_t versionlen)
{
	size_t setup_end, vo, n = 0;
	unsigned setup_sects;

	if (!buf || len < BZ_XLOADFLAGS + 2 || le16(buf + BZ_BOOT_FLAG) != 0xaa55 ||
	    memcmp(buf + BZ_HEADER, "HdrS", 4) != 0)
		return -ENOEXEC;
	if (le16(buf + BZ_VERSION) < 0x020c ||
	    (le16(buf + BZ_XLOADFLAGS) & (XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G)) !=
		    (XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G))
		return -EPROTONOSUPPORT;
	/* "0 means 4" for old kernels; the version string lives in the setup sectors */
	setup_sects = buf[BZ_SETUP_SECTS] ? buf[BZ_SETUP_SECTS] : 4;
	setup_end = ((size_t)setup_sects + 1) * 512;
	if (setup_end > len)
		setup_end = len;
	vo = (size_t)le16(buf + BZ_KERNEL_VERSION) + 0x200;
	if (le16(buf + BZ_KERNEL_VERSION) == 0 || vo >= setup_end)
		return -EBADMSG;
	while (vo + n < setup_end && buf[vo + n] > ' ' && buf[vo + n] < 0x7f)
		n++;
	if (n == 0 || n >= versionlen || vo + n >= setup_end)
		return -EBADMSG;
	memcpy(version, buf + vo, n);
	version[n] = 0;
	return 0;
}
