// SPDX-License-Identifier: GPL-2.0-or-later
/* Locating the target disk by identity inside the flasher. */
#include "init/target.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/time-util.h"

/* A weak identity (model and size, no serial or WWN) is chosen only once the list of disks has
 * stayed the same this long: a second disk of the same model may still be probing. */
#define WEAK_SETTLE_MS 3000

static const char *root = ""; /* prefix of /sys and /dev: target_set_root() */

void target_set_root(const char *r)
{
	root = r ? r : "";
}

static void read_attr(const char *name, const char *attr, char *buf, size_t n)
{
	char p[512];
	_cleanup_fclose_ FILE *f = NULL;
	size_t l;

	buf[0] = 0;
	snprintf(p, sizeof(p), "%s/sys/class/block/%s/%s", root, name, attr);
	f = fopen(p, "re");
	if (!f || !fgets(buf, (int)n, f)) {
		buf[0] = 0;
		return;
	}
	/* sysfs pads model and vendor strings with spaces */
	l = strlen(buf);
	while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
		buf[--l] = 0;
}

int disk_identity_read(const char *name, struct disk_identity *ret)
{
	char v[64];
	uint64_t sectors;

	*ret = (struct disk_identity){ 0 };
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	read_attr(name, "size", v, sizeof(v));
	if (!v[0])
		return -ENOENT;
	if (parse_u64(v, &sectors) == 0)
		ret->size = sectors * 512; /* sysfs counts 512-byte sectors whatever the disk */
	read_attr(name, "device/serial", ret->serial, sizeof(ret->serial));
	if (!ret->serial[0])
		read_attr(name, "serial", ret->serial, sizeof(ret->serial)); /* virtio-blk */
	read_attr(name, "wwid", ret->wwn, sizeof(ret->wwn));
	if (!ret->wwn[0])
		read_attr(name, "device/wwid", ret->wwn, sizeof(ret->wwn));
	read_attr(name, "device/model", ret->model, sizeof(ret->model));
	return 0;
}

static bool is_whole_disk(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/sys/class/block/%s/partition", root, name);
	if (access(p, F_OK) == 0)
		return false;
	/* no loop, ram or zram devices: the flasher writes real disks */
	return strncmp(name, "loop", 4) && strncmp(name, "ram", 3) && strncmp(name, "zram", 4);
}

static DIR *open_block_class(void)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/sys/class/block", root);
	return opendir(p);
}

/* The size in bytes of the block device node at path (sysfs, by its device number; 0 when
 * sysfs does not say): 0 with *ret_size, -ENOTBLK, or -ENOENT. */
static int node_size(const char *path, uint64_t *ret_size)
{
	char p[512], v[64];
	_cleanup_fclose_ FILE *f = NULL;
	uint64_t sectors;
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", root, path);
	if (stat(p, &st) < 0)
		return -ENOENT;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	*ret_size = 0; /* unknown: sysfs does not say */
	snprintf(p, sizeof(p), "%s/sys/dev/block/%u:%u/size", root, major(st.st_rdev),
		 minor(st.st_rdev));
	f = fopen(p, "re");
	if (!f || !fgets(v, sizeof(v), f))
		return 0;
	v[strcspn(v, "\n")] = 0;
	if (parse_u64(v, &sectors) == 0)
		*ret_size = sectors * 512;
	return 0;
}

static void describe_disks(char *buf, size_t n)
{
	_cleanup_(closedirp) DIR *d = open_block_class();
	struct dirent *de;
	size_t o = 0;

	o += (size_t)snprintf(buf, n, "disks seen:");
	while (d && (de = readdir(d)) && o < n) {
		struct disk_identity id;
		char sz[32];

		if (de->d_name[0] == '.' || !is_whole_disk(de->d_name) ||
		    disk_identity_read(de->d_name, &id) < 0)
			continue;
		o += (size_t)snprintf(buf + o, n - o, " /dev/%s (%s%s%s%s%s)", id.name,
				      format_bytes(sz, sizeof(sz), id.size),
				      id.model[0] ? ", model " : "", id.model,
				      id.serial[0] ? ", serial " : "", id.serial);
	}
	if (o == strlen("disks seen:") && o < n)
		snprintf(buf + o, n - o, " none (is the storage driver missing from the flasher?)");
}

