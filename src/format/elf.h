/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What an ELF program or shared library needs at run time: its program interpreter (PT_INTERP)
 * and its DT_NEEDED, DT_RUNPATH and DT_RPATH entries, read from a memory buffer that may be
 * hostile. Implements the parts of the System V ABI (gABI, "Object Files" and "Program Loading
 * and Dynamic Linking") and of "ELF-64 Object File Format" 1.5 that this needs, for ELF32 and
 * ELF64 of either byte order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_NEEDED 256
/* Longest DT_NEEDED name, and longest interpreter or search path, each including the NUL. */
#define ELF_NAME_MAX 256
#define ELF_PATH_MAX 4096

struct elf_info {
	uint16_t type;     /* e_type: ET_EXEC, ET_DYN, … */
	uint16_t machine;  /* e_machine: EM_X86_64, EM_AARCH64, … */
	uint8_t elf_class; /* ELFCLASS32 (1) or ELFCLASS64 (2) */
	bool big_endian;
	bool is_dynamic;          /* has a PT_INTERP or a DT_NEEDED */
	char interp[ELF_PATH_MAX]; /* "" when there is no PT_INTERP */
	char needed[ELF_MAX_NEEDED][ELF_NAME_MAX]; /* in the order of the dynamic section */
	size_t n_needed;
	char runpath[ELF_PATH_MAX]; /* "" when absent; "$ORIGIN" etc. are not expanded */
	char rpath[ELF_PATH_MAX];
};

/* Parse the ELF file buf[0..len). The string table named by DT_STRTAB (a virtual address) is
 * found through the PT_LOAD segment that holds it, and must lie inside that segment's file
 * image; DT_STRSZ is required when any string is read. Every offset and size is checked
 * against len. e_phnum == PN_XNUM (count in section 0's sh_info) is understood.
 *
 * Returns 1 when the file needs a program interpreter or shared libraries (is_dynamic); 0 when
 * it needs neither (a static or static-pie executable, an object file, a library with no
 * DT_NEEDED such as ld.so itself); -ENOEXEC when buf does not start with the ELF magic;
 * -EBADMSG when it is malformed (truncated headers, a segment or string beyond the end of the
 * file, an unknown class or byte order, a string table outside every PT_LOAD, a string
 * offset beyond DT_STRSZ or a string without its NUL, a second PT_INTERP, PT_DYNAMIC,
 * DT_STRTAB, DT_STRSZ, DT_RUNPATH or DT_RPATH, an empty interpreter or DT_NEEDED name);
 * -EFBIG when there are more than ELF_MAX_NEEDED DT_NEEDED entries or a string is too long for
 * its field; -EINVAL for bad arguments. ret is written only on success. */
int elf_parse(const uint8_t *buf, size_t len, struct elf_info *ret);
