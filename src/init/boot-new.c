// SPDX-License-Identifier: GPL-2.0-or-later
/* Finding and kexec'ing the kernel of the system just written (then = kexec). */
#include "init/boot-new.h"

#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/open-util.h"
#include "basic/parse-util.h"
#include "basic/time-util.h"
#include "format/bls.h"
#include "format/cmdline.h"
#include "kexec/kexec.h"

#define MOUNT_BASE "/run/reimage"
#define MAX_FS 16
#define MAX_ENTRIES 256
#define PARTITION_WAIT_MS 10000
/* kexec_file_load refuses files over 4 GiB anyway; a bound that keeps a hostile image from
 * filling RAM with "initrds" */
#define MAX_BOOT_FILE (2ULL << 30)

/* GPT partition type GUIDs (UEFI spec; Discoverable Partitions Specification) */
#define GUID_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define GUID_XBOOTLDR "bc13c2ff-59e6-4262-a352-b275fd6f7172"
#if defined(__x86_64__)
#define GUID_ROOT_NATIVE "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#elif defined(__aarch64__)
#define GUID_ROOT_NATIVE "b921b045-1df0-41c3-af44-4c6f280d3fae"
#else
#define GUID_ROOT_NATIVE ""
#endif

/* in the order they are searched */
enum role {
	ROLE_XBOOTLDR,
	ROLE_ESP,
	ROLE_ROOT,
	ROLE_OTHER,
};

struct fs {
	char dev[PATH_MAX];
	char name[64];
	char type[32];
	char uuid[64];
	char partuuid[64];
	char mnt[PATH_MAX];
	int root_fd;
	enum role role;
};

struct ctx {
	const char *disk;
	struct fs fs[MAX_FS];
	size_t n_fs;
	struct kmod_ctx *kmod;
};

static int read_fd_full(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = negative_errno();
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int read_in_root(int root_fd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open_regular_in_root(root_fd, path);

	if (fd < 0)
		return fd;
	return read_fd_full(fd, max, ret, ret_len);
}

static bool fs_type_supported(const char *type)
{
	static const char *const ok[] = { "vfat", "ext4", "ext3", "ext2", "xfs", "btrfs" };
	for (size_t i = 0; i < ELEMENTSOF(ok); i++)
		if (!strcmp(type, ok[i]))
			return true;
	return false;
}

static bool kernel_has_fs(const char *type)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
	char line[128];

	/* "nodev\tsysfs" or "\text4" */
	while (f && fgets(line, sizeof(line), f)) {
		char *t;
		line[strcspn(line, "\n")] = 0;
		t = strrchr(line, '\t');
		if (t && !strcmp(t + 1, type))
			return true;
	}
	return false;
}

/* Load a module by name or alias if the flasher has it; silent when it has not (built in, or
 * not shipped: the mount then says what is missing). */
static void load_module(struct ctx *c, const char *name)
{
	struct kmod_list *list = NULL, *l;

	if (!c->kmod) {
		c->kmod = kmod_new(NULL, NULL);
		if (!c->kmod)
			return;
		(void)kmod_load_resources(c->kmod);
	}
	if (kmod_module_new_from_lookup(c->kmod, name, &list) < 0 || !list)
		return;
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);
		int r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL,
							NULL);
		if (r == 0)
			log_debug("loaded %s (for %s)", kmod_module_get_name(m), name);
		else if (r < 0 && r != -EEXIST)
			log_warning_errno(r, "loading %s failed: %m", kmod_module_get_name(m));
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
}

