// SPDX-License-Identifier: GPL-2.0-or-later
/* Module selection with libkmod and index generation with depmod for the flasher. */
#include "initrd/modules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libkmod.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/alloc-util.h"
#include "basic/macro.h"
#include "basic/process-util.h"

/* Driver trees that a flasher may need to reach the disk and the network. */
static const char *const net_storage_dirs[] = {
	"kernel/drivers/net",	 "kernel/drivers/block", "kernel/drivers/nvme",
	"kernel/drivers/scsi",	 "kernel/drivers/ata",	 "kernel/drivers/mmc",
	"kernel/drivers/usb/storage", "kernel/drivers/virtio", "kernel/drivers/md",
	/* an armed hardware watchdog must be petted while the flasher works */
	"kernel/drivers/watchdog",
};

/* Outside those trees: what the flasher loads to rebuild a carried VLAN or bridge (bonding is
 * under kernel/drivers/net). The loaded-modules set has them when the running system uses
 * them; a flasher built for another kernel, or a bundle, must carry them too. */
static const char *const net_stack_modules[] = { "8021q", "bridge" };

/* Index files depmod writes; copied into the initrd when they exist. */
static const char *const index_files[] = {
	"modules.dep",	   "modules.dep.bin",	  "modules.alias",	     "modules.alias.bin",
	"modules.softdep", "modules.symbols",	  "modules.symbols.bin",    "modules.builtin.bin",
	"modules.builtin.alias.bin", "modules.devname",
};

int modules_mode_from_string(const char *s, enum modules_mode *ret)
{
	if (!strcmp(s, "host"))
		*ret = MODULES_HOST;
	else if (!strcmp(s, "net-storage"))
		*ret = MODULES_NET_STORAGE;
	else if (!strcmp(s, "none"))
		*ret = MODULES_NONE;
	else
		return -EINVAL;
	return 0;
}

struct selection {
	struct kmod_ctx *ctx;
	const char *moddir;
	char **paths; /* absolute paths of chosen .ko files */
	size_t n, cap;
	char *err;
	size_t errlen;
};

static bool have_path(struct selection *s, const char *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->paths[i], p))
			return true;
	return false;
}

static int add_module(struct selection *s, struct kmod_module *m, int depth);

static int add_list(struct selection *s, struct kmod_list *list, int depth)
{
	struct kmod_list *l;

	kmod_list_foreach(l, list)
	{
		struct kmod_module *d = kmod_module_get_module(l);
		int r = add_module(s, d, depth + 1);
		kmod_module_unref(d);
		if (r < 0)
			return r;
	}
	return 0;
}

