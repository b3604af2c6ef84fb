// SPDX-License-Identifier: GPL-2.0-or-later
/* Fitting the written disk and giving the new system this machine's identity. */
#include "init/configure.h"

#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdisk.h>
#include <limits.h>
#include <linux/blkpg.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/random-util.h"
#include "basic/time-util.h"
#include "format/identity-config.h"

#define MOUNT_DIR "/run/reimage/configure"
#define MAX_PARTS 128
#define MAX_WRITES 64
#define IDENTITY_FILE_MAX (64U << 20)
#define NODE_WAIT_MS 10000

/* Discoverable Partitions Specification: the root partition of this architecture */
#if defined(__x86_64__)
#define GUID_ROOT_NATIVE "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define ARCH_NAME "x86-64"
#elif defined(__aarch64__)
#define GUID_ROOT_NATIVE "b921b045-1df0-41c3-af44-4c6f280d3fae"
#define ARCH_NAME "arm64"
#else
#define GUID_ROOT_NATIVE ""
#define ARCH_NAME "this architecture"
#endif

/* The kernel's online resize calls (fs/ext4/ext4.h, fs/xfs/libxfs/xfs_fs.h): the uapi headers
 * of Debian 12 do not carry them, and the flasher has no resize tools. */
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
struct xfs_fsop_geom_v1 {
	uint32_t blocksize, rtextsize, agblocks, agcount, logblocks, sectsize, inodesize, imaxpct;
	uint64_t datablocks, rtblocks, rtextents, logstart;
	unsigned char uuid[16];
	uint32_t sunit, swidth;
	int32_t version;
	uint32_t flags, logsectsize, rtsectsize, dirblocksize;
};
struct xfs_growfs_data {
	uint64_t newblocks;
	uint32_t imaxpct;
};
#define XFS_IOC_FSGEOMETRY_V1 _IOR('X', 100, struct xfs_fsop_geom_v1)
#define XFS_IOC_FSGROWFSDATA _IOW('X', 110, struct xfs_growfs_data)

struct part {
	size_t partno; /* libfdisk's, from 0; the kernel's is one more */
	uint64_t start, size; /* sectors */
	bool nested;
	char type[64];
	char fstype[32];
	char node[64];
};

/* One file to write into the new system. */
struct wr {
	char path[PATH_MAX];
	uint32_t mode, dir_mode;
	char *data; /* owned; NULL for "computed when written" (merge) */
	size_t len;
	enum { WR_PLAIN, WR_MERGE_HOSTS, WR_MERGE_KEYS } kind;
	const char *what; /* for messages: never the contents */
};

struct cfg {
	const struct job *j;
	const struct identity_source *src;
	const char *disk;
	int disk_fd;
	char disk_name[64];
	struct fdisk_context *cxt;
	bool assigned, has_label, gpt;
	unsigned long sector;
	struct part parts[MAX_PARTS];
	size_t n;
	struct part *root; /* NULL with whole_disk */
	bool whole_disk;
	char root_dev[PATH_MAX], root_type[32];
	uint64_t root_bytes; /* after growing */
	bool grow_part, grow_fs;
	int root_fd;
	bool mounted;
	struct wr w[MAX_WRITES];
	size_t nw;
	char *authorized; /* identity/authorized_keys */
	char *err;
	size_t errlen;
};