static void load_fs_driver(struct ctx *c, const char *type)
{
	char alias[64];

	if (!strcmp(type, "vfat")) {
		/* the code page and character set vfat asks for: the kernel's own request for them
		 * needs a modprobe, which the flasher does not have */
		static const char *const nls[] = { "nls_cp437", "nls_ascii", "nls_iso8859-1",
						   "nls_utf8" };
		for (size_t i = 0; i < ELEMENTSOF(nls); i++)
			load_module(c, nls[i]);
	}
	if (kernel_has_fs(type))
		return;
	snprintf(alias, sizeof(alias), "fs-%s", type);
	load_module(c, alias);
	/* ext2 and ext3 are served by the ext4 driver on most kernels */
	if (!kernel_has_fs(type) && !strncmp(type, "ext", 3))
		load_module(c, "fs-ext4");
}

static int whole_disk_name(const char *disk, char *name, size_t n, char *err, size_t errlen)
{
	char p[PATH_MAX];

	if (strncmp(disk, "/dev/", 5) != 0 || strchr(disk + 5, '/') || strlen(disk + 5) >= n ||
	    !disk[5]) {
		snprintf(err, errlen, "%s is not a disk under /dev", disk);
		return -EINVAL;
	}
	snprintf(name, n, "%s", disk + 5);
	snprintf(p, sizeof(p), "/sys/class/block/%s", name);
	if (access(p, F_OK) < 0) {
		snprintf(err, errlen, "%s is not a block device the kernel knows", disk);
		return -ENODEV;
	}
	snprintf(p, sizeof(p), "/sys/class/block/%s/partition", name);
	if (access(p, F_OK) == 0) {
		snprintf(err, errlen, "%s is a partition, not a whole disk", disk);
		return -EINVAL;
	}
	return 0;
}

/* The kernel read the old partition table at boot; the image brought a new one. */
static void reread_partitions(const char *disk)
{
	_cleanup_close_ int fd = open(disk, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		log_warning_errno(negative_errno(), "cannot open %s to re-read its partitions: %m", disk);
		return;
	}
	(void)fsync(fd);
	if (ioctl(fd, BLKRRPART) < 0)
		log_warning_errno(negative_errno(),
				  "re-reading the partition table of %s failed (%m); using the "
				  "partitions the kernel knows",
				  disk);
}

/* /sys/class/block/DISK/NAME whose "partition" file holds partno, and its /dev node. */
static bool find_partition_node(const char *disk_name, int partno, char *name, size_t n)
{
	char p[PATH_MAX];
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	snprintf(p, sizeof(p), "/sys/class/block/%s", disk_name);
	d = opendir(p);
	while (d && (de = readdir(d))) {
		char q[PATH_MAX * 2], v[32];
		_cleanup_fclose_ FILE *f = NULL;
		unsigned u;

		if (de->d_name[0] == '.')
			continue;
		snprintf(q, sizeof(q), "%s/%s/partition", p, de->d_name);
		f = fopen(q, "re");
		if (!f || !fgets(v, sizeof(v), f))
			continue;
		v[strcspn(v, "\n")] = 0;
		if (parse_uint(v, &u) < 0 || (int)u != partno || strlen(de->d_name) >= n)
			continue;
		snprintf(name, n, "%s", de->d_name);
		snprintf(q, sizeof(q), "/dev/%s", de->d_name);
		return access(q, F_OK) == 0;
	}
	return false;
}

static enum role role_of(const char *gpt_type, int mbr_type)
{
	if (gpt_type) {
		if (!strcasecmp(gpt_type, GUID_XBOOTLDR))
			return ROLE_XBOOTLDR;
		if (!strcasecmp(gpt_type, GUID_ESP))
			return ROLE_ESP;
		if (*GUID_ROOT_NATIVE && !strcasecmp(gpt_type, GUID_ROOT_NATIVE))
			return ROLE_ROOT;
		return ROLE_OTHER;
	}
	/* MBR: the spec's 0xEA for XBOOTLDR, 0xEF for the ESP */
	return mbr_type == 0xea ? ROLE_XBOOTLDR : mbr_type == 0xef ? ROLE_ESP : ROLE_OTHER;
}

