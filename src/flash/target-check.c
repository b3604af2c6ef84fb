// SPDX-License-Identifier: GPL-2.0-or-later
/* Refuse targets that are in use: mounted, swapped on, held by a stacked device, or root. */
#include "flash/target-check.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/macro.h"
#include "format/mountinfo.h"

#define MAX_PARTS 256

struct devset {
	dev_t devs[MAX_PARTS + 1];
	char names[MAX_PARTS + 1][64];
	size_t n;
};

static int read_dev_file(const char *path, dev_t *ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	unsigned ma, mi;

	if (!f)
		return negative_errno();
	if (fscanf(f, "%u:%u", &ma, &mi) != 2)
		return -EBADMSG;
	*ret = makedev(ma, mi);
	return 0;
}

/* The device itself and, for a whole disk, each of its partitions. */
static int devset_collect(dev_t devnum, struct devset *set)
{
	char sys[PATH_MAX], real[PATH_MAX], *base;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	set->n = 0;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(devnum), minor(devnum));
	if (!realpath(sys, real))
		return negative_errno();
	base = strrchr(real, '/');
	set->devs[0] = devnum;
	snprintf(set->names[0], sizeof(set->names[0]), "%s", base ? base + 1 : real);
	set->n = 1;
	d = opendir(real);
	if (!d)
		return 0;
	while ((de = readdir(d)) && set->n <= MAX_PARTS) {
		char p[PATH_MAX];
		dev_t part;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/partition", real, de->d_name);
		if (access(p, F_OK) < 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s/dev", real, de->d_name);
		if (read_dev_file(p, &part) < 0)
			continue;
		set->devs[set->n] = part;
		snprintf(set->names[set->n], sizeof(set->names[0]), "%s", de->d_name);
		set->n++;
	}
	return 0;
}

static int devset_find(const struct devset *set, dev_t dev)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->devs[i] == dev)
			return (int)i;
	return -1;
}

static void describe(const struct devset *set, int i, const char *path, char *buf, size_t n)
{
	if (i == 0)
		snprintf(buf, n, "%s", path);
	else
		snprintf(buf, n, "/dev/%s (a partition of %s)", set->names[i], path);
}

static int check_mounts(const struct devset *set, const char *path, char *why, size_t whylen)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ struct mountinfo_entry *e = malloc(sizeof(*e));
	size_t cap = 0;
	ssize_t len;

	if (!f || !e)
		return f ? -ENOMEM : negative_errno();
	while ((len = getline(&line, &cap, f)) > 0) {
		struct stat st;
		int i;

		if (mountinfo_line_parse(line, (size_t)len, e) < 0)
			continue;
		i = devset_find(set, makedev(e->major, e->minor));
		/* btrfs and friends report an anonymous major 0: go by the source path */
		if (i < 0 && e->major == 0 && e->source[0] == '/' && stat(e->source, &st) == 0 &&
		    S_ISBLK(st.st_mode))
			i = devset_find(set, st.st_rdev);
		if (i >= 0) {
			char what[PATH_MAX + 64];
			describe(set, i, path, what, sizeof(what));
			if (strcmp(e->mount_point, "/") == 0)
				snprintf(why, whylen,
					 "%s holds the running root file system (mounted on /); "
					 "to reimage this disk use 'reimage go'",
					 what);
			else
				snprintf(why, whylen, "%s is mounted on %s; unmount it first", what,
					 e->mount_point);
			return -EBUSY;
		}
	}
	return 0;
}

static int check_swaps(const struct devset *set, const char *path, char *why, size_t whylen)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/swaps", "re");
	_cleanup_free_ char *line = NULL;
	char name[PATH_MAX];
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return 0; /* no swap support in this kernel */
	while ((len = getline(&line, &cap, f)) > 0) {
		struct stat st;
		int i;

		if (swaps_line_parse(line, (size_t)len, name, sizeof(name)) < 0)
			continue;
		if (stat(name, &st) < 0 || !S_ISBLK(st.st_mode))
			continue;
		i = devset_find(set, st.st_rdev);
		if (i >= 0) {
			char what[PATH_MAX + 64];
			describe(set, i, path, what, sizeof(what));
			snprintf(why, whylen, "%s is in use as swap; run 'swapoff %s' first", what,
				 name);
			return -EBUSY;
		}
	}
	return 0;
}

