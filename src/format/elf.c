// SPDX-License-Identifier: GPL-2.0-or-later
/* ELF program headers and dynamic section, read for the interpreter and the needed libraries. */
#include "format/elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

/* The file, its class and byte order; every read goes through here after a bounds check. */
struct elf_file {
	const uint8_t *buf;
	size_t len;
	bool is64;
	bool big_endian;
};

struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

/* A validated string table: file offset and size. */
struct strtab {
	uint64_t offset, size;
};

static bool in_file(const struct elf_file *f, uint64_t off, uint64_t size)
{
	return off <= f->len && size <= f->len - off;
}

static uint64_t rd(const struct elf_file *f, uint64_t off, unsigned n)
{
	const uint8_t *p = f->buf + off;
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[f->big_endian ? n - 1 - i : i] << (8 * i);
	return v;
}

/* An Addr, Off, Xword or Sxword: 4 bytes in ELF32, 8 in ELF64. */
static uint64_t rd_word(const struct elf_file *f, uint64_t off)
{
	return rd(f, off, f->is64 ? 8 : 4);
}

/* Caller checks that the entry is inside the file. */
static void read_phdr(const struct elf_file *f, uint64_t at, struct phdr *ph)
{
	ph->type = (uint32_t)rd(f, at, 4);
	if (f->is64) {
		ph->offset = rd(f, at + 8, 8);
		ph->vaddr = rd(f, at + 16, 8);
		ph->filesz = rd(f, at + 32, 8);
	} else {
		ph->offset = rd(f, at + 4, 4);
		ph->vaddr = rd(f, at + 8, 4);
		ph->filesz = rd(f, at + 16, 4);
	}
}

/* The PN_XNUM escape: the real program header count is sh_info of section header 0. */
static int read_xnum(const struct elf_file *f, uint64_t *ret)
{
	uint64_t shoff = rd_word(f, f->is64 ? 40 : 32);
	uint64_t shentsize = rd(f, f->is64 ? 58 : 46, 2);
	uint64_t shdr_size = f->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);

	if (shoff == 0 || shentsize < shdr_size || !in_file(f, shoff, shdr_size))
		return -EBADMSG;
	*ret = rd(f, shoff + (f->is64 ? 44 : 28), 4);
	return 0;
}

/* Translate the virtual address of a table of size bytes to a file offset, through the first
 * PT_LOAD whose file image holds all of it. */
static int vaddr_to_offset(const struct elf_file *f, uint64_t phoff, uint64_t phentsize,
			   uint64_t phnum, uint64_t addr, uint64_t size, uint64_t *ret)
{
	for (uint64_t i = 0; i < phnum; i++) {
		struct phdr ph;
		uint64_t delta;

		read_phdr(f, phoff + i * phentsize, &ph);
		if (ph.type != PT_LOAD || addr < ph.vaddr)
			continue;
		delta = addr - ph.vaddr;
		if (delta >= ph.filesz || size > ph.filesz - delta)
			continue;
		if (!in_file(f, ph.offset, ph.filesz))
			return -EBADMSG;
		*ret = ph.offset + delta;
		return 0;
	}
	return -EBADMSG;
}

/* The NUL-terminated string at strtab offset v, copied to out (when not NULL) of size outsz. */
static int get_string(const struct elf_file *f, const struct strtab *st, uint64_t v, char *out,
		      size_t outsz, bool allow_empty)
{
	const uint8_t *s, *nul;
	size_t n;

	if (st->size == 0 || v >= st->size)
		return -EBADMSG;
	s = f->buf + st->offset + v;
	nul = memchr(s, 0, (size_t)(st->size - v));
	if (!nul)
		return -EBADMSG;
	n = (size_t)(nul - s);
	if (n == 0 && !allow_empty)
		return -EBADMSG;
	if (n >= outsz)
		return -EFBIG;
	if (out)
		memcpy(out, s, n + 1);
	return 0;
}

/* Walk the dynamic section: with ret NULL only validate (counts, offsets, lengths), with ret
 * copy the strings. Entries after DT_NULL are not looked at, as the dynamic linker does not. */
static int walk_dynamic(const struct elf_file *f, uint64_t dyn_off, uint64_t dyn_size,
			const struct strtab *st, struct elf_info *ret)
{
	uint64_t entsize = f->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	size_t n_needed = 0;

	for (uint64_t at = 0; entsize <= dyn_size - at; at += entsize) {
		uint64_t tag = rd_word(f, dyn_off + at);
		uint64_t val = rd_word(f, dyn_off + at + entsize / 2);
		int r = 0;

		if (tag == DT_NULL)
			break;
		if (tag == DT_NEEDED) {
			if (n_needed >= ELF_MAX_NEEDED)
				return -EFBIG;
			r = get_string(f, st, val, ret ? ret->needed[n_needed] : NULL,
				       ELF_NAME_MAX, false);
			n_needed++;
		} else if (tag == DT_RUNPATH)
			r = get_string(f, st, val, ret ? ret->runpath : NULL, ELF_PATH_MAX, true);
		else if (tag == DT_RPATH)
			r = get_string(f, st, val, ret ? ret->rpath : NULL, ELF_PATH_MAX, true);
		if (r < 0)
			return r;
	}
	if (ret)
		ret->n_needed = n_needed;
	return 0;
}

/* Find DT_STRTAB and DT_STRSZ, refusing duplicates of the tags we read; *ret_strings tells
 * whether any string will be read. */