int target_find(const char *dst, const char *serial, const char *wwn, const char *model,
		uint64_t size, uint64_t timeout_ms, char *path, size_t pathlen, char *why,
		size_t whylen)
{
	bool by_id = (serial && *serial) || (wwn && *wwn) || (model && *model);
	bool weak = by_id && !(serial && *serial) && !(wwn && *wwn);
	uint64_t start = now_ms(), seen_hash = 0, seen_since = start;
	char full[512];

	for (;;) {
		if (by_id) {
			_cleanup_(closedirp) DIR *d = open_block_class();
			struct dirent *de;
			uint64_t hash = 1469598103934665603ULL; /* FNV-1a over the disks seen */
			int found = 0;

			while (d && (de = readdir(d))) {
				struct disk_identity id;

				if (de->d_name[0] == '.' || !is_whole_disk(de->d_name) ||
				    disk_identity_read(de->d_name, &id) < 0)
					continue;
				for (const char *c = id.name; *c; c++)
					hash = (hash ^ (uint8_t)*c) * 1099511628211ULL;
				hash = (hash ^ (id.size & 0xff)) * 1099511628211ULL;
				if ((serial && *serial && strcmp(serial, id.serial)) ||
				    (wwn && *wwn && strcmp(wwn, id.wwn)) ||
				    (model && *model && strcmp(model, id.model)) ||
				    (size && size != id.size))
					continue;
				if (found++ == 0)
					snprintf(path, pathlen, "/dev/%s", id.name);
			}
			if (hash != seen_hash) {
				seen_hash = hash;
				seen_since = now_ms();
			}
			if (found > 1) {
				snprintf(why, whylen, "%d disks match the recorded identity", found);
				return -ENOTUNIQ;
			}
			/* a model and a size name no disk uniquely: decide only on a scan that has
			 * stopped changing (or at the end of the wait) */
			if (found == 1 && (!weak || now_ms() - seen_since >= WEAK_SETTLE_MS ||
					   now_ms() - start >= timeout_ms)) {
				struct stat st;
				snprintf(full, sizeof(full), "%s%s", root, path);
				if (stat(full, &st) == 0 && S_ISBLK(st.st_mode)) {
					snprintf(path, pathlen, "%s", full);
					return 0;
				}
			}
		} else {
			uint64_t have = 0;
			int r = node_size(dst, &have);

			/* a name is not an identity: another disk may have it in this boot. Only the
			 * recorded size (when there is one) says it is the same disk; 0 bytes is a
			 * disk whose medium is not there yet. */
			if (r == 0 && (!size || have == size)) {
				snprintf(path, pathlen, "%s%s", root, dst);
				return 0;
			}
			if (r == 0 && have != 0) {
				char a[32], b[32];
				snprintf(why, whylen,
					 "%s is %s (%llu bytes), but the disk recorded when the job was made "
					 "had %s (%llu bytes): another disk has that name in this boot, and "
					 "it is not written. Make the job on this machine again (reimage go "
					 "records the disk's serial or WWN when it has one)",
					 dst, format_bytes(a, sizeof(a), have), (unsigned long long)have,
					 format_bytes(b, sizeof(b), size), (unsigned long long)size);
				return -ENXIO;
			}
		}
		if (now_ms() - start >= timeout_ms)
			break;
		sleep_ms(250, NULL);
	}
	{
		char disks[1024];
		describe_disks(disks, sizeof(disks));
		if (by_id)
			snprintf(why, whylen,
				 "no disk with %s%s%s%s%s%s%s after %llu s; %s",
				 serial && *serial ? "serial " : "", serial && *serial ? serial : "",
				 wwn && *wwn ? " WWN " : "", wwn && *wwn ? wwn : "",
				 model && *model ? " model " : "", model && *model ? model : "",
				 size ? " and the recorded size" : "",
				 (unsigned long long)(timeout_ms / 1000), disks);
		else
			snprintf(why, whylen, "%s did not appear within %llu s; %s", dst,
				 (unsigned long long)(timeout_ms / 1000), disks);
	}
	return -ETIMEDOUT;
}
