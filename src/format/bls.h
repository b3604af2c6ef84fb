/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Boot Loader Specification Type #1 entries (loader/entries/NAME.conf) and loader/loader.conf:
 * parsing, the spec's sort order and choosing the entry to boot. Pure: no I/O. Follows UAPI.1
 * "The Boot Loader Specification" (uapi-group.org/specifications/specs/boot_loader_specification)
 * and its "Version Format Specification" for version order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define BLS_ENTRY_MAX_SIZE (64U << 10)
#define BLS_LINE_MAX 4096
#define BLS_MAX_INITRDS 32
#define BLS_OPTIONS_MAX 8192

struct bls_entry {
	char *name;	/* file name without ".conf", boot counter included ("a+3-1") */
	char *id;	/* file name without ".conf" and without the boot counter ("a") */
	char *title, *version, *machine_id, *sort_key, *architecture;
	char *linux_path, *efi;
	char *initrds[BLS_MAX_INITRDS]; /* in the order listed */
	size_t n_initrds;
	char *options; /* every options line, joined with one space; NULL when there was none */
	int tries_left; /* boot counting: -1 when the name has no "+LEFT[-DONE]" counter */
	int tries_done;
	unsigned source; /* free for the caller: where the entry was found */
	unsigned n_ignored; /* lines ignored: unknown keys, keys without a value */
};

/* Parse one entry file named filename (a base name ending in ".conf") holding text[0..len).
 * Unknown keys and keys without a value are skipped and counted in n_ignored, as boot loaders
 * do; a repeated single-valued key keeps the last value. 0; -EINVAL when filename does not end
 * in ".conf" or holds a '/'; -EFBIG over BLS_ENTRY_MAX_SIZE, more than BLS_MAX_INITRDS initrd
 * lines or BLS_OPTIONS_MAX bytes of options; -EBADMSG for a NUL byte, a line over
 * BLS_LINE_MAX, or an entry with neither "linux" nor "efi"; -ENOMEM. err says which. */
int bls_entry_parse(const char *filename, const char *text, size_t len, struct bls_entry *ret,
		    char *err, size_t errlen);
void bls_entry_done(struct bls_entry *e);

/* The Version Format Specification's comparison: <0, 0, >0 as a sorts before, equal to or
 * after b (1.10 > 1.9, 1.0~rc1 < 1.0, 1.0^p1 > 1.0, 1.0-1 < 1.0.1). NULL counts as "". */
int bls_version_compare(const char *a, const char *b);

/* The spec's menu order (its "Sorting" section): bad entries (tries left 0) last; entries with
 * sort-key first, by sort-key and machine-id ascending and version descending; then by name in
 * decreasing version order. <0 when a comes first. */
int bls_entry_compare(const struct bls_entry *a, const struct bls_entry *b);

/* Whether a Linux loader on this architecture ("x64", "aa64", ... as the spec names them; NULL
 * accepts any) can boot e: it has a "linux" path, no "efi" program, and no other architecture.
 * When not, *why says what is missing. */
bool bls_entry_is_bootable(const struct bls_entry *e, const char *arch, const char **why);

/* The spec's architecture name of the machine this was built for ("x64", "aa64", ...), or NULL
 * for an architecture the spec does not name. */
const char *bls_native_architecture(void);

/* The "default" value of loader.conf (text[0..len)), a glob pattern. 1 and a malloc'ed copy in
 * *ret; 0 when there is none or it names a state reimage cannot know ("@saved"); -EFBIG over
 * BLS_ENTRY_MAX_SIZE; -EBADMSG for a NUL byte or a line over BLS_LINE_MAX; -ENOMEM. */
int bls_loader_conf_default(const char *text, size_t len, char **ret);

/* Sort entries[0..n) into menu order (in place) and pick the one to boot: the first bootable
 * entry whose id, id + ".conf" or name matches default_pattern (fnmatch), else the first
 * bootable entry. Returns its index, or -ENOENT when no entry is bootable. *ret_matched tells
 * whether the pattern chose it (false when no pattern was given or nothing matched it). */
int bls_select(struct bls_entry *entries, size_t n, const char *default_pattern, const char *arch,
	       bool *ret_matched);