static int check_holders(const struct devset *set, const char *path, char *why, size_t whylen)
{
	for (size_t i = 0; i < set->n; i++) {
		char p[PATH_MAX];
		_cleanup_(closedirp) DIR *d = NULL;
		struct dirent *de;

		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/holders", major(set->devs[i]),
			 minor(set->devs[i]));
		d = opendir(p);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			char what[PATH_MAX + 64], dmname[128] = "", np[PATH_MAX];
			_cleanup_fclose_ FILE *nf = NULL;

			if (de->d_name[0] == '.')
				continue;
			snprintf(np, sizeof(np), "%s/%s/dm/name", p, de->d_name);
			nf = fopen(np, "re");
			if (nf && fgets(dmname, sizeof(dmname), nf))
				dmname[strcspn(dmname, "\n")] = 0;
			describe(set, (int)i, path, what, sizeof(what));
			snprintf(why, whylen,
				 "%s is held by %s%s%s%s (device-mapper, LVM, md RAID or similar); "
				 "deactivate it first",
				 what, de->d_name, dmname[0] ? " (" : "", dmname, dmname[0] ? ")" : "");
			return -EBUSY;
		}
	}
	return 0;
}

/* Collect the block devices under the root file system, following dm/md slaves. */
static bool root_uses(const struct devset *set, dev_t dev, int depth, int *ret_i)
{
	char p[PATH_MAX];
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int i = devset_find(set, dev);

	if (i >= 0) {
		*ret_i = i;
		return true;
	}
	if (depth > 8)
		return false;
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/slaves", major(dev), minor(dev));
	d = opendir(p);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		char dp[PATH_MAX];
		dev_t s;

		if (de->d_name[0] == '.')
			continue;
		snprintf(dp, sizeof(dp), "%s/%s/dev", p, de->d_name);
		if (read_dev_file(dp, &s) == 0 && root_uses(set, s, depth + 1, ret_i))
			return true;
	}
	return false;
}

static int check_root(const struct devset *set, const char *path, char *why, size_t whylen)
{
	struct stat st;
	int i;

	if (stat("/", &st) < 0 || major(st.st_dev) == 0)
		return 0; /* anonymous devices are matched by source in check_mounts */
	if (root_uses(set, st.st_dev, 0, &i)) {
		char what[PATH_MAX + 64];
		describe(set, i, path, what, sizeof(what));
		snprintf(why, whylen,
			 "%s holds the running root file system; to reimage this disk use "
			 "'reimage go'",
			 what);
		return -EBUSY;
	}
	return 0;
}

int target_check_block_device(dev_t devnum, const char *path, char *why, size_t whylen)
{
	_cleanup_free_ struct devset *set = calloc(1, sizeof(*set));
	int r;

	if (!set)
		return -ENOMEM;
	r = devset_collect(devnum, set);
	if (r < 0) {
		snprintf(why, whylen, "cannot find %s in /sys/dev/block: %s", path, strerror(-r));
		return r;
	}
	r = check_root(set, path, why, whylen);
	if (r >= 0)
		r = check_mounts(set, path, why, whylen);
	if (r >= 0)
		r = check_swaps(set, path, why, whylen);
	if (r >= 0)
		r = check_holders(set, path, why, whylen);
	return r;
}

int target_check_regular_file(dev_t dev, ino_t ino, const char *path, char *why, size_t whylen)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/swaps", "re");
	_cleanup_free_ char *line = NULL;
	char name[PATH_MAX];
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct stat st;

		if (swaps_line_parse(line, (size_t)len, name, sizeof(name)) < 0)
			continue;
		if (stat(name, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dev &&
		    st.st_ino == ino) {
			snprintf(why, whylen, "%s is an active swap file; run 'swapoff %s' first",
				 path, name);
			return -EBUSY;
		}
	}
	return 0;
}

int blockdev_queue_attr(dev_t devnum, const char *attr, unsigned long long *ret)
{
	char p[PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/queue/%s", major(devnum), minor(devnum), attr);
	f = fopen(p, "re");
	if (!f) {
		/* a partition has no queue of its own: use its disk's */
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/../queue/%s", major(devnum),
			 minor(devnum), attr);
		f = fopen(p, "re");
	}
	if (!f)
		return negative_errno();
	if (fscanf(f, "%llu", ret) != 1)
		return -EBADMSG;
	return 0;
}