static void add_fs(struct ctx *c, const char *name, enum role role, const char *partuuid)
{
	struct fs *f;
	blkid_probe pr;
	const char *v;

	if (c->n_fs >= MAX_FS)
		return;
	f = &c->fs[c->n_fs];
	*f = (struct fs){ .root_fd = -EBADF, .role = role };
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->dev, sizeof(f->dev), "/dev/%s", name);
	snprintf(f->partuuid, sizeof(f->partuuid), "%s", partuuid ? partuuid : "");
	pr = blkid_new_probe_from_filename(f->dev);
	if (!pr) {
		log_warning("cannot probe %s for a file system", f->dev);
		return;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID);
	if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0) {
		snprintf(f->type, sizeof(f->type), "%s", v);
		if (blkid_probe_lookup_value(pr, "UUID", &v, NULL) == 0)
			snprintf(f->uuid, sizeof(f->uuid), "%s", v);
	}
	blkid_free_probe(pr);
	if (!f->type[0]) {
		log_info("boot: %s holds no file system reimage knows", f->dev);
		return;
	}
	if (!fs_type_supported(f->type)) {
		log_info("boot: %s is %s, not looked into (vfat, ext2/3/4, xfs and btrfs are)", f->dev,
			 f->type);
		return;
	}
	c->n_fs++;
}

/* The file systems of the written disk: its partitions, or the disk itself when it has no
 * partition table. */
static int find_file_systems(struct ctx *c, const char *disk_name, char *err, size_t errlen)
{
	blkid_probe pr = blkid_new_probe_from_filename(c->disk);
	blkid_partlist pl;
	uint64_t deadline;
	int n;

	if (!pr) {
		snprintf(err, errlen, "cannot read %s to find its partitions", c->disk);
		return -EIO;
	}
	pl = blkid_probe_get_partitions(pr);
	n = pl ? blkid_partlist_numof_partitions(pl) : 0;
	if (n <= 0) {
		blkid_free_probe(pr);
		log_info("boot: %s has no partition table; looking at the whole disk", c->disk);
		add_fs(c, disk_name, ROLE_ROOT, NULL);
		return 0;
	}
	log_info("boot: %s has a %s partition table with %d partition%s", c->disk,
		 blkid_parttable_get_type(blkid_partlist_get_table(pl)), n, n == 1 ? "" : "s");
	/* one deadline for all: a disk whose partitions never show up must not cost 10 s each */
	deadline = now_ms() + PARTITION_WAIT_MS;
	for (int i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(pl, i);
		int partno = blkid_partition_get_partno(par);
		char name[64];
		bool found;

		/* partitions appear in sysfs with BLKRRPART, their /dev nodes a moment later */
		while (!(found = find_partition_node(disk_name, partno, name, sizeof(name))) &&
		       now_ms() < deadline)
			sleep_ms(100, NULL);
		if (!found) {
			log_warning("boot: partition %d of %s did not appear in /dev within %d s; "
				    "skipped",
				    partno, c->disk, PARTITION_WAIT_MS / 1000);
			continue;
		}
		add_fs(c, name,
		       role_of(blkid_partition_get_type_string(par), blkid_partition_get_type(par)),
		       blkid_partition_get_uuid(par));
	}
	blkid_free_probe(pr);
	if (c->n_fs == 0) {
		snprintf(err, errlen,
			 "no partition of %s holds a file system reimage can look into (vfat, "
			 "ext2/3/4, xfs, btrfs)",
			 c->disk);
		return -ENOENT;
	}
	return 0;
}

/* Mount options that keep a read-only mount from writing: a journal replay would change the
 * disk after it was verified (the new system replays it itself when it boots). */
static const char *no_replay_option(const char *type)
{
	if (!strncmp(type, "ext", 3))
		return "noload";
	if (!strcmp(type, "xfs"))
		return "norecovery";
	if (!strcmp(type, "btrfs"))
		return "rescue=nologreplay";
	return NULL;
}