static int fail(struct cfg *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct cfg *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* --- the disk and its partitions ------------------------------------------------------- */

static int read_sysfs_u64(const char *path, uint64_t *ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char v[32];

	if (!f || !fgets(v, sizeof(v), f))
		return -ENOENT;
	v[strcspn(v, "\n")] = 0;
	return parse_u64(v, ret);
}

/* The kernel's partition number n of the disk: its name when sysfs shows it with the given
 * start and size (512-byte units). */
static bool kernel_partition(const char *disk_name, unsigned n, uint64_t start, uint64_t size,
			     char *name, size_t namelen, bool *ret_stale)
{
	char p[PATH_MAX];
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	*ret_stale = false;
	snprintf(p, sizeof(p), "/sys/class/block/%s", disk_name);
	d = opendir(p);
	while (d && (de = readdir(d))) {
		char q[PATH_MAX * 2];
		uint64_t v, s, z;

		if (de->d_name[0] == '.')
			continue;
		snprintf(q, sizeof(q), "%s/%s/partition", p, de->d_name);
		if (read_sysfs_u64(q, &v) < 0 || v != n)
			continue;
		snprintf(q, sizeof(q), "%s/%s/start", p, de->d_name);
		if (read_sysfs_u64(q, &s) < 0)
			continue;
		snprintf(q, sizeof(q), "%s/%s/size", p, de->d_name);
		if (read_sysfs_u64(q, &z) < 0)
			continue;
		if (s != start || z != size) {
			*ret_stale = true;
			return false;
		}
		snprintf(name, namelen, "%s", de->d_name);
		return true;
	}
	return false;
}

static int blkpg(int fd, int op, unsigned pno, uint64_t start_b, uint64_t size_b)
{
	struct blkpg_partition bp = { .start = (long long)start_b, .length = (long long)size_b,
				      .pno = (int)pno };
	struct blkpg_ioctl_arg a = { .op = op, .datalen = sizeof(bp), .data = &bp };

	return ioctl(fd, BLKPG, &a) < 0 ? negative_errno() : 0;
}

/* The /dev node of a partition as the written table has it: the kernel still knows the table
 * of the system that was running (or none), so tell it through BLKPG, one partition at a time
 * (a whole re-read fails while any partition is open, and some kernels have no parser). */
static int partition_node(struct cfg *c, struct part *p)
{
	unsigned kn = (unsigned)p->partno + 1;
	uint64_t s512 = p->start * (c->sector / 512), z512 = p->size * (c->sector / 512);
	char name[64] = "";
	bool stale;
	uint64_t deadline = now_ms() + NODE_WAIT_MS;
	int r;

	if (p->node[0])
		return 0;
	if (!kernel_partition(c->disk_name, kn, s512, z512, name, sizeof(name), &stale)) {
		if (stale)
			(void)blkpg(c->disk_fd, BLKPG_DEL_PARTITION, kn, 0, 0);
		r = blkpg(c->disk_fd, BLKPG_ADD_PARTITION, kn, p->start * c->sector,
			  p->size * c->sector);
		if (r < 0 && r != -EBUSY)
			return fail(c, r, "cannot tell the kernel about partition %u of %s: %s", kn,
				    c->disk, strerror(-r));
		while (!kernel_partition(c->disk_name, kn, s512, z512, name, sizeof(name), &stale) &&
		       now_ms() < deadline)
			sleep_ms(50, NULL);
		if (!name[0])
			return fail(c, -ENODEV, "partition %u of %s did not appear in sysfs", kn,
				    c->disk);
	}
	snprintf(p->node, sizeof(p->node), "/dev/%s", name);
	while (access(p->node, F_OK) < 0 && now_ms() < deadline)
		sleep_ms(50, NULL);
	if (access(p->node, F_OK) < 0)
		return fail(c, -ENODEV, "%s did not appear", p->node);
	return 0;
}

/* The file system at [off, off+size) of the disk, by its superblock. */
static void probe_fs(struct cfg *c, uint64_t off, uint64_t size, char *type, size_t n)
{
	blkid_probe pr = blkid_new_probe();
	const char *v;

	type[0] = 0;
	if (!pr)
		return;
	if (blkid_probe_set_device(pr, c->disk_fd, (blkid_loff_t)off, (blkid_loff_t)size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
		if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0)
			snprintf(type, n, "%s", v);
	}
	blkid_free_probe(pr);
}

static int read_table(struct cfg *c)
{
	struct fdisk_table *tb = NULL;
	struct fdisk_iter *it = NULL;
	struct fdisk_partition *pa = NULL;
	int r;

	c->cxt = fdisk_new_context();
	if (!c->cxt)
		return fail(c, -ENOMEM, "out of memory");
	/* read-only: libfdisk claims a disk it may write exclusively, and the root must be
	 * mounted first to be found */
	r = fdisk_assign_device(c->cxt, c->disk, 1);
	if (r < 0)
		return fail(c, r, "libfdisk cannot open %s: %s", c->disk, strerror(-r));
	c->assigned = true;
	c->sector = fdisk_get_sector_size(c->cxt);
	if (c->sector < 512 || c->sector % 512)
		return fail(c, -EINVAL, "%s has a sector size of %lu", c->disk, c->sector);
	c->has_label = fdisk_has_label(c->cxt);
	if (!c->has_label)
		return 0;
	c->gpt = fdisk_is_label(c->cxt, GPT);
	if (!c->gpt && !fdisk_is_label(c->cxt, DOS))
		return fail(c, -EPROTONOSUPPORT, "%s has a %s partition table; reimage configures GPT "
						 "and MBR disks",
			    c->disk, fdisk_label_get_name(fdisk_get_label(c->cxt, NULL)));
	r = fdisk_get_partitions(c->cxt, &tb);
	if (r < 0)
		return fail(c, r, "cannot read the partitions of %s: %s", c->disk, strerror(-r));
	it = fdisk_new_iter(FDISK_ITER_FORWARD);
	while (it && fdisk_table_next_partition(tb, it, &pa) == 0 && c->n < MAX_PARTS) {
		struct part *p = &c->parts[c->n];
		struct fdisk_parttype *t;

		if (!fdisk_partition_has_start(pa) || !fdisk_partition_has_size(pa) ||
		    fdisk_partition_is_container(pa))
			continue;
		*p = (struct part){ .partno = fdisk_partition_get_partno(pa),
				    .start = fdisk_partition_get_start(pa),
				    .size = fdisk_partition_get_size(pa),
				    .nested = fdisk_partition_is_nested(pa) };
		t = fdisk_partition_get_type(pa);
		if (t && c->gpt && fdisk_parttype_get_string(t))
			snprintf(p->type, sizeof(p->type), "%s", fdisk_parttype_get_string(t));
		else if (t)
			snprintf(p->type, sizeof(p->type), "0x%02x", fdisk_parttype_get_code(t));
		probe_fs(c, p->start * c->sector, p->size * c->sector, p->fstype, sizeof(p->fstype));
		c->n++;
	}
	fdisk_free_iter(it);
	fdisk_unref_table(tb);
	return 0;
}

/* --- mounting and paths inside the new root -------------------------------------------- */

static int open_in(int dirfd, const char *path, int flags, uint64_t resolve, mode_t mode)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = mode,
				.resolve = resolve };
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? negative_errno() : (int)fd;
}