/* softdeps name modules by alias or name: look each up */
static int add_softdeps(struct selection *s, struct kmod_list *list, int depth)
{
	struct kmod_list *l;

	kmod_list_foreach(l, list)
	{
		struct kmod_module *d = kmod_module_get_module(l);
		struct kmod_list *found = NULL;
		int r = 0;

		if (kmod_module_new_from_lookup(s->ctx, kmod_module_get_name(d), &found) == 0) {
			r = add_list(s, found, depth);
			kmod_module_unref_list(found);
		}
		kmod_module_unref(d);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_module(struct selection *s, struct kmod_module *m, int depth)
{
	const char *path = kmod_module_get_path(m);
	struct kmod_list *deps, *pre = NULL, *post = NULL;
	int r;

	if (!path || depth > 32) /* built in, or a loop */
		return 0;
	if (have_path(s, path))
		return 0;
	if (ARRAY_RESERVE(s->paths, s->cap, s->n) < 0)
		return -ENOMEM;
	s->paths[s->n] = strdup(path);
	if (!s->paths[s->n])
		return -ENOMEM;
	s->n++;
	deps = kmod_module_get_dependencies(m);
	r = add_list(s, deps, depth);
	kmod_module_unref_list(deps);
	if (r < 0)
		return r;
	if (kmod_module_get_softdeps(m, &pre, &post) == 0) {
		r = add_softdeps(s, pre, depth);
		if (r >= 0)
			r = add_softdeps(s, post, depth);
		kmod_module_unref_list(pre);
		kmod_module_unref_list(post);
	}
	return r;
}

static int add_by_name(struct selection *s, const char *name, bool must_exist)
{
	struct kmod_list *list = NULL;
	int r;

	r = kmod_module_new_from_lookup(s->ctx, name, &list);
	if (r < 0 || !list) {
		if (!must_exist)
			return 0;
		snprintf(s->err, s->errlen,
			 "no kernel module or alias '%s' in %s (check the name with modinfo)", name,
			 s->moddir);
		return -ENOENT;
	}
	r = add_list(s, list, 0);
	kmod_module_unref_list(list);
	return r;
}

static int add_host_modules(struct selection *s)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/modules", "re");
	char line[512];

	if (!f) {
		snprintf(s->err, s->errlen, "cannot read /proc/modules: %s", strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		int r;
		line[strcspn(line, " ")] = 0;
		/* a module loaded here but missing from the tree is not fatal: it may be
		 * out-of-tree (dkms) for a kernel we are not building for */
		r = add_by_name(s, line, false);
		if (r < 0)
			return r;
	}
	return 0;
}

static struct selection *walk_sel;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	size_t l = strlen(path);
	struct kmod_module *m;
	int r;

	if (type != FTW_F)
		return 0;
	if (!((l > 3 && !strcmp(path + l - 3, ".ko")) || (l > 6 && !strcmp(path + l - 6, ".ko.xz")) ||
	      (l > 7 && !strcmp(path + l - 7, ".ko.zst"))))
		return 0;
	if (kmod_module_new_from_path(walk_sel->ctx, path, &m) < 0)
		return 0;
	r = add_module(walk_sel, m, 0);
	kmod_module_unref(m);
	return r < 0 ? r : 0;
}

static int add_tree_modules(struct selection *s)
{
	for (size_t i = 0; i < ELEMENTSOF(net_stack_modules); i++) {
		int r = add_by_name(s, net_stack_modules[i], false); /* built in: nothing to add */
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(net_storage_dirs); i++) {
		char dir[PATH_MAX];
		int r;

		snprintf(dir, sizeof(dir), "%s/%s", s->moddir, net_storage_dirs[i]);
		if (access(dir, F_OK) < 0)
			continue;
		walk_sel = s;
		r = nftw(dir, walk_one, 16, FTW_PHYS);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_firmware(struct initrd *rd, struct selection *s, const char *sysroot,
			const char *kver)
{
	for (size_t i = 0; i < s->n; i++) {
		struct kmod_module *m;
		struct kmod_list *info = NULL, *l;

		if (kmod_module_new_from_path(s->ctx, s->paths[i], &m) < 0)
			continue;
		if (kmod_module_get_info(m, &info) > 0) {
			kmod_list_foreach(l, info)
			{
				const char *key = kmod_module_info_get_key(l);
				const char *fw = kmod_module_info_get_value(l);
				/* updates/KVER/, updates/, KVER/, top level */
				static const int with_kver[] = { 1, 0, 1, 0 };
				static const char *const prefixes[] = { "updates/", "updates/", "", "" };

				if (strcmp(key, "firmware") != 0 || !fw || strstr(fw, ".."))
					continue;
				/* where the kernel's firmware loader looks, in its order */
				for (size_t p = 0; p < ELEMENTSOF(prefixes); p++) {
					char rel[PATH_MAX], src[PATH_MAX * 2], dst[PATH_MAX * 2];
					snprintf(rel, sizeof(rel), "%s%s%s", prefixes[p],
						 with_kver[p] ? kver : "", with_kver[p] ? "/" : "");
					snprintf(src, sizeof(src), "%s/lib/firmware/%s%s", sysroot, rel, fw);
					if (access(src, R_OK) == 0) {
						snprintf(dst, sizeof(dst), "lib/firmware/%s%s", rel, fw);
						(void)initrd_add_file(rd, dst, 0644, src,
								      INITRD_KIND_FIRMWARE);
						break;
					}
				}
			}
			kmod_module_info_free_list(info);
		}
		kmod_module_unref(m);
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static int run_depmod(struct initrd *rd, struct selection *s, const char *kver, char *err,
		      size_t errlen)
{
	char tmp[] = "/tmp/reimage-depmod-XXXXXX", base[PATH_MAX], conf[PATH_MAX + 8];
	static const char *const copy_as_is[] = { "modules.order", "modules.builtin",
						  "modules.builtin.modinfo" };
	int r = 0, status;
	pid_t pid;

	if (!mkdtemp(tmp))
		return negative_errno();
	snprintf(conf, sizeof(conf), "%s/conf", tmp);
	snprintf(base, sizeof(base), "%s/lib/modules/%s", tmp, kver);
	if (mkdir(conf, 0700) < 0) {
		r = negative_errno();
		goto out;
	}
	/* the subset as symlinks to the real files, in their usual places */
	for (size_t i = 0; i < s->n + ELEMENTSOF(copy_as_is); i++) {
		char src[PATH_MAX], dst[PATH_MAX * 2], *slash;
		const char *rel;

		if (i < s->n)
			rel = s->paths[i] + strlen(s->moddir) + 1;
		else
			rel = copy_as_is[i - s->n];
		snprintf(src, sizeof(src), "%s/%s", s->moddir, rel);
		if (i >= s->n && access(src, F_OK) < 0)
			continue;
		snprintf(dst, sizeof(dst), "%s/%s", base, rel);
		for (slash = strchr(dst + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
			*slash = 0;
			(void)mkdir(dst, 0755);
			*slash = '/';
		}
		if (symlink(src, dst) < 0 && errno != EEXIST) {
			r = negative_errno();
			goto out;
		}
	}
	pid = fork();
	if (pid < 0) {
		r = negative_errno();
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execlp("depmod", "depmod", "-b", tmp, "-C", conf, kver, (char *)NULL);
		execl("/sbin/depmod", "depmod", "-b", tmp, "-C", conf, kver, (char *)NULL);
		_exit(127);
	}
	if (wait_child(pid, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen,
			 WIFEXITED(status) && WEXITSTATUS(status) == 127
				 ? "depmod is not installed (Debian package kmod); it makes the module "
				   "index of the flasher"
				 : "depmod failed to index the flasher's modules");
		r = -ENOEXEC;
		goto out;
	}
	for (size_t i = 0; i < ELEMENTSOF(index_files); i++) {
		char src[PATH_MAX * 2], dst[PATH_MAX];
		_cleanup_free_ uint8_t *buf = NULL;
		size_t len;

		snprintf(src, sizeof(src), "%s/%s", base, index_files[i]);
		if (read_full_file(src, 64U << 20, &buf, &len) < 0)
			continue;
		snprintf(dst, sizeof(dst), "lib/modules/%s/%s", kver, index_files[i]);
		r = initrd_add_data(rd, dst, 0644, buf, len, INITRD_KIND_MODULE);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < ELEMENTSOF(copy_as_is); i++) {
		char src[PATH_MAX * 2], dst[PATH_MAX];
		snprintf(src, sizeof(src), "%s/%s", s->moddir, copy_as_is[i]);
		snprintf(dst, sizeof(dst), "lib/modules/%s/%s", kver, copy_as_is[i]);
		if (access(src, R_OK) == 0)
			(void)initrd_add_file(rd, dst, 0644, src, INITRD_KIND_MODULE);
	}
out:
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}

int initrd_add_modules(struct initrd *rd, const char *sysroot, const char *kver,
		       enum modules_mode mode, char *const *extra, size_t n_extra, size_t *ret_count,
		       char *err, size_t errlen)
{
	char moddir[PATH_MAX], dep[PATH_MAX + 16];
	const char *no_config[] = { NULL };
	struct selection s = { .err = err, .errlen = errlen };
	int r = 0;

	size_t n_required = 0;

	*ret_count = 0;
	for (size_t i = 0; i < n_extra; i++)
		n_required += extra[i][0] != '?';
	if (mode == MODULES_NONE && n_extra == 0)
		return 0;
	snprintf(moddir, sizeof(moddir), "%s/lib/modules/%s", strcmp(sysroot, "/") ? sysroot : "",
		 kver);
	s.moddir = moddir;
	if (mode == MODULES_NONE && n_required == 0 && access(moddir, F_OK) < 0)
		return 0;
	if (access(moddir, F_OK) < 0) {
		snprintf(err, errlen, "no modules for kernel %s: %s does not exist", kver, moddir);
		return -ENOENT;
	}
	snprintf(dep, sizeof(dep), "%s/modules.dep", moddir);
	if (access(dep, R_OK) < 0) {
		snprintf(err, errlen,
			 "%s has no module index (modules.dep); run 'depmod -b %s %s' first", moddir,
			 sysroot, kver);
		return -ENOENT;
	}
	/* the host's modprobe.d is for the host's kernel: use it only for that */
	s.ctx = kmod_new(moddir, strcmp(sysroot, "/") == 0 ? NULL : no_config);
	if (!s.ctx)
		return -ENOMEM;
	if (kmod_load_resources(s.ctx) < 0) {
		snprintf(err, errlen, "cannot load the module index in %s", moddir);
		r = -EBADMSG;
		goto out;
	}
	if (mode == MODULES_HOST)
		r = add_host_modules(&s);
	else if (mode == MODULES_NET_STORAGE)
		r = add_tree_modules(&s);
	for (size_t i = 0; r >= 0 && i < n_extra; i++)
		r = extra[i][0] == '?' ? add_by_name(&s, extra[i] + 1, false)
				       : add_by_name(&s, extra[i], true);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < s.n; i++) {
		char dst[PATH_MAX * 2];
		snprintf(dst, sizeof(dst), "lib/modules/%s/%s", kver, s.paths[i] + strlen(moddir) + 1);
		/* signed modules are copied byte for byte: never stripped */
		r = initrd_add_file(rd, dst, 0644, s.paths[i], INITRD_KIND_MODULE);
		if (r < 0)
			goto out;
	}
	r = add_firmware(rd, &s, sysroot, kver);
	if (r >= 0)
		r = run_depmod(rd, &s, kver, err, errlen);
	*ret_count = s.n;
out:
	for (size_t i = 0; i < s.n; i++)
		free(s.paths[i]);
	free(s.paths);
	kmod_unref(s.ctx);
	return r;
}