static int mount_ro(const struct fs *f, const char *mnt)
{
	/* read-only, and nothing on it can be a device or run: it is outside input */
	unsigned long flags = MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC;
	const char *opt = no_replay_option(f->type);

	if (opt && mount(f->dev, mnt, f->type, flags, opt) == 0)
		return 0;
	/* a driver that does not know the option (ext2's own, older btrfs) */
	if (mount(f->dev, mnt, f->type, flags, NULL) == 0) {
		if (opt)
			log_debug("boot: %s mounted without %s", f->dev, opt);
		return 0;
	}
	return negative_errno();
}

static void mount_all(struct ctx *c)
{
	(void)mkdir(MOUNT_BASE, 0755);
	for (size_t i = 0; i < c->n_fs; i++) {
		struct fs *f = &c->fs[i];
		char mnt[PATH_MAX];
		int r;

		load_fs_driver(c, f->type);
		snprintf(mnt, sizeof(mnt), MOUNT_BASE "/new-%s", f->name);
		if (mkdir(mnt, 0700) < 0 && errno != EEXIST) {
			log_warning_errno(negative_errno(), "boot: cannot create %s: %m", mnt);
			continue;
		}
		r = mount_ro(f, mnt);
		if (r < 0) {
			log_warning_errno(r, "boot: cannot mount %s (%s) read-only: %m%s", f->dev, f->type,
					  r == -ENODEV ? " (the flasher has no driver for it; build it "
							 "with --then kexec)"
						       : "");
			(void)rmdir(mnt);
			continue;
		}
		snprintf(f->mnt, sizeof(f->mnt), "%s", mnt);
		f->root_fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (f->root_fd < 0)
			log_warning_errno(negative_errno(), "boot: cannot open %s: %m", mnt);
		log_info("boot: mounted %s (%s%s, UUID %s) read-only", f->dev, f->type,
			 f->role == ROLE_ESP ? ", EFI system partition"
			 : f->role == ROLE_XBOOTLDR ? ", extended boot loader partition"
						    : "",
			 f->uuid[0] ? f->uuid : "none");
	}
}

static void unmount_all(struct ctx *c)
{
	for (size_t i = 0; i < c->n_fs; i++) {
		struct fs *f = &c->fs[i];
		f->root_fd = safe_close(f->root_fd);
		if (!f->mnt[0])
			continue;
		if (umount2(f->mnt, 0) < 0 && umount2(f->mnt, MNT_DETACH) < 0)
			log_warning_errno(negative_errno(), "boot: cannot unmount %s: %m", f->mnt);
		(void)rmdir(f->mnt);
		f->mnt[0] = 0;
	}
	if (c->kmod)
		c->kmod = kmod_unref(c->kmod);
}

/* What was chosen: a kernel, initrds, a command line, and words for the log. */
struct choice {
	int kernel_fd;
	int initrd_fd; /* one memfd of all initrds, or -EBADF */
	char what[512];
	char kernel[PATH_MAX + 64];
	char initrds[1024];
	char cmdline[KEXEC_CMDLINE_MAX * 2];
};

static int copy_fd(int from, int to, uint64_t *total)
{
	static char buf[1 << 20];

	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf)), w = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return 0;
		*total += (uint64_t)n;
		if (*total > MAX_BOOT_FILE)
			return -EFBIG;
		while (w < n) {
			ssize_t k = write(to, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return k < 0 ? negative_errno() : -EIO;
			w += k;
		}
	}
}

/* One path of an entry, inside its file system; for entries under boot/loader/entries of a
 * root file system, paths may also be relative to its /boot (as grub's blscfg allows). Regular
 * files only: a FIFO or a device node in the image is never opened (one would hang the
 * flasher, with its watchdog already stopped): -EBADFD. */
static int open_entry_file(const struct fs *f, bool under_boot, const char *path)
{
	char alt[PATH_MAX];
	int fd = open_regular_in_root(f->root_fd, path);

	if (fd == -ENOENT && under_boot) {
		snprintf(alt, sizeof(alt), "boot/%s", path + strspn(path, "/"));
		fd = open_regular_in_root(f->root_fd, alt);
	}
	return fd;
}