#define RESOLVE_STRICT                                                                             \
	(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* Does path exist in the new root (links followed, but never out of it)? */
static bool exists_in_root(int root_fd, const char *path)
{
	int fd = open_in(root_fd, path, O_PATH | O_NOFOLLOW,
			 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int mount_root(struct cfg *c, bool rw)
{
	unsigned long flags = MS_NODEV | MS_NOSUID | MS_NOEXEC | (rw ? 0 : MS_RDONLY);
	const char *opt = NULL;
	int r;

	(void)mkdir("/run/reimage", 0755);
	if (mkdir(MOUNT_DIR, 0700) < 0 && errno != EEXIST)
		return fail(c, negative_errno(), "cannot create %s: %m", MOUNT_DIR);
	/* read-only means no journal replay either: a refusal leaves the disk as written */
	if (!rw)
		opt = !strcmp(c->root_type, "xfs")     ? "norecovery"
		      : !strcmp(c->root_type, "btrfs") ? "rescue=nologreplay"
		      : !strncmp(c->root_type, "ext", 3) ? "noload"
							  : NULL;
	r = mount(c->root_dev, MOUNT_DIR, c->root_type, flags, opt);
	if (r < 0 && opt)
		r = mount(c->root_dev, MOUNT_DIR, c->root_type, flags, NULL);
	if (r < 0)
		return fail(c, negative_errno(), "cannot mount %s (%s)%s: %s", c->root_dev,
			    c->root_type, rw ? "" : " read-only", strerror(errno));
	c->mounted = true;
	c->root_fd = open(MOUNT_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->root_fd < 0)
		return fail(c, negative_errno(), "cannot open %s: %m", MOUNT_DIR);
	return 0;
}

static void unmount_root(struct cfg *c)
{
	c->root_fd = safe_close(c->root_fd);
	if (!c->mounted)
		return;
	if (umount2(MOUNT_DIR, 0) < 0) {
		log_warning_errno(negative_errno(), "configure: cannot unmount %s: %m", MOUNT_DIR);
		(void)umount2(MOUNT_DIR, MNT_DETACH);
	}
	c->mounted = false;
}

static bool fs_is_linux_root_type(const char *t)
{
	return !strcmp(t, "ext4") || !strcmp(t, "ext3") || !strcmp(t, "ext2") || !strcmp(t, "xfs") ||
	       !strcmp(t, "btrfs");
}

static bool fs_can_grow(const char *t)
{
	return !strcmp(t, "ext4") || !strcmp(t, "xfs") || !strcmp(t, "btrfs");
}

/* The root: the partition of the root type GUID, else the first ext4/xfs/btrfs that holds
 * /etc/os-release (the default subvolume for btrfs); a disk without a table may be a file
 * system itself. Leaves it mounted read-only. */
static int find_root(struct cfg *c)
{
	int r;

	if (!c->has_label) {
		uint64_t size = 0;
		if (ioctl(c->disk_fd, BLKGETSIZE64, &size) < 0)
			return fail(c, negative_errno(), "cannot read the size of %s: %m", c->disk);
		probe_fs(c, 0, size, c->root_type, sizeof(c->root_type));
		snprintf(c->root_dev, sizeof(c->root_dev), "%s", c->disk);
		c->whole_disk = true;
		if (!fs_is_linux_root_type(c->root_type) || mount_root(c, false) < 0 ||
		    (!exists_in_root(c->root_fd, "etc/os-release") &&
		     !exists_in_root(c->root_fd, "usr/lib/os-release"))) {
			unmount_root(c);
			return fail(c, -ENOENT, "%s has no partition table and holds no ext4, xfs or "
						"btrfs file system with /etc/os-release: no new system to "
						"configure",
				    c->disk);
		}
		return 0;
	}
	for (size_t i = 0; c->gpt && *GUID_ROOT_NATIVE && i < c->n; i++)
		if (!strcasecmp(c->parts[i].type, GUID_ROOT_NATIVE)) {
			c->root = &c->parts[i];
			r = partition_node(c, c->root);
			if (r < 0)
				return r;
			snprintf(c->root_dev, sizeof(c->root_dev), "%s", c->root->node);
			snprintf(c->root_type, sizeof(c->root_type), "%s", c->root->fstype);
			if (!c->root_type[0])
				return fail(c, -ENOENT, "the root partition %s holds no file system "
							"reimage recognises",
					    c->root->node);
			return mount_root(c, false);
		}
	for (size_t i = 0; i < c->n; i++) {
		struct part *p = &c->parts[i];
		if (!fs_is_linux_root_type(p->fstype))
			continue;
		r = partition_node(c, p);
		if (r < 0)
			return r;
		snprintf(c->root_dev, sizeof(c->root_dev), "%s", p->node);
		snprintf(c->root_type, sizeof(c->root_type), "%s", p->fstype);
		if (mount_root(c, false) < 0) {
			log_warning("configure: %s", c->err);
			continue;
		}
		if (exists_in_root(c->root_fd, "etc/os-release") ||
		    exists_in_root(c->root_fd, "usr/lib/os-release")) {
			c->root = p;
			return 0;
		}
		unmount_root(c);
	}
	c->root_dev[0] = c->root_type[0] = 0;
	return fail(c, -ENOENT,
		    "no partition of %s has the root type for " ARCH_NAME " (" GUID_ROOT_NATIVE
		    ") or an ext4, xfs or btrfs file system with /etc/os-release",
		    c->disk);
}

/* --- what to write ---------------------------------------------------------------------- */

static int identity_read(struct cfg *c, const char *name, char **ret, size_t *ret_len)
{
	char want[PATH_MAX];
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;
	int r;

	snprintf(want, sizeof(want), "etc/reimage/identity/%s", name);
	for (size_t i = 0; i < c->src->n_files; i++)
		if (!strcmp(c->src->files[i].path, want)) {
			char *d = malloc(c->src->files[i].len + 1);
			if (!d)
				return fail(c, -ENOMEM, "out of memory");
			memcpy(d, c->src->files[i].data, c->src->files[i].len);
			d[c->src->files[i].len] = 0;
			*ret = d;
			*ret_len = c->src->files[i].len;
			return 0;
		}
	if (!c->src->dir)
		return fail(c, -ENOENT, "the job names %s, which was not collected", name);
	snprintf(want, sizeof(want), "%s/%s", c->src->dir, name);
	r = read_full_file(want, IDENTITY_FILE_MAX, &data, &len);
	if (r < 0)
		return fail(c, r, "the job names %s, which is not in the job archive (%s: %s)", name,
			    want, strerror(-r));
	*ret = (char *)TAKE_PTR(data);
	*ret_len = len;
	return 0;
}

static struct wr *add_write(struct cfg *c, const char *path, uint32_t mode, const char *what)
{
	struct wr *w;

	if (c->nw >= MAX_WRITES) {
		fail(c, -E2BIG, "too many files to write");
		return NULL;
	}
	w = &c->w[c->nw++];
	*w = (struct wr){ .mode = mode, .dir_mode = 0755, .what = what };
	snprintf(w->path, sizeof(w->path), "%s", path);
	return w;
}

static int add_text(struct cfg *c, const char *path, uint32_t mode, const char *what, char *text)
{
	struct wr *w = add_write(c, path, mode, what);

	if (!w) {
		free(text);
		return -E2BIG;
	}
	w->data = text;
	w->len = text ? strlen(text) : 0;
	return 0;
}

static void random_hex(char *out, size_t bytes)
{
	uint8_t b[32];

	bytes = MIN(bytes, sizeof(b));
	random_bytes(b, bytes);
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int plan_network(struct cfg *c, bool cloud_init)
{
	const struct job *j = c->j;
	bool networkd, ifupdown, nm;
	char *text = NULL;
	int r, n = 0;

	if (j->n_addresses == 0 || !j->have_mac)
		return fail(c, -EINVAL, "keep-network: the job carries no addresses (the running "
					"system's network could not be read, or --no-carry-network)");
	if (cloud_init)
		return 0; /* the seed's network-config: cloud-init renders it for the image */
	networkd = exists_in_root(c->root_fd,
				  "etc/systemd/system/multi-user.target.wants/systemd-networkd.service");
	ifupdown = exists_in_root(c->root_fd, "etc/network/interfaces") &&
		   (exists_in_root(c->root_fd, "sbin/ifup") || exists_in_root(c->root_fd, "usr/sbin/ifup"));
	nm = exists_in_root(c->root_fd, "usr/sbin/NetworkManager");
	if (networkd) {
		r = netcfg_networkd(j, &text);
		if (r < 0 || (r = add_text(c, "etc/systemd/network/10-reimage.network", 0644,
					   "systemd-networkd configuration", text)) < 0)
			return r == -ENOMEM ? fail(c, r, "out of memory") : r;
		n++;
	}
	if (ifupdown) {
		if (!j->net_ifname)
			return fail(c, -EINVAL, "keep-network: ifupdown names interfaces, and the job "
						"carries no interface name (net-ifname)");
		r = netcfg_ifupdown(j, &text);
		if (r < 0 || (r = add_text(c, "etc/network/interfaces.d/reimage", 0644,
					   "ifupdown configuration", text)) < 0)
			return r == -ENOMEM ? fail(c, r, "out of memory") : r;
		n++;
	}
	if (nm) {
		char uuid[37], h[33];
		random_hex(h, 16);
		snprintf(uuid, sizeof(uuid), "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 13, h + 17,
			 h + 20);
		r = netcfg_nm_keyfile(j, uuid, &text);
		if (r < 0 || (r = add_text(c, "etc/NetworkManager/system-connections/reimage.nmconnection",
					   0600, "NetworkManager connection", text)) < 0)
			return r == -ENOMEM ? fail(c, r, "out of memory") : r;
		n++;
	}
	if (n == 0)
		return fail(c, -ENOPKG, "keep-network: the new system has neither cloud-init, an "
					"enabled systemd-networkd, ifupdown nor NetworkManager, so "
					"nothing there would use the carried configuration");
	if ((networkd || ifupdown) && j->n_dns &&
	    !exists_in_root(c->root_fd, "etc/systemd/system/multi-user.target.wants/systemd-resolved.service") &&
	    !exists_in_root(c->root_fd, "sbin/resolvconf") && !nm) {
		r = netcfg_resolv_conf(j, &text);
		if (r < 0 || (r = add_text(c, "etc/resolv.conf", 0644, "DNS servers", text)) < 0)
			return r == -ENOMEM ? fail(c, r, "out of memory") : r;
	}
	return 0;
}

/* Every file the job asks for, with its contents; nothing is written yet. */
static int plan_writes(struct cfg *c)
{
	const struct job *j = c->j;
	bool cloud_init = exists_in_root(c->root_fd, "usr/bin/cloud-init");
	char name[64], *data = NULL, *user = NULL, *meta = NULL;
	size_t len, ulen = 0, mlen = 0;
	int r;

	for (size_t i = 0; i < j->n_host_keys; i++) {
		for (int pub = 0; pub < 2; pub++) {
			struct wr *w;
			snprintf(name, sizeof(name), "ssh_host_%s_key%s", j->host_keys[i],
				 pub ? ".pub" : "");
			r = identity_read(c, name, &data, &len);
			if (r < 0)
				return r;
			w = add_write(c, "", pub ? 0644 : 0600, pub ? "SSH host public key" : "SSH host key");
			if (!w) {
				free(data);
				return -E2BIG;
			}
			snprintf(w->path, sizeof(w->path), "etc/ssh/%s", name);
			w->data = data;
			w->len = len;
		}
	}
	if (j->authorized_keys) {
		struct wr *w;
		r = identity_read(c, "authorized_keys", &c->authorized, &len);
		if (r < 0)
			return r;
		w = add_write(c, "root/.ssh/authorized_keys", 0600, "root's authorized_keys");
		if (!w)
			return -E2BIG;
		w->dir_mode = 0700;
		w->kind = WR_MERGE_KEYS;
	}
	if (j->hostname) {
		char *t = malloc(strlen(j->hostname) + 2);
		struct wr *w;
		if (!t)
			return fail(c, -ENOMEM, "out of memory");
		sprintf(t, "%s\n", j->hostname);
		r = add_text(c, "etc/hostname", 0644, "host name", t);
		if (r < 0)
			return r;
		w = add_write(c, "etc/hosts", 0644, "/etc/hosts");
		if (!w)
			return -E2BIG;
		w->kind = WR_MERGE_HOSTS;
	}
	if (j->keep_network && (r = plan_network(c, cloud_init)) < 0)
		return r;
	if (j->ci_user_data && (r = identity_read(c, "user-data", &user, &ulen)) < 0)
		return r;
	if (j->ci_meta_data && (r = identity_read(c, "meta-data", &meta, &mlen)) < 0) {
		free(user);
		return r;
	}
	if (cloud_init && (j->hostname || j->authorized_keys || j->n_host_keys || j->keep_network ||
			   user || meta)) {
		struct cloud_init_identity id = { .hostname = j->hostname,
						  .authorized_keys = c->authorized,
						  .keep_host_keys = j->n_host_keys > 0 };
		char iid[64] = "reimage-", boundary[64] = "reimage-";
		char *t = NULL;

		random_hex(iid + 8, 8);
		random_hex(boundary + 8, 12);
		r = cloud_init_meta_data(meta, mlen, iid, j->hostname, &t);
		if (r == 0)
			r = add_text(c, "var/lib/cloud/seed/nocloud/meta-data", 0600,
				     "cloud-init meta-data", t);
		if (r == 0 && (r = cloud_init_user_data(user, ulen, &id, boundary, &t)) == 0)
			r = add_text(c, "var/lib/cloud/seed/nocloud/user-data", 0600,
				     "cloud-init user-data", t);
		if (r == 0 && j->keep_network && (r = netcfg_cloud_init_v2(j, &t)) == 0)
			r = add_text(c, "var/lib/cloud/seed/nocloud/network-config", 0600,
				     "cloud-init network-config", t);
		free(user);
		free(meta);
		if (r == -EINVAL)
			return fail(c, r, "cloud-init: the user-data or meta-data holds a NUL byte or "
					  "is too large");
		if (r < 0)
			return fail(c, r, "out of memory");
		log_info("configure: the new system has cloud-init: a NoCloud seed with a fresh "
			 "instance-id (%s)", iid);
	} else {
		if (user || meta)
			log_warning("configure: the new system has no cloud-init (/usr/bin/cloud-init): "
				    "the cloud-init user-data and meta-data are not used; the direct "
				    "files are written");
		free(user);
		free(meta);
	}
	for (size_t i = 0; i < j->n_copies; i++) {
		struct wr *w;
		snprintf(name, sizeof(name), "copy-%zu", i);
		r = identity_read(c, name, &data, &len);
		if (r < 0)
			return r;
		w = add_write(c, j->copies[i].dest + 1, j->copies[i].mode, "copied file");
		if (!w) {
			free(data);
			return -E2BIG;
		}
		w->data = data;
		w->len = len;
	}
	return 0;
}

/* Walk path's directories from the root, one component at a time, never through a link or out
 * of the root. create: make missing ones (mode dir_mode); else stop at the first missing one
 * (it will be made). The parent's fd (or -ENOENT when it does not exist yet) in *ret_dirfd,
 * the last component in *ret_base. */
static int walk_parents(struct cfg *c, const char *path, bool create, mode_t dir_mode,
			int *ret_dirfd, const char **ret_base)
{
	_cleanup_close_ int dfd = open_in(c->root_fd, ".", O_PATH | O_DIRECTORY, RESOLVE_STRICT, 0);
	const char *p = path;
	char comp[NAME_MAX + 1], shown[PATH_MAX];

	if (dfd < 0)
		return fail(c, dfd, "cannot open the new root: %s", strerror(-dfd));
	for (;;) {
		size_t n = strcspn(p, "/");
		int fd;

		if (p[n] == 0)
			break;
		if (n == 0 || n > NAME_MAX)
			return fail(c, -EINVAL, "/%s: not a path reimage writes", path);
		memcpy(comp, p, n);
		comp[n] = 0;
		snprintf(shown, sizeof(shown), "/%.*s", (int)(p - path + n), path);
		fd = open_in(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW, RESOLVE_STRICT, 0);
		if (fd == -ENOENT && create) {
			if (mkdirat(dfd, comp, dir_mode) < 0 && errno != EEXIST)
				return fail(c, negative_errno(), "cannot create %s in the new system: %m",
					    shown);
			fd = open_in(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW, RESOLVE_STRICT, 0);
		}
		if (fd == -ENOTDIR) {
			/* O_DIRECTORY|O_NOFOLLOW on a link says ENOTDIR: which was it? */
			int lfd = open_in(dfd, comp, O_PATH | O_NOFOLLOW, RESOLVE_STRICT, 0);
			struct stat st;
			if (lfd >= 0 && fstat(lfd, &st) == 0 && S_ISLNK(st.st_mode))
				fd = -ELOOP;
			safe_close(lfd);
		}
		if (fd == -ENOENT) {
			*ret_dirfd = -ENOENT;
			*ret_base = NULL;
			return 0;
		}
		if (fd == -ELOOP || fd == -EXDEV)
			return fail(c, -ELOOP, "%s in the new system is a symbolic link; reimage writes "
					       "only through real directories, so that nothing "
					       "lands outside the new system or where a link "
					       "points (name the real path)",
				    shown);
		if (fd == -ENOTDIR)
			return fail(c, fd, "%s in the new system is not a directory", shown);
		if (fd < 0)
			return fail(c, fd, "cannot open %s in the new system: %s", shown, strerror(-fd));
		close(dfd);
		dfd = fd;
		p += n + 1;
	}
	if (!*p || strlen(p) > NAME_MAX || !strcmp(p, ".") || !strcmp(p, ".."))
		return fail(c, -EINVAL, "/%s: not a file name", path);
	*ret_dirfd = TAKE_FD(dfd);
	*ret_base = p;
	return 0;
}

/* Refuse before writing: every destination reachable without links, and not a directory or a
 * link itself. */
static int check_destinations(struct cfg *c)
{
	for (size_t i = 0; i < c->nw; i++) {
		const char *base;
		int dfd, r, fd;
		struct stat st;

		r = walk_parents(c, c->w[i].path, false, 0, &dfd, &base);
		if (r < 0)
			return r;
		if (dfd < 0)
			continue;
		fd = open_in(dfd, base, O_PATH | O_NOFOLLOW, RESOLVE_STRICT, 0);
		close(dfd);
		if (fd == -ENOENT)
			continue;
		if (fd < 0 && fd != -ELOOP)
			return fail(c, fd, "cannot look at /%s in the new system: %s", c->w[i].path,
				    strerror(-fd));
		if (fd >= 0 && fstat(fd, &st) < 0)
			st.st_mode = 0;
		if (fd >= 0)
			close(fd);
		if (fd == -ELOOP || S_ISLNK(st.st_mode))
			return fail(c, -ELOOP, "/%s in the new system is a symbolic link; reimage does "
					       "not write through links (name the real path)",
				    c->w[i].path);
		if (!S_ISREG(st.st_mode))
			return fail(c, -EISDIR, "/%s in the new system exists and is not a regular "
						"file",
				    c->w[i].path);
	}
	return 0;
}

static int read_existing(struct cfg *c, const char *path, char **ret, size_t *ret_len)
{
	const char *base;
	int dfd, fd, r;
	_cleanup_free_ uint8_t *data = NULL;
	size_t cap = 0, len = 0;

	*ret = NULL;
	*ret_len = 0;
	r = walk_parents(c, path, false, 0, &dfd, &base);
	if (r < 0 || dfd < 0)
		return r < 0 ? r : 0;
	fd = open_in(dfd, base, O_RDONLY | O_NOFOLLOW, RESOLVE_STRICT, 0);
	close(dfd);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fail(c, fd, "cannot read /%s in the new system: %s", path, strerror(-fd));
	for (;;) {
		ssize_t n;
		if (len == cap) {
			uint8_t *nd;
			if (cap >= IDENTITY_TEXT_MAX) {
				close(fd);
				return fail(c, -EFBIG, "/%s in the new system is larger than 1 MiB", path);
			}
			cap = cap ? cap * 2 : 4096;
			nd = realloc(data, cap + 1);
			if (!nd) {
				close(fd);
				return fail(c, -ENOMEM, "out of memory");
			}
			data = nd;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	data[len] = 0;
	*ret = (char *)TAKE_PTR(data);
	*ret_len = len;
	return 0;
}

/* root's authorized_keys: what the image had, then ours that it lacks */
static int merge_keys(struct cfg *c, const char *old, size_t oldlen, char **ret)
{
	size_t cap = oldlen + strlen(c->authorized) + 2, o = 0;
	char *t = malloc(cap + 1);

	if (!t)
		return fail(c, -ENOMEM, "out of memory");
	if (old && oldlen) {
		memcpy(t, old, oldlen);
		o = oldlen;
		if (t[o - 1] != '\n')
			t[o++] = '\n';
	}
	t[o] = 0;
	for (const char *p = c->authorized; *p;) {
		size_t n = strcspn(p, "\n");
		char line[16384];
		if (n && n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = 0;
			if (!old || !strstr(old, line)) {
				memcpy(t + o, p, n);
				o += n;
				t[o++] = '\n';
				t[o] = 0;
			}
		}
		p += n + (p[n] == '\n');
	}
	*ret = t;
	return 0;
}

static int write_one(struct cfg *c, struct wr *w)
{
	const char *base;
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	_cleanup_free_ char *old = NULL, *merged = NULL;
	const char *data = w->data;
	size_t len = w->len, oldlen = 0, off = 0;
	int r;

	if (w->kind != WR_PLAIN) {
		r = read_existing(c, w->path, &old, &oldlen);
		if (r < 0)
			return r;
		if (w->kind == WR_MERGE_HOSTS)
			r = hosts_set_hostname(old, oldlen, c->j->hostname, &merged);
		else
			r = merge_keys(c, old, oldlen, &merged);
		if (r == -EINVAL)
			return fail(c, r, "/%s in the new system holds a NUL byte or is too large",
				    w->path);
		if (r < 0)
			return r;
		data = merged;
		len = strlen(merged);
	}
	r = walk_parents(c, w->path, true, w->dir_mode, &dfd, &base);
	if (r < 0)
		return r;
	fd = open_in(dfd, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, RESOLVE_STRICT,
		     w->mode & 0777);
	if (fd < 0)
		return fail(c, fd, "cannot write /%s in the new system: %s", w->path, strerror(-fd));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(c, n < 0 ? negative_errno() : -EIO,
				    "cannot write /%s in the new system: %m", w->path);
		off += (size_t)n;
	}
	if (fchown(fd, 0, 0) < 0 || fchmod(fd, w->mode) < 0 || fsync(fd) < 0)
		return fail(c, negative_errno(), "cannot finish /%s in the new system: %m", w->path);
	if (merged)
		explicit_bzero(merged, strlen(merged));
	log_info("configure: wrote /%s (%s, mode %04o)", w->path, w->what, (unsigned)w->mode);
	return 0;
}

/* --- growing ---------------------------------------------------------------------------- */

static int plan_grow(struct cfg *c)
{
	const struct part *last = NULL;

	if (!c->j->grow)
		return 0;
	if (!fs_can_grow(c->root_type))
		return fail(c, -EOPNOTSUPP,
			    "the root file system %s is %s, which the flasher cannot grow (ext4, xfs "
			    "and btrfs grow online); run without --grow (the job's grow = no)",
			    c->root_dev, c->root_type);
	c->grow_fs = true;
	if (c->whole_disk)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (!last || c->parts[i].start > last->start)
			last = &c->parts[i];
	if (last != c->root) {
		log_notice("configure: the root partition %s is not the last on the disk: it keeps "
			   "its size, and the file system grows into what it has",
			   c->root_dev);
		return 0;
	}
	if (c->root->nested) {
		log_notice("configure: the root partition %s is a logical partition: not grown",
			   c->root_dev);
		return 0;
	}
	c->grow_part = true;
	return 0;
}

/* The backup GPT to the disk's end (libfdisk moves it when it reads a table whose backup is
 * elsewhere), and the root partition to the last usable sector. */
static int fit_table(struct cfg *c)
{
	struct fdisk_label *lb;
	struct fdisk_table *org = NULL;
	int r;

	if (!c->has_label)
		return 0;
	/* read-write now: libfdisk moves a misplaced backup GPT when it reads the table */
	fdisk_deassign_device(c->cxt, 1);
	c->assigned = false;
	r = fdisk_assign_device(c->cxt, c->disk, 0);
	if (r == 0)
		c->assigned = true;
	if (r < 0)
		return fail(c, r, "libfdisk cannot open %s for writing: %s", c->disk, strerror(-r));
	if (!fdisk_has_label(c->cxt) || fdisk_is_label(c->cxt, GPT) != c->gpt)
		return fail(c, -EBUSY, "the partition table of %s changed while it was configured",
			    c->disk);
	lb = fdisk_get_label(c->cxt, NULL);
	if (!c->grow_part && !fdisk_label_is_changed(lb)) {
		log_info("configure: the partition table of %s fits the disk", c->disk);
		fdisk_deassign_device(c->cxt, 1);
		c->assigned = false;
		return 0;
	}
	r = fdisk_get_partitions(c->cxt, &org);
	if (r < 0)
		return fail(c, r, "cannot read the partitions of %s: %s", c->disk, strerror(-r));
	if (c->grow_part) {
		struct fdisk_partition *pa = fdisk_new_partition();
		uint64_t old = c->root->size;

		if (!pa) {
			fdisk_unref_table(org);
			return fail(c, -ENOMEM, "out of memory");
		}
		/* to the last usable sector, which reading the table read-write moved there */
		r = fdisk_partition_set_size(pa, fdisk_get_last_lba(c->cxt) - c->root->start + 1);
		if (r == 0)
			r = fdisk_partition_size_explicit(pa, 1);
		if (r == 0)
			r = fdisk_set_partition(c->cxt, c->root->partno, pa);
		fdisk_unref_partition(pa);
		if (r < 0) {
			fdisk_unref_table(org);
			return fail(c, r, "libfdisk cannot grow partition %zu of %s: %s",
				    c->root->partno + 1, c->disk, strerror(-r));
		}
		{
			struct fdisk_partition *now = NULL;
			if (fdisk_get_partition(c->cxt, c->root->partno, &now) == 0) {
				c->root->size = fdisk_partition_get_size(now);
				fdisk_unref_partition(now);
			}
		}
		log_info("configure: partition %zu of %s grows from %llu to %llu sectors",
			 c->root->partno + 1, c->disk, (unsigned long long)old,
			 (unsigned long long)c->root->size);
	}
	r = fdisk_write_disklabel(c->cxt);
	if (r < 0) {
		fdisk_unref_table(org);
		return fail(c, r, "cannot write the partition table of %s: %s", c->disk, strerror(-r));
	}
	if (c->gpt)
		log_info("configure: the backup GPT of %s is at its last sector", c->disk);
	/* the kernel learns the new size of the root partition (BLKPG, partition by partition) */
	r = fdisk_reread_changes(c->cxt, org);
	fdisk_unref_table(org);
	if (r < 0)
		log_warning("configure: the kernel did not take the new partition sizes (%s)",
			    strerror(-r));
	/* let go of the disk (libfdisk holds it exclusively), or the root cannot be mounted */
	r = fdisk_deassign_device(c->cxt, 0);
	c->assigned = false;
	if (r < 0)
		return fail(c, r, "cannot close %s after writing its partition table: %s", c->disk,
			    strerror(-r));
	if (c->grow_part) {
		/* the kernel must see the new size before the file system can use it */
		uint64_t bytes = 0;
		_cleanup_close_ int pfd = open(c->root_dev, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || ioctl(pfd, BLKGETSIZE64, &bytes) < 0 ||
		    bytes != c->root->size * c->sector)
			return fail(c, -EIO,
				    "the kernel still sees %s as %llu bytes, not the %llu of the new "
				    "partition table",
				    c->root_dev, (unsigned long long)bytes,
				    (unsigned long long)(c->root->size * c->sector));
	}
	return 0;
}

static int grow_fs(struct cfg *c)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t bytes;
	struct statfs sf;

	if (!c->grow_fs)
		return 0;
	if (c->whole_disk) {
		if (ioctl(c->disk_fd, BLKGETSIZE64, &bytes) < 0)
			return fail(c, negative_errno(), "cannot read the size of %s: %m", c->disk);
	} else {
		_cleanup_close_ int pfd = open(c->root_dev, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || ioctl(pfd, BLKGETSIZE64, &bytes) < 0)
			return fail(c, negative_errno(), "cannot read the size of %s: %m", c->root_dev);
	}
	fd = open(MOUNT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstatfs(fd, &sf) < 0)
		return fail(c, negative_errno(), "cannot open the new root: %m");
	if (!strcmp(c->root_type, "ext4")) {
		uint64_t blocks = bytes / (uint64_t)sf.f_bsize;
		if (ioctl(fd, EXT4_IOC_RESIZE_FS, &blocks) < 0)
			return fail(c, negative_errno(),
				    "the kernel did not grow the ext4 file system on %s to %llu "
				    "blocks: %m",
				    c->root_dev, (unsigned long long)blocks);
	} else if (!strcmp(c->root_type, "xfs")) {
		struct xfs_fsop_geom_v1 g;
		struct xfs_growfs_data d;
		if (ioctl(fd, XFS_IOC_FSGEOMETRY_V1, &g) < 0)
			return fail(c, negative_errno(), "cannot read the xfs geometry of %s: %m",
				    c->root_dev);
		d = (struct xfs_growfs_data){ .newblocks = bytes / g.blocksize, .imaxpct = g.imaxpct };
		if (d.newblocks > g.datablocks && ioctl(fd, XFS_IOC_FSGROWFSDATA, &d) < 0)
			return fail(c, negative_errno(),
				    "the kernel did not grow the xfs file system on %s: %m",
				    c->root_dev);
	} else {
		struct btrfs_ioctl_vol_args a = { .fd = 0 };
		snprintf(a.name, sizeof(a.name), "max");
		if (ioctl(fd, BTRFS_IOC_RESIZE, &a) < 0)
			return fail(c, negative_errno(),
				    "the kernel did not grow the btrfs file system on %s: %m",
				    c->root_dev);
	}
	c->root_bytes = bytes;
	log_info("configure: the %s file system on %s now fills its %llu MiB", c->root_type,
		 c->root_dev, (unsigned long long)(bytes >> 20));
	return 0;
}

/* --- the whole step --------------------------------------------------------------------- */

static void cfg_done(struct cfg *c)
{
	unmount_root(c);
	for (size_t i = 0; i < c->nw; i++)
		if (c->w[i].data) {
			explicit_bzero(c->w[i].data, c->w[i].len);
			free(c->w[i].data);
		}
	if (c->authorized) {
		explicit_bzero(c->authorized, strlen(c->authorized));
		free(c->authorized);
	}
	if (c->cxt) {
		if (c->assigned)
			fdisk_deassign_device(c->cxt, 1);
		fdisk_unref_context(c->cxt);
	}
	safe_close(c->disk_fd);
	(void)rmdir(MOUNT_DIR);
}

/* "STEP: " in front of what went wrong */
static int step_failed(struct cfg *c, const char *step, int r)
{
	char why[2048];

	snprintf(why, sizeof(why), "%s", c->err[0] ? c->err : strerror(-r));
	snprintf(c->err, c->errlen, "%s: %s", step, why);
	return r;
}

int configure_new_system(const struct job *j, const struct identity_source *src, const char *disk,
			 char *err, size_t errlen)
{
	struct cfg c = { .j = j, .src = src, .disk = disk, .disk_fd = -EBADF, .root_fd = -EBADF,
			 .err = err, .errlen = errlen };
	const char *slash = strrchr(disk, '/');
	int r;

	err[0] = 0;
	snprintf(c.disk_name, sizeof(c.disk_name), "%s", slash ? slash + 1 : disk);
	c.disk_fd = open(disk, O_RDONLY | O_CLOEXEC);
	if (c.disk_fd < 0) {
		r = fail(&c, negative_errno(), "cannot open %s: %m", disk);
		goto out;
	}
	r = read_table(&c);
	if (r < 0) {
		step_failed(&c, "reading the partition table", r);
		goto out;
	}
	if (!job_wants_configure(j)) {
		/* nothing to write into it: only the backup GPT moves */
		r = fit_table(&c);
		if (r < 0)
			step_failed(&c, "moving the backup GPT to the disk's end", r);
		goto out;
	}
	log_info("configure: looking for the new system's root on %s", disk);
	r = find_root(&c);
	if (r < 0) {
		step_failed(&c, "finding the new system's root", r);
		goto out;
	}
	log_info("configure: the new system's root is %s (%s)", c.root_dev, c.root_type);
	r = plan_grow(&c);
	if (r < 0) {
		step_failed(&c, "checking that the root file system can grow", r);
		goto out;
	}
	r = plan_writes(&c);
	if (r < 0) {
		step_failed(&c, "preparing the files", r);
		goto out;
	}
	r = check_destinations(&c);
	if (r < 0) {
		step_failed(&c, "checking where the files go", r);
		goto out;
	}
	/* all checks passed: from here on the disk changes */
	unmount_root(&c);
	r = fit_table(&c);
	if (r < 0) {
		step_failed(&c, c.grow_part ? "growing the root partition" : "moving the backup GPT", r);
		goto out;
	}
	r = mount_root(&c, true);
	if (r < 0) {
		step_failed(&c, "mounting the new system read-write", r);
		goto out;
	}
	r = grow_fs(&c);
	if (r < 0) {
		step_failed(&c, "growing the root file system", r);
		goto out;
	}
	for (size_t i = 0; i < c.nw; i++) {
		r = write_one(&c, &c.w[i]);
		if (r < 0) {
			char step[PATH_MAX + 64];
			snprintf(step, sizeof(step), "writing /%s", c.w[i].path);
			step_failed(&c, step, r);
			goto out;
		}
	}
	{
		_cleanup_close_ int fd = open(MOUNT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0) {
			r = fail(&c, negative_errno(), "syncing the new system: %m");
			goto out;
		}
	}
	c.root_fd = safe_close(c.root_fd);
	if (umount2(MOUNT_DIR, 0) < 0) {
		r = fail(&c, negative_errno(), "unmounting the new system: %m");
		goto out;
	}
	c.mounted = false;
	log_info("configure: %zu file%s written into the new system on %s", c.nw,
		 c.nw == 1 ? "" : "s", c.root_dev);
	r = 0;
out:
	cfg_done(&c);
	return r;
}

void identity_dir_wipe(const char *dir)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		fd = open(p, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			static const char zeros[4096];
			for (off_t o = 0; o < st.st_size; o += (off_t)sizeof(zeros))
				if (write(fd, zeros, sizeof(zeros)) < 0)
					break;
		}
		if (fd >= 0)
			close(fd);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}
