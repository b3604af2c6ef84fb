// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the ELF dependency reader: two real x86-64 programs from tests/data/elf, and
 * hand-built files of both classes and byte orders, intact and broken in each way we check.
 *
 * The stored programs were made on Debian 12 (gcc 12.2, binutils 2.40) from
 *   dynamic-x86-64: int main(void){return 0;}
 *     gcc -Os -s -Wl,-z,noseparate-code -Wl,--build-id=none -Wl,-rpath,'$ORIGIN/../lib'
 *   static-x86-64:  void _start(void){ asm volatile("mov $60,%eax; xor %edi,%edi; syscall"); }
 *     gcc -Os -s -static -nostdlib -Wl,-z,noseparate-code -Wl,--build-id=none */
#include <elf.h>
#include <errno.h>

#include "basic/macro.h"
#include "format/elf.h"
#include "tests.h"

static struct elf_info info;

static uint8_t *read_data(const char *name, size_t *ret_len)
{
	const char *dir = getenv("REIMAGE_TEST_DATA");
	char path[4096];
	_cleanup_fclose_ FILE *f = NULL;
	uint8_t *buf;
	long n;

	if (!dir) {
		fprintf(stderr, "REIMAGE_TEST_DATA is not set: run this through `meson test`\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/elf/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	ASSERT_EQ(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n);
	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ(fread(buf, 1, (size_t)n, f), n);
	*ret_len = (size_t)n;
	return buf;
}

TEST(real_dynamic)
{
	size_t len;
	_cleanup_free_ uint8_t *buf = read_data("dynamic-x86-64", &len);

	ASSERT_EQ(elf_parse(buf, len, &info), 1);
	ASSERT_EQ(info.elf_class, ELFCLASS64);
	ASSERT_TRUE(!info.big_endian);
	ASSERT_EQ(info.machine, EM_X86_64);
	ASSERT_EQ(info.type, ET_DYN); /* a PIE */
	ASSERT_TRUE(info.is_dynamic);
	ASSERT_STREQ(info.interp, "/lib64/ld-linux-x86-64.so.2");
	ASSERT_EQ(info.n_needed, 1);
	ASSERT_STREQ(info.needed[0], "libc.so.6");
	ASSERT_STREQ(info.runpath, "$ORIGIN/../lib");
	ASSERT_STREQ(info.rpath, "");
}

TEST(real_static)
{
	size_t len;
	_cleanup_free_ uint8_t *buf = read_data("static-x86-64", &len);

	ASSERT_EQ(elf_parse(buf, len, &info), 0);
	ASSERT_EQ(info.elf_class, ELFCLASS64);
	ASSERT_EQ(info.machine, EM_X86_64);
	ASSERT_EQ(info.type, ET_EXEC);
	ASSERT_TRUE(!info.is_dynamic);
	ASSERT_STREQ(info.interp, "");
	ASSERT_EQ(info.n_needed, 0);
	ASSERT_STREQ(info.runpath, "");
}

/* Every prefix of a real file, in a buffer of exactly that size (so that the sanitizer sees any
 * read past the end): an error, or the same answer as for the whole file. */
TEST(real_truncated)
{
	static struct elf_info full;
	size_t len;
	_cleanup_free_ uint8_t *buf = read_data("dynamic-x86-64", &len);

	ASSERT_EQ(elf_parse(buf, len, &full), 1);
	for (size_t n = 0; n < len; n++) {
		_cleanup_free_ uint8_t *p = malloc(n ? n : 1);
		int r;

		ASSERT_TRUE(p != NULL);
		memcpy(p, buf, n);
		r = elf_parse(p, n, &info);
		if (n < SELFMAG)
			ASSERT_EQ(r, -ENOEXEC);
		else if (r != -EBADMSG) {
			ASSERT_EQ(r, 1);
			ASSERT_TRUE(memcmp(&info, &full, sizeof(info)) == 0);
		}
	}
	/* at least the headers up to the dynamic section are needed */
	ASSERT_EQ(elf_parse(buf, 1500, &info), -EBADMSG);
}

/* A hand-built executable: ELF header, program headers, interpreter, dynamic section and string
 * table, with the string table in a second PT_LOAD whose vaddr - offset differs from the
 * first's, so that the translation is exercised. */
#define FAKE_SIZE 0x3000
#define FAKE_PHOFF 64
#define FAKE_INTERP 0x200
#define FAKE_DYN 0x400
#define FAKE_STRTAB 0x2000
#define FAKE_VADDR1 0x10000
#define FAKE_VADDR2 0x80000
#define FAKE_INTERP_STR "/lib/ld-fake.so.1"

enum { PH_LOAD1, PH_INTERP, PH_DYNAMIC, PH_LOAD2, FAKE_PHNUM };
enum { D_NEEDED1, D_NEEDED2, D_RUNPATH, D_RPATH, D_STRTAB, D_STRSZ, D_NULL };

struct fake_elf {
	uint8_t buf[FAKE_SIZE];
	bool is64, be;
	size_t strsz, n_dyn;
	uint64_t off_foo, off_bar, off_runpath, off_rpath;
};

static struct fake_elf fake;

static void put(size_t off, uint64_t v, unsigned n)
{
	ASSERT_TRUE(off + n <= FAKE_SIZE);
	for (unsigned i = 0; i < n; i++)
		fake.buf[off + (fake.be ? n - 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

static void put_word(size_t off, uint64_t v)
{
	put(off, v, fake.is64 ? 8 : 4);
}

static size_t phdr_at(unsigned i)
{
	return FAKE_PHOFF + i * (fake.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr));
}

static void set_phdr(unsigned i, uint32_t type, uint64_t offset, uint64_t vaddr, uint64_t filesz)
{
	size_t at = phdr_at(i);

	put(at, type, 4);
	if (fake.is64) {
		put(at + 8, offset, 8);
		put(at + 16, vaddr, 8);
		put(at + 24, vaddr, 8);
		put(at + 32, filesz, 8);
		put(at + 40, filesz, 8);
	} else {
		put(at + 4, offset, 4);
		put(at + 8, vaddr, 4);
		put(at + 12, vaddr, 4);
		put(at + 16, filesz, 4);
		put(at + 20, filesz, 4);
	}
}

static size_t dyn_entsize(void)
{
	return fake.is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
}

static void set_dyn(unsigned i, uint64_t tag, uint64_t val)
{
	put_word(FAKE_DYN + i * dyn_entsize(), tag);
	put_word(FAKE_DYN + i * dyn_entsize() + dyn_entsize() / 2, val);
	if (i >= fake.n_dyn) {
		fake.n_dyn = i + 1;
		set_phdr(PH_DYNAMIC, PT_DYNAMIC, FAKE_DYN, FAKE_VADDR1 + FAKE_DYN,
			 fake.n_dyn * dyn_entsize());
	}
}

static uint64_t add_string(const char *s)
{
	size_t o = fake.strsz, n = strlen(s) + 1;

	ASSERT_TRUE(FAKE_STRTAB + o + n <= FAKE_SIZE);
	memcpy(fake.buf + FAKE_STRTAB + o, s, n);
	fake.strsz += n;
	return o;
}

static void fake_init(bool is64, bool be, uint16_t machine)
{
	memset(&fake, 0, sizeof(fake));
	fake.is64 = is64;
	fake.be = be;
	memcpy(fake.buf, ELFMAG, SELFMAG);
	fake.buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	fake.buf[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	fake.buf[EI_VERSION] = EV_CURRENT;
	put(16, ET_EXEC, 2);
	put(18, machine, 2);
	put(20, EV_CURRENT, 4);
	put_word(is64 ? 32 : 28, FAKE_PHOFF);
	put(is64 ? 52 : 40, is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr), 2);
	put(is64 ? 54 : 42, is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr), 2);
	put(is64 ? 56 : 44, FAKE_PHNUM, 2);

	set_phdr(PH_LOAD1, PT_LOAD, 0, FAKE_VADDR1, FAKE_STRTAB);
	set_phdr(PH_LOAD2, PT_LOAD, FAKE_STRTAB, FAKE_VADDR2, FAKE_SIZE - FAKE_STRTAB);
	memcpy(fake.buf + FAKE_INTERP, FAKE_INTERP_STR, sizeof(FAKE_INTERP_STR));
	set_phdr(PH_INTERP, PT_INTERP, FAKE_INTERP, FAKE_VADDR1 + FAKE_INTERP,
		 sizeof(FAKE_INTERP_STR));

	add_string("");
	fake.off_foo = add_string("libfoo.so.1");
	fake.off_bar = add_string("libbar.so.2");
	fake.off_runpath = add_string("$ORIGIN/../lib:/opt/lib");
	fake.off_rpath = add_string("/old/lib");
	set_dyn(D_NEEDED1, DT_NEEDED, fake.off_foo);
	set_dyn(D_NEEDED2, DT_NEEDED, fake.off_bar);
	set_dyn(D_RUNPATH, DT_RUNPATH, fake.off_runpath);
	set_dyn(D_RPATH, DT_RPATH, fake.off_rpath);
	set_dyn(D_STRTAB, DT_STRTAB, FAKE_VADDR2);
	set_dyn(D_STRSZ, DT_STRSZ, fake.strsz);
	set_dyn(D_NULL, DT_NULL, 0);
}

static int parse_fake(void)
{
	return elf_parse(fake.buf, FAKE_SIZE, &info);
}

TEST(classes_and_byte_orders)
{
	static const struct {
		bool is64, be;
		uint16_t machine;
	} v[] = {
		{ false, false, EM_386 },
		{ false, true, EM_PPC },
		{ true, false, EM_AARCH64 },
		{ true, true, EM_S390 },
	};

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		fake_init(v[i].is64, v[i].be, v[i].machine);
		ASSERT_EQ(parse_fake(), 1);
		ASSERT_EQ(info.elf_class, v[i].is64 ? ELFCLASS64 : ELFCLASS32);
		ASSERT_EQ(info.big_endian, v[i].be);
		ASSERT_EQ(info.machine, v[i].machine);
		ASSERT_EQ(info.type, ET_EXEC);
		ASSERT_TRUE(info.is_dynamic);
		ASSERT_STREQ(info.interp, FAKE_INTERP_STR);
		ASSERT_EQ(info.n_needed, 2);
		ASSERT_STREQ(info.needed[0], "libfoo.so.1");
		ASSERT_STREQ(info.needed[1], "libbar.so.2");
		ASSERT_STREQ(info.runpath, "$ORIGIN/../lib:/opt/lib");
		ASSERT_STREQ(info.rpath, "/old/lib");
	}
}

/* Variants that are still well-formed. */
TEST(variants)
{
	/* a shared library: no interpreter, needs libraries */
	fake_init(true, false, EM_X86_64);
	set_phdr(PH_INTERP, PT_NOTE, 0, 0, 0);
	ASSERT_EQ(parse_fake(), 1);
	ASSERT_STREQ(info.interp, "");
	ASSERT_EQ(info.n_needed, 2);

	/* static-pie: a dynamic section, but nothing needed */
	fake_init(true, false, EM_X86_64);
	set_phdr(PH_INTERP, PT_NULL, 0, 0, 0);
	set_dyn(D_NEEDED1, DT_DEBUG, 0);
	set_dyn(D_NEEDED2, DT_DEBUG, 0);
	set_dyn(D_RUNPATH, DT_DEBUG, 0);
	set_dyn(D_RPATH, DT_DEBUG, 0);
	ASSERT_EQ(parse_fake(), 0);
	ASSERT_TRUE(!info.is_dynamic);

	/* entries after DT_NULL are not read, even broken ones */
	fake_init(false, false, EM_386);
	set_dyn(D_NEEDED1, DT_STRTAB, FAKE_VADDR2);
	set_dyn(D_NEEDED2, DT_STRSZ, fake.strsz);
	set_dyn(D_RUNPATH, DT_NEEDED, fake.off_foo);
	set_dyn(D_RPATH, DT_NULL, 0);
	set_dyn(D_STRTAB, DT_NEEDED, 99999);
	set_dyn(D_STRSZ, DT_STRTAB, 0);
	ASSERT_EQ(parse_fake(), 1);
	ASSERT_EQ(info.n_needed, 1);
	ASSERT_STREQ(info.needed[0], "libfoo.so.1");
	ASSERT_STREQ(info.runpath, "");

	/* no DT_NULL: the segment size ends the walk */
	fake_init(true, true, EM_S390);
	set_phdr(PH_DYNAMIC, PT_DYNAMIC, FAKE_DYN, FAKE_VADDR1 + FAKE_DYN, 6 * sizeof(Elf64_Dyn));
	set_dyn(D_NULL, DT_NEEDED, fake.off_foo);
	ASSERT_EQ(parse_fake(), 1);
	ASSERT_EQ(info.n_needed, 2);

	/* no program headers at all: an object file */
	fake_init(true, false, EM_X86_64);
	put(16, ET_REL, 2);
	put(56, 0, 2);
	ASSERT_EQ(parse_fake(), 0);
	ASSERT_EQ(info.type, ET_REL);

	/* PN_XNUM: the count is in section header 0 */
	fake_init(true, false, EM_X86_64);
	put(56, PN_XNUM, 2);
	put_word(40, 0x1000);
	put(58, sizeof(Elf64_Shdr), 2);
	put(0x1000 + 44, FAKE_PHNUM, 4);
	ASSERT_EQ(parse_fake(), 1);
	ASSERT_EQ(info.n_needed, 2);
	put(0x1000 + 44, 1000, 4);
	ASSERT_EQ(parse_fake(), -EBADMSG);
	put_word(40, 0);
	ASSERT_EQ(parse_fake(), -EBADMSG);

	/* exactly ELF_MAX_NEEDED libraries */
	fake_init(true, false, EM_X86_64);
	for (unsigned i = 0; i < ELF_MAX_NEEDED; i++)
		set_dyn(i, DT_NEEDED, fake.off_bar);
	set_dyn(ELF_MAX_NEEDED, DT_STRTAB, FAKE_VADDR2);
	set_dyn(ELF_MAX_NEEDED + 1, DT_STRSZ, fake.strsz);
	set_dyn(ELF_MAX_NEEDED + 2, DT_NULL, 0);
	ASSERT_EQ(parse_fake(), 1);
	ASSERT_EQ(info.n_needed, ELF_MAX_NEEDED);
	ASSERT_STREQ(info.needed[ELF_MAX_NEEDED - 1], "libbar.so.2");
}

static void expect_fake(int want)
{
	memset(&info, 0x55, sizeof(info));
	ASSERT_EQ(parse_fake(), want);
	/* ret is written only on success */
	ASSERT_EQ(info.n_needed, 0x5555555555555555ULL);
}

TEST(malformed)
{
	/* truncated: the identification, the ELF header, the program headers */
	fake_init(true, false, EM_X86_64);
	ASSERT_EQ(elf_parse(fake.buf, EI_NIDENT - 1, &info), -EBADMSG);
	ASSERT_EQ(elf_parse(fake.buf, sizeof(Elf64_Ehdr) - 1, &info), -EBADMSG);
	ASSERT_EQ(elf_parse(fake.buf, phdr_at(FAKE_PHNUM) - 1, &info), -EBADMSG);

	/* header fields */
	fake.buf[EI_CLASS] = 3;
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	fake.buf[EI_DATA] = ELFDATANONE;
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	fake.buf[EI_VERSION] = 2;
	expect_fake(-EBADMSG);

	/* phoff beyond the end, wrapping around, phentsize too small */
	fake_init(true, false, EM_X86_64);
	put_word(32, FAKE_SIZE);
	expect_fake(-EBADMSG);
	put_word(32, UINT64_MAX - 8);
	expect_fake(-EBADMSG);
	fake_init(false, false, EM_386);
	put_word(28, UINT32_MAX);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	put(54, sizeof(Elf64_Phdr) - 1, 2);
	expect_fake(-EBADMSG);

	/* interpreter: beyond the end, without NUL, empty, twice */
	fake_init(true, false, EM_X86_64);
	set_phdr(PH_INTERP, PT_INTERP, FAKE_SIZE - 4, 0, 8);
	expect_fake(-EBADMSG);
	set_phdr(PH_INTERP, PT_INTERP, UINT64_MAX, 0, 2);
	expect_fake(-EBADMSG);
	set_phdr(PH_INTERP, PT_INTERP, FAKE_INTERP, 0, sizeof(FAKE_INTERP_STR) - 1);
	expect_fake(-EBADMSG);
	set_phdr(PH_INTERP, PT_INTERP, FAKE_INTERP + sizeof(FAKE_INTERP_STR) - 1, 0, 1);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_phdr(PH_LOAD1, PT_INTERP, FAKE_INTERP, 0, sizeof(FAKE_INTERP_STR));
	expect_fake(-EBADMSG);

	/* dynamic section beyond the end, or twice */
	fake_init(false, true, EM_PPC);
	set_phdr(PH_DYNAMIC, PT_DYNAMIC, FAKE_DYN, 0, FAKE_SIZE);
	expect_fake(-EBADMSG);
	fake_init(false, true, EM_PPC);
	set_phdr(PH_INTERP, PT_DYNAMIC, FAKE_DYN, 0, 8);
	expect_fake(-EBADMSG);

	/* string table not in any PT_LOAD, running past its PT_LOAD, PT_LOAD beyond the file */
	fake_init(true, false, EM_X86_64);
	set_dyn(D_STRTAB, DT_STRTAB, 0x900000);
	expect_fake(-EBADMSG);
	set_dyn(D_STRTAB, DT_STRTAB, FAKE_VADDR2 - 1);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_dyn(D_STRSZ, DT_STRSZ, FAKE_SIZE - FAKE_STRTAB + 1);
	expect_fake(-EBADMSG);
	set_dyn(D_STRSZ, DT_STRSZ, UINT64_MAX);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_phdr(PH_LOAD2, PT_LOAD, FAKE_STRTAB, FAKE_VADDR2, FAKE_SIZE);
	expect_fake(-EBADMSG);
	/* a PT_LOAD with vaddr + filesz wrapping around */
	fake_init(true, false, EM_X86_64);
	set_phdr(PH_LOAD2, PT_LOAD, FAKE_STRTAB, UINT64_MAX - 16, UINT64_MAX);
	set_dyn(D_STRTAB, DT_STRTAB, UINT64_MAX - 8);
	expect_fake(-EBADMSG);

	/* DT_STRTAB or DT_STRSZ missing or twice */
	fake_init(true, false, EM_X86_64);
	set_dyn(D_STRSZ, DT_DEBUG, 0);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_dyn(D_STRTAB, DT_DEBUG, 0);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_dyn(D_RPATH, DT_STRTAB, FAKE_VADDR2);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_dyn(D_RPATH, DT_STRSZ, fake.strsz);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_dyn(D_RPATH, DT_RUNPATH, fake.off_rpath);
	expect_fake(-EBADMSG);

	/* DT_NEEDED beyond the string table, at its end, unterminated, empty */
	fake_init(true, false, EM_X86_64);
	set_dyn(D_NEEDED2, DT_NEEDED, fake.strsz);
	expect_fake(-EBADMSG);
	set_dyn(D_NEEDED2, DT_NEEDED, fake.strsz + 100);
	expect_fake(-EBADMSG);
	set_dyn(D_NEEDED2, DT_NEEDED, UINT64_MAX);
	expect_fake(-EBADMSG);
	fake_init(true, false, EM_X86_64);
	set_dyn(D_STRSZ, DT_STRSZ, fake.off_bar + 4);
	set_dyn(D_RUNPATH, DT_DEBUG, 0);
	set_dyn(D_RPATH, DT_DEBUG, 0);
	expect_fake(-EBADMSG);
	fake_init(false, false, EM_386);
	set_dyn(D_NEEDED1, DT_NEEDED, 0);
	expect_fake(-EBADMSG);
	/* same for the search paths */
	fake_init(false, false, EM_386);
	set_dyn(D_RUNPATH, DT_RUNPATH, fake.strsz);
	expect_fake(-EBADMSG);
}

TEST(caps)
{
	char name[ELF_NAME_MAX + 1];

	/* one DT_NEEDED too many */
	fake_init(true, false, EM_X86_64);
	for (unsigned i = 0; i <= ELF_MAX_NEEDED; i++)
		set_dyn(i, DT_NEEDED, fake.off_foo);
	set_dyn(ELF_MAX_NEEDED + 1, DT_STRTAB, FAKE_VADDR2);
	set_dyn(ELF_MAX_NEEDED + 2, DT_STRSZ, fake.strsz);
	set_dyn(ELF_MAX_NEEDED + 3, DT_NULL, 0);
	expect_fake(-EFBIG);

	/* names of ELF_NAME_MAX - 1 bytes fit, one more does not */
	memset(name, 'l', ELF_NAME_MAX - 1);
	name[ELF_NAME_MAX - 1] = 0;
	fake_init(true, false, EM_X86_64);
	set_dyn(D_NEEDED2, DT_NEEDED, add_string(name));
	set_dyn(D_STRSZ, DT_STRSZ, fake.strsz);
	ASSERT_EQ(parse_fake(), 1);
	ASSERT_STREQ(info.needed[1], name);
	name[ELF_NAME_MAX - 1] = 'l';
	name[ELF_NAME_MAX] = 0;
	set_dyn(D_NEEDED2, DT_NEEDED, add_string(name));
	set_dyn(D_STRSZ, DT_STRSZ, fake.strsz);
	expect_fake(-EFBIG);

	/* an interpreter of ELF_PATH_MAX - 1 bytes fits, one more does not (its NUL is then the
	 * first byte of the string table) */
	fake_init(true, false, EM_X86_64);
	memset(fake.buf + FAKE_STRTAB - ELF_PATH_MAX, '/', ELF_PATH_MAX);
	set_phdr(PH_INTERP, PT_INTERP, FAKE_STRTAB - ELF_PATH_MAX + 1, 0, ELF_PATH_MAX);
	ASSERT_EQ(parse_fake(), 1);
	ASSERT_EQ(strlen(info.interp), ELF_PATH_MAX - 1);
	set_phdr(PH_INTERP, PT_INTERP, FAKE_STRTAB - ELF_PATH_MAX, 0, ELF_PATH_MAX + 1);
	expect_fake(-EFBIG);
}

TEST(not_elf)
{
	static const char script[] = "#!/bin/sh\nexit 0\n";
	static const uint8_t almost[] = { 0x7f, 'E', 'L', 'G', 2, 1, 1 };

	ASSERT_EQ(elf_parse((const uint8_t *)script, sizeof(script) - 1, &info), -ENOEXEC);
	ASSERT_EQ(elf_parse(almost, sizeof(almost), &info), -ENOEXEC);
	ASSERT_EQ(elf_parse((const uint8_t *)ELFMAG, SELFMAG - 1, &info), -ENOEXEC);
	ASSERT_EQ(elf_parse(NULL, 0, &info), -ENOEXEC);
	ASSERT_EQ(elf_parse(NULL, 1, &info), -EINVAL);
	ASSERT_EQ(elf_parse(almost, sizeof(almost), NULL), -EINVAL);
}

RUN(T(real_dynamic), T(real_static), T(real_truncated), T(classes_and_byte_orders), T(variants),
    T(malformed), T(caps), T(not_elf))