static int check_regular(int fd, const char *what, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s is not a regular, non-empty file", what);
		return -EBADFD;
	}
	return 0;
}

static int build_initrd(const struct fs *f, bool under_boot, char *const *paths, size_t n,
			struct choice *ch, char *err, size_t errlen)
{
	_cleanup_close_ int mfd = -EBADF;
	uint64_t total = 0;
	int r;

	if (n == 0)
		return 0;
	mfd = memfd_create("new-system-initrd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return negative_errno();
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = open_entry_file(f, under_boot, paths[i]);
		static const char zeros[4];

		if (fd == -EBADFD) {
			snprintf(err, errlen, "initrd %s on %s is not a regular file (a FIFO or a "
					      "device node?): not opened", paths[i], f->dev);
			return fd;
		}
		if (fd < 0) {
			snprintf(err, errlen, "initrd %s not found on %s: %s", paths[i], f->dev,
				 strerror(-fd));
			return fd;
		}
		r = check_regular(fd, paths[i], err, errlen);
		if (r < 0)
			return r;
		r = copy_fd(fd, mfd, &total);
		if (r < 0) {
			snprintf(err, errlen, "cannot read initrd %s on %s: %s", paths[i], f->dev,
				 r == -EFBIG ? "the initrds are larger than 2 GiB" : strerror(-r));
			return r;
		}
		/* each archive starts 4-byte aligned, as boot loaders concatenate them */
		if (total % 4 && write(mfd, zeros, 4 - total % 4) != (ssize_t)(4 - total % 4))
			return -EIO;
		total += (4 - total % 4) % 4;
		snprintf(ch->initrds + strlen(ch->initrds), sizeof(ch->initrds) - strlen(ch->initrds),
			 "%s%s", i ? " + " : "", paths[i]);
	}
	/* kexec_file_load refuses files open for writing: seal instead of reopening */
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return negative_errno();
	ch->initrd_fd = TAKE_FD(mfd);
	return 0;
}

