// SPDX-License-Identifier: GPL-2.0-or-later
/* /chosen edits for kexec_load's device tree, through libfdt. */
#include "kexec/fdt-chosen.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

static int fdt_err(int e)
{
	switch (e) {
	case -FDT_ERR_NOSPACE:
		return -EFBIG;
	case -FDT_ERR_NOTFOUND:
		return -ENOENT;
	default:
		return -EBADMSG;
	}
}

int fdt_chosen_update(const void *fdt, size_t len, const struct fdt_chosen *c, void **ret,
		      size_t *ret_len)
{
	static const char *const stale[] = { "linux,initrd-start", "linux,initrd-end", "rng-seed",
					     "kaslr-seed", "linux,elfcorehdr",
					     "linux,usable-memory-range", "linux,booted-from-kexec",
					     "bootargs" };
	_cleanup_free_ void *out = NULL;
	size_t cap;
	int node, e;

	if (!fdt || !c || !ret || !ret_len)
		return -EINVAL;
	/* the header says how long the tree is; it must lie inside what we were given */
	if (len < sizeof(struct fdt_header) || fdt_check_header(fdt) != 0 ||
	    fdt_totalsize(fdt) > len)
		return -EBADMSG;
	cap = fdt_totalsize(fdt) + (c->bootargs ? strlen(c->bootargs) : 0) + c->rng_seed_len + 1024;
	if (cap > FDT_MAX_SIZE)
		return -EFBIG;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	e = fdt_open_into(fdt, out, (int)cap);
	if (e < 0)
		return fdt_err(e);
	node = fdt_path_offset(out, "/chosen");
	if (node == -FDT_ERR_NOTFOUND)
		node = fdt_add_subnode(out, 0, "chosen");
	if (node < 0)
		return fdt_err(node);
	for (size_t i = 0; i < ELEMENTSOF(stale); i++) {
		e = fdt_delprop(out, node, stale[i]);
		if (e < 0 && e != -FDT_ERR_NOTFOUND)
			return fdt_err(e);
	}
	if (c->bootargs && (e = fdt_setprop_string(out, node, "bootargs", c->bootargs)) < 0)
		return fdt_err(e);
	if (c->initrd_end > c->initrd_start) {
		if ((e = fdt_setprop_u64(out, node, "linux,initrd-start", c->initrd_start)) < 0 ||
		    (e = fdt_setprop_u64(out, node, "linux,initrd-end", c->initrd_end)) < 0)
			return fdt_err(e);
	}
	if (c->rng_seed_len &&
	    (e = fdt_setprop(out, node, "rng-seed", c->rng_seed, (int)c->rng_seed_len)) < 0)
		return fdt_err(e);
	if (c->kaslr_seed && (e = fdt_setprop_u64(out, node, "kaslr-seed", c->kaslr_seed)) < 0)
		return fdt_err(e);
	e = fdt_pack(out);
	if (e < 0)
		return fdt_err(e);
	*ret_len = fdt_totalsize(out);
	*ret = TAKE_PTR(out);
	return 0;
}