static int scan_dynamic(const struct elf_file *f, uint64_t dyn_off, uint64_t dyn_size,
			uint64_t *ret_strtab, uint64_t *ret_strsz, bool *ret_strings)
{
	uint64_t entsize = f->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	bool have_strtab = false, have_strsz = false, have_runpath = false, have_rpath = false;
	bool strings = false;

	for (uint64_t at = 0; entsize <= dyn_size - at; at += entsize) {
		uint64_t tag = rd_word(f, dyn_off + at);
		uint64_t val = rd_word(f, dyn_off + at + entsize / 2);
		bool *seen = NULL;

		if (tag == DT_NULL)
			break;
		switch (tag) {
		case DT_STRTAB:
			*ret_strtab = val;
			seen = &have_strtab;
			break;
		case DT_STRSZ:
			*ret_strsz = val;
			seen = &have_strsz;
			break;
		case DT_RUNPATH:
			seen = &have_runpath;
			strings = true;
			break;
		case DT_RPATH:
			seen = &have_rpath;
			strings = true;
			break;
		case DT_NEEDED:
			strings = true;
			break;
		default:
			break;
		}
		if (seen) {
			if (*seen)
				return -EBADMSG;
			*seen = true;
		}
	}
	if (strings && (!have_strtab || !have_strsz))
		return -EBADMSG;
	*ret_strings = strings;
	return 0;
}

int elf_parse(const uint8_t *buf, size_t len, struct elf_info *ret)
{
	struct elf_file f = { .buf = buf, .len = len };
	struct strtab st = { 0 };
	uint64_t phoff, phentsize, phnum, phdr_size, dyn_off = 0, dyn_size = 0;
	uint64_t interp_off = 0, interp_len = 0, strtab_addr = 0, strsz = 0;
	bool have_interp = false, have_dynamic = false, strings = false;
	uint16_t type, machine;
	int r;

	if (!ret || (!buf && len > 0))
		return -EINVAL;
	if (len < SELFMAG || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (len < EI_NIDENT)
		return -EBADMSG;
	if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
		return -EBADMSG;
	if (buf[EI_DATA] != ELFDATA2LSB && buf[EI_DATA] != ELFDATA2MSB)
		return -EBADMSG;
	if (buf[EI_VERSION] != EV_CURRENT)
		return -EBADMSG;
	f.is64 = buf[EI_CLASS] == ELFCLASS64;
	f.big_endian = buf[EI_DATA] == ELFDATA2MSB;
	if (len < (f.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return -EBADMSG;

	type = (uint16_t)rd(&f, 16, 2);
	machine = (uint16_t)rd(&f, 18, 2);
	phoff = rd_word(&f, f.is64 ? 32 : 28);
	phentsize = rd(&f, f.is64 ? 54 : 42, 2);
	phnum = rd(&f, f.is64 ? 56 : 44, 2);
	phdr_size = f.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	if (phnum == PN_XNUM) {
		r = read_xnum(&f, &phnum);
		if (r < 0)
			return r;
	}
	if (phnum > 0) {
		/* phnum < 2^32 and phentsize < 2^16: the product cannot overflow */
		if (phentsize < phdr_size || !in_file(&f, phoff, phnum * phentsize))
			return -EBADMSG;
	}

	for (uint64_t i = 0; i < phnum; i++) {
		struct phdr ph;

		read_phdr(&f, phoff + i * phentsize, &ph);
		if (ph.type == PT_INTERP) {
			if (have_interp || !in_file(&f, ph.offset, ph.filesz))
				return -EBADMSG;
			have_interp = true;
			interp_off = ph.offset;
			interp_len = ph.filesz;
		} else if (ph.type == PT_DYNAMIC) {
			if (have_dynamic || !in_file(&f, ph.offset, ph.filesz))
				return -EBADMSG;
			have_dynamic = true;
			dyn_off = ph.offset;
			dyn_size = ph.filesz;
		}
	}

	if (have_interp) {
		/* gABI: "an array of bytes holding a null-terminated path name" */
		const uint8_t *nul = memchr(buf + interp_off, 0, (size_t)interp_len);

		if (!nul || nul == buf + interp_off)
			return -EBADMSG;
		interp_len = (uint64_t)(nul - (buf + interp_off));
		if (interp_len >= ELF_PATH_MAX)
			return -EFBIG;
	}

	if (have_dynamic) {
		r = scan_dynamic(&f, dyn_off, dyn_size, &strtab_addr, &strsz, &strings);
		if (r < 0)
			return r;
	}
	if (strings) {
		r = vaddr_to_offset(&f, phoff, phentsize, phnum, strtab_addr, strsz, &st.offset);
		if (r < 0)
			return r;
		st.size = strsz;
		r = walk_dynamic(&f, dyn_off, dyn_size, &st, NULL);
		if (r < 0)
			return r;
	}

	/* all checked: from here on nothing fails */
	memset(ret, 0, sizeof(*ret));
	ret->type = type;
	ret->machine = machine;
	ret->elf_class = buf[EI_CLASS];
	ret->big_endian = f.big_endian;
	if (have_interp)
		memcpy(ret->interp, buf + interp_off, (size_t)interp_len + 1);
	if (strings)
		(void)walk_dynamic(&f, dyn_off, dyn_size, &st, ret);
	ret->is_dynamic = have_interp || ret->n_needed > 0;
	return ret->is_dynamic ? 1 : 0;
}