static int collect_dir(struct ctx *c, size_t fsi, const char *dir, struct bls_entry *entries,
		       size_t *n)
{
	struct fs *f = &c->fs[fsi];
	_cleanup_close_ int dfd = open_in_root(f->root_fd, dir, O_RDONLY | O_DIRECTORY);
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	if (dfd < 0)
		return 0;
	d = fdopendir(dfd);
	if (!d)
		return negative_errno();
	dfd = -EBADF;
	while ((de = readdir(d)) && *n < MAX_ENTRIES) {
		char path[PATH_MAX], err[512];
		_cleanup_free_ char *text = NULL;
		size_t len, nl = strlen(de->d_name);
		int r;

		if (de->d_name[0] == '.' || nl <= 5 || strcmp(de->d_name + nl - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = read_in_root(f->root_fd, path, BLS_ENTRY_MAX_SIZE, &text, &len);
		if (r < 0) {
			log_warning_errno(r, "boot: cannot read %s on %s: %m; skipped", path, f->dev);
			continue;
		}
		r = bls_entry_parse(de->d_name, text, len, &entries[*n], err, sizeof(err));
		if (r < 0) {
			log_warning("boot: %s on %s skipped: %s", path, f->dev, err);
			continue;
		}
		/* which file system, and whether it sat under boot/ of it */
		entries[*n].source = (unsigned)(fsi * 2 + (dir[0] == 'b'));
		(*n)++;
	}
	return 0;
}

static const char *role_rank_name(enum role r)
{
	return r == ROLE_ESP ? "EFI system partition" : r == ROLE_XBOOTLDR ? "XBOOTLDR" : "file system";
}

/* Boot Loader Specification entries on any of the file systems. 1 when one was chosen, 0 when
 * there is no bootable entry, -errno when a chosen entry's files are missing. */
static int choose_bls(struct ctx *c, struct choice *ch, char *err, size_t errlen)
{
	struct bls_entry *entries = calloc(MAX_ENTRIES, sizeof(*entries));
	_cleanup_free_ char *pattern = NULL;
	size_t n = 0;
	int r = 0, idx;
	bool matched;

	if (!entries)
		return -ENOMEM;
	for (enum role role = ROLE_XBOOTLDR; role <= ROLE_OTHER; role++)
		for (size_t i = 0; i < c->n_fs; i++) {
			if (c->fs[i].role != role || c->fs[i].root_fd < 0)
				continue;
			(void)collect_dir(c, i, "loader/entries", entries, &n);
			(void)collect_dir(c, i, "boot/loader/entries", entries, &n);
			if (!pattern && (role == ROLE_ESP || role == ROLE_XBOOTLDR)) {
				_cleanup_free_ char *text = NULL;
				size_t len;
				if (read_in_root(c->fs[i].root_fd, "loader/loader.conf",
						 BLS_ENTRY_MAX_SIZE, &text, &len) == 0 &&
				    bls_loader_conf_default(text, len, &pattern) > 0)
					log_info("boot: loader/loader.conf on %s: default %s",
						 c->fs[i].dev, pattern);
			}
		}
	if (n == 0) {
		log_info("boot: no Boot Loader Specification entries (loader/entries/*.conf)");
		goto out;
	}
	idx = bls_select(entries, n, pattern, bls_native_architecture(), &matched);
	for (size_t i = 0; i < n; i++) {
		const char *why;
		if (!bls_entry_is_bootable(&entries[i], bls_native_architecture(), &why))
			log_info("boot: entry %s.conf skipped: %s", entries[i].name, why);
	}
	if (idx < 0) {
		log_info("boot: none of the %zu entries can be kexec'ed", n);
		goto out;
	}
	if (pattern && !matched)
		log_warning("boot: no bootable entry matches the default '%s'; taking the first in "
			    "the menu order",
			    pattern);
	{
		struct bls_entry *e = &entries[idx];
		struct fs *f = &c->fs[e->source / 2];
		bool under_boot = e->source % 2;

		snprintf(ch->what, sizeof(ch->what), "entry %s.conf (%s%s%s) on %s, %s", e->name,
			 e->title ? e->title : "no title", e->version ? ", version " : "",
			 e->version ? e->version : "", f->dev, role_rank_name(f->role));
		ch->kernel_fd = open_entry_file(f, under_boot, e->linux_path);
		if (ch->kernel_fd < 0) {
			r = ch->kernel_fd;
			if (r == -EBADFD)
				snprintf(err, errlen, "%s names the kernel %s, which is not a regular "
						      "file on %s (a FIFO or a device node?): not opened",
					 ch->what, e->linux_path, f->dev);
			else
				snprintf(err, errlen, "%s names the kernel %s, which is not on %s: %s",
					 ch->what, e->linux_path, f->dev, strerror(-r));
			goto out;
		}
		snprintf(ch->kernel, sizeof(ch->kernel), "%s on %s", e->linux_path, f->dev);
		r = check_regular(ch->kernel_fd, ch->kernel, err, errlen);
		if (r < 0)
			goto out;
		r = build_initrd(f, under_boot, e->initrds, e->n_initrds, ch, err, errlen);
		if (r < 0)
			goto out;
		snprintf(ch->cmdline, sizeof(ch->cmdline), "%s", e->options ? e->options : "");
		r = 1;
	}
out:
	for (size_t i = 0; i < n; i++)
		bls_entry_done(&entries[i]);
	free(entries);
	return r;
}

/* /etc/kernel/cmdline of the new system, whitespace folded; "" when absent. */
static void kernel_cmdline_file(const struct fs *f, char *buf, size_t n)
{
	_cleanup_free_ char *text = NULL;
	size_t len, o = 0;

	buf[0] = 0;
	if (read_in_root(f->root_fd, "etc/kernel/cmdline", KEXEC_CMDLINE_MAX, &text, &len) < 0)
		return;
	for (size_t i = 0; i < len && o + 1 < n; i++) {
		char ch = text[i] == '\n' || text[i] == '\t' || text[i] == '\r' ? ' ' : text[i];
		if (ch == ' ' && (o == 0 || buf[o - 1] == ' '))
			continue;
		if ((unsigned char)ch < 0x20)
			continue;
		buf[o++] = ch;
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = 0;
}

/* Debian's layout and friends: /boot/vmlinuz + /boot/initrd.img, or the links in / */
static int choose_fallback(struct ctx *c, struct choice *ch, char *err, size_t errlen)
{
	static const char *const pairs[][2] = { { "/boot/vmlinuz", "/boot/initrd.img" },
						{ "/vmlinuz", "/initrd.img" } };

	for (enum role role = ROLE_ROOT; role <= ROLE_OTHER; role++)
		for (size_t i = 0; i < c->n_fs; i++) {
			struct fs *f = &c->fs[i];
			if (f->role != role || f->root_fd < 0)
				continue;
			for (size_t p = 0; p < ELEMENTSOF(pairs); p++) {
				_cleanup_close_ int kfd = open_regular_in_root(f->root_fd,
									       pairs[p][0]);
				char extra[KEXEC_CMDLINE_MAX], *initrd = (char *)pairs[p][1];
				_cleanup_close_ int ifd = -EBADF;
				int r;

				if (kfd == -EBADFD) {
					/* never opened: a FIFO would hang the flasher, whose
					 * watchdog is already stopped */
					log_info("boot: %s on %s is not a regular file (a FIFO or a "
						 "device node?): skipped, not opened",
						 pairs[p][0], f->dev);
					continue;
				}
				if (kfd < 0)
					continue;
				snprintf(ch->what, sizeof(ch->what), "%s on %s (%s)", pairs[p][0],
					 f->dev, f->type);
				snprintf(ch->kernel, sizeof(ch->kernel), "%s on %s", pairs[p][0],
					 f->dev);
				r = check_regular(kfd, ch->kernel, err, errlen);
				if (r < 0)
					return r;
				ifd = open_in_root(f->root_fd, initrd, O_PATH); /* is it there? */
				if (ifd >= 0) {
					ifd = safe_close(ifd);
					r = build_initrd(f, false, &initrd, 1, ch, err, errlen);
					if (r < 0)
						return r;
				} else
					log_info("boot: no %s next to the kernel; booting without one",
						 initrd);
				kernel_cmdline_file(f, extra, sizeof(extra));
				if (strstr(extra, "root="))
					snprintf(ch->cmdline, sizeof(ch->cmdline), "%s", extra);
				else if (ch->initrd_fd < 0 && f->partuuid[0])
					/* without an initrd only the kernel resolves root=, and it
					 * knows PARTUUID but not file system UUIDs */
					snprintf(ch->cmdline, sizeof(ch->cmdline),
						 "root=PARTUUID=%s rootfstype=%s ro%s%s", f->partuuid,
						 f->type, extra[0] ? " " : "", extra);
				else if (f->uuid[0])
					snprintf(ch->cmdline, sizeof(ch->cmdline), "root=UUID=%s ro%s%s",
						 f->uuid, extra[0] ? " " : "", extra);
				else
					snprintf(ch->cmdline, sizeof(ch->cmdline), "root=%s ro%s%s",
						 f->dev, extra[0] ? " " : "", extra);
				ch->kernel_fd = TAKE_FD(kfd);
				return 1;
			}
		}
	return 0;
}

static int find_console(const char *key, const char *value, void *userdata)
{
	return !strcmp(key, "console") ? 1 : 0;
}

struct consoles {
	char buf[512];
};

static int collect_console(const char *key, const char *value, void *userdata)
{
	struct consoles *cs = userdata;

	if (!strcmp(key, "console") && value && !strpbrk(value, " \"") &&
	    strlen(cs->buf) + strlen(value) + 10 < sizeof(cs->buf))
		snprintf(cs->buf + strlen(cs->buf), sizeof(cs->buf) - strlen(cs->buf), " console=%s",
			 value);
	return 0;
}

/* The operator watches the flasher's console; the new system should talk there too, unless its
 * entry says where its console is. */
static void add_flasher_console(char *cmdline, size_t n)
{
	_cleanup_fclose_ FILE *f = NULL;
	char own[CMDLINE_MAX + 1];
	struct consoles cs = { "" };

	if (cmdline_foreach(cmdline, find_console, NULL) == 1)
		return;
	f = fopen("/proc/cmdline", "re");
	if (!f || !fgets(own, sizeof(own), f))
		return;
	own[strcspn(own, "\n")] = 0;
	(void)cmdline_foreach(own, collect_console, &cs);
	if (cs.buf[0] && strlen(cmdline) + strlen(cs.buf) < n)
		strcat(cmdline, cmdline[0] ? cs.buf : cs.buf + 1);
}

int boot_new_system(const char *target, char *err, size_t errlen)
{
	struct ctx c = { .disk = target };
	struct choice ch = { .kernel_fd = -EBADF, .initrd_fd = -EBADF };
	char disk_name[64], why[1024];
	int r;

	r = whole_disk_name(target, disk_name, sizeof(disk_name), err, errlen);
	if (r < 0)
		return r;
	log_info("boot: looking for the new system's kernel on %s", target);
	reread_partitions(target);
	r = find_file_systems(&c, disk_name, err, errlen);
	if (r < 0)
		goto fail;
	mount_all(&c);
	r = choose_bls(&c, &ch, err, errlen);
	if (r == 0)
		r = choose_fallback(&c, &ch, err, errlen);
	if (r == 0) {
		snprintf(err, errlen,
			 "nothing bootable on %s: no Boot Loader Specification entry with a "
			 "'linux' kernel (loader/entries/*.conf on the ESP, XBOOTLDR or /boot), and "
			 "no /boot/vmlinuz or /vmlinuz",
			 target);
		r = -ENOENT;
	}
	if (r < 0)
		goto fail;
	add_flasher_console(ch.cmdline, sizeof(ch.cmdline));
	log_info("boot: chose %s", ch.what);
	log_info("boot:   kernel: %s", ch.kernel);
	log_info("boot:   initrd: %s", ch.initrds[0] ? ch.initrds : "(none)");
	log_info("boot:   command line: %s", ch.cmdline[0] ? ch.cmdline : "(empty)");
	if (strlen(ch.cmdline) + 1 > KEXEC_CMDLINE_MAX) {
		snprintf(err, errlen, "the new system's command line is %zu bytes, over the %d the "
				      "kernel takes",
			 strlen(ch.cmdline), KEXEC_CMDLINE_MAX - 1);
		r = -E2BIG;
		goto fail;
	}
	r = kexec_load_fd(ch.kernel_fd, ch.kernel, ch.initrd_fd, ch.cmdline, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "loading the new system's kernel failed: %s", why);
		goto fail;
	}
	/* the kernel holds its own copies now */
	ch.kernel_fd = safe_close(ch.kernel_fd);
	ch.initrd_fd = safe_close(ch.initrd_fd);
	unmount_all(&c);
	sync();
	log_info("boot: jumping into the new system");
	(void)syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_KEXEC,
		      NULL);
	r = negative_errno();
	snprintf(err, errlen, "reboot(KEXEC) failed: %s", strerror(-r));
	(void)kexec_unload(why, sizeof(why));
	return r;
fail:
	safe_close(ch.kernel_fd);
	safe_close(ch.initrd_fd);
	unmount_all(&c);
	return r;
}
