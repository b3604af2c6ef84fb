// SPDX-License-Identifier: GPL-2.0-or-later
/* Collecting the new system's identity from this machine. */
#include "initrd/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "initrd/hold.h"

void identity_options_init(struct identity_options *o)
{
	*o = (struct identity_options){ .grow = -1 };
}

bool identity_options_any(const struct identity_options *o)
{
	return o->keep_host_keys || o->keep_authorized_keys || o->keep_network || o->keep_identity ||
	       o->grow > 0 || o->hostname || o->user_data || o->meta_data || o->n_key_files ||
	       o->n_copies;
}

static int add_file(struct identity_collected *c, const char *name, uint32_t mode, uint8_t *data,
		    size_t len, char *err, size_t errlen)
{
	char *path;

	if (c->n_files == 0) {
		/* the kernel makes no parent directories: the archive names this one first */
		char *dir = strdup("etc/reimage/identity");
		if (!dir)
			return -ENOMEM;
		c->files[c->n_files++] = (struct flasher_secret){ dir, 0700, NULL, 0 };
	}
	if (c->n_files >= IDENTITY_MAX_FILES) {
		snprintf(err, errlen, "too many identity files");
		return -E2BIG;
	}
	path = malloc(strlen(name) + 32);
	if (!path)
		return -ENOMEM;
	sprintf(path, "etc/reimage/identity/%s", name);
	c->files[c->n_files++] = (struct flasher_secret){ path, mode, data, len };
	return 0;
}

static int read_file(const char *what, const char *path, size_t max, uint8_t **ret, size_t *len,
		     char *err, size_t errlen)
{
	struct stat st;
	int r;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", what, path);
		return -EINVAL;
	}
	r = read_full_file(path, max, ret, len);
	if (r < 0)
		snprintf(err, errlen, "cannot read %s %s: %s", what, path,
			 r == -EFBIG ? "too large" : strerror(-r));
	return r;
}

static int collect_host_keys(const struct identity_options *o, struct job *j,
			     struct identity_collected *c, char *err, size_t errlen)
{
	static const char *const names[] = { "ed25519", "ecdsa", "rsa" };
	const char *dir = getenv("REIMAGE_SSH_HOST_KEY_DIR");
	int r;

	snprintf(c->host_dir, sizeof(c->host_dir), "%s", dir && dir[0] ? dir : "/etc/ssh");
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		char p[512], name[64];
		uint8_t *priv = NULL, *pub = NULL;
		size_t plen, publen;
		struct ssh_pubkey *k;

		snprintf(p, sizeof(p), "%s/ssh_host_%s_key", c->host_dir, names[i]);
		if (access(p, F_OK) < 0)
			continue;
		r = read_file("the SSH host key", p, 64 << 10, &priv, &plen, err, errlen);
		if (r < 0)
			return r;
		strcat(p, ".pub");
		r = read_file("the SSH host public key", p, 64 << 10, &pub, &publen, err, errlen);
		if (r < 0) {
			explicit_bzero(priv, plen);
			free(priv);
			return r;
		}
		k = malloc(sizeof(*k));
		r = k ? ssh_pubkey_parse((char *)pub, strcspn((char *)pub, "\r\n"), false, k) : -ENOMEM;
		if (r == 0)
			r = ssh_fingerprint_sha256(k->blob, k->blob_len, c->host_fp[j->n_host_keys],
						   sizeof(c->host_fp[0]));
		if (r == 0)
			snprintf(c->host_type[j->n_host_keys], sizeof(c->host_type[0]), "%s", k->type);
		free(k);
		if (r < 0) {
			snprintf(err, errlen, "%s is not an OpenSSH public key", p);
			explicit_bzero(priv, plen);
			free(priv);
			free(pub);
			return r;
		}
		snprintf(name, sizeof(name), "ssh_host_%s_key", names[i]);
		r = add_file(c, name, 0600, priv, plen, err, errlen);
		strcat(name, ".pub");
		if (r == 0)
			r = add_file(c, name, 0644, pub, publen, err, errlen);
		if (r < 0)
			return r;
		snprintf(j->host_keys[j->n_host_keys++], sizeof(j->host_keys[0]), "%s", names[i]);
	}
	if (j->n_host_keys == 0) {
		snprintf(err, errlen, "--keep-ssh-host-keys: there is no %s/ssh_host_*_key here",
			 c->host_dir);
		return -ENOENT;
	}
	return 0;
}

struct skip_ctx {
	const char *file;
};

static void report_skip(void *userdata, unsigned lineno, const char *why)
{
	log_warning("%s line %u: %s, skipped", ((struct skip_ctx *)userdata)->file, lineno, why);
}

static int add_keys(struct identity_collected *c, const char *path, bool missing_ok, char *err,
		    size_t errlen)
{
	_cleanup_free_ uint8_t *text = NULL;
	struct skip_ctx s = { path };
	size_t len, l;
	int r;

	r = read_full_file(path, SSH_KEYS_TEXT_MAX, &text, &len);
	if (r == -ENOENT && missing_ok)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "cannot read the authorized keys file %s: %s", path,
			 r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return r;
	}
	r = ssh_keyset_add_text(&c->authorized, (const char *)text, len, report_skip, &s);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, r == -EFBIG ? "more than 256 keys" : strerror(-r));
		return r;
	}
	l = strlen(c->key_sources);
	snprintf(c->key_sources + l, sizeof(c->key_sources) - l, "%s%s", l ? ", " : "", path);
	return 0;
}

static int collect_authorized(const struct identity_options *o, struct job *j,
			      struct identity_collected *c, char *err, size_t errlen)
{
	char *text = NULL;
	int r;

	for (size_t i = 0; i < o->n_key_files; i++)
		if ((r = add_keys(c, o->key_files[i], false, err, errlen)) < 0)
			return r;
	if (o->keep_authorized_keys || o->keep_identity) {
		/* the same list as hold mode: root's and the sudo user's, or the test's */
		const char *env = getenv("REIMAGE_AUTHORIZED_KEYS");
		if (env && env[0]) {
			_cleanup_free_ char *list = strdup(env);
			for (char *s = list ? strtok(list, ":") : NULL; s; s = strtok(NULL, ":"))
				if ((r = add_keys(c, s, true, err, errlen)) < 0)
					return r;
		} else {
			const char *sudo = getenv("SUDO_USER");
			struct passwd *pw = sudo && sudo[0] ? getpwnam(sudo) : NULL;
			if ((r = add_keys(c, "/root/.ssh/authorized_keys", true, err, errlen)) < 0)
				return r;
			if (pw && pw->pw_uid != 0) {
				char p[512];
				snprintf(p, sizeof(p), "%s/.ssh/authorized_keys", pw->pw_dir);
				if ((r = add_keys(c, p, true, err, errlen)) < 0)
					return r;
			}
		}
	}
	if (c->authorized.n == 0) {
		snprintf(err, errlen, "no SSH key to put into the new system: %s%s",
			 c->key_sources[0] ? "none usable in " : "no authorized_keys found for root "
								 "or $SUDO_USER",
			 c->key_sources);
		return -ENOKEY;
	}
	r = ssh_keyset_format(&c->authorized, &text);
	if (r < 0)
		return r;
	r = add_file(c, "authorized_keys", 0600, (uint8_t *)text, strlen(text), err, errlen);
	if (r < 0) {
		free(text);
		return r;
	}
	j->authorized_keys = true;
	return 0;
}

/* SRC:DEST[:MODE] */
static int collect_copy(const char *spec, size_t idx, struct job *j, struct identity_collected *c,
			size_t *total, char *err, size_t errlen)
{
	_cleanup_free_ char *s = strdup(spec);
	char *dest, *mode_s, name[32];
	unsigned long mode = 0;
	bool have_mode = false;
	struct stat st;
	uint8_t *data = NULL;
	size_t len;
	int r;

	if (!s)
		return -ENOMEM;
	dest = strchr(s, ':');
	if (!dest || dest == s) {
		snprintf(err, errlen, "--copy %s: expected SRC:DEST[:MODE]", spec);
		return -EINVAL;
	}
	*dest++ = 0;
	mode_s = strrchr(dest, ':');
	if (mode_s) {
		char *end;
		*mode_s++ = 0;
		mode = strtoul(mode_s, &end, 8);
		if (!*mode_s || *end || mode > 07777 || strspn(mode_s, "01234567") != strlen(mode_s)) {
			snprintf(err, errlen, "--copy %s: MODE must be octal, e.g. 0600", spec);
			return -EINVAL;
		}
		have_mode = true;
	}
	if (!job_dest_path_is_valid(dest)) {
		snprintf(err, errlen, "--copy %s: DEST must be an absolute path without '.', '..' "
				      "or '//' components",
			 spec);
		return -EINVAL;
	}
	if (stat(s, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--copy %s: %s is not a regular file here", spec, s);
		return -EINVAL;
	}
	r = read_file("--copy", s, IDENTITY_COPY_MAX, &data, &len, err, errlen);
	if (r < 0)
		return r;
	*total += len;
	if (*total > IDENTITY_COPIES_MAX) {
		explicit_bzero(data, len);
		free(data);
		snprintf(err, errlen, "--copy: the files add up to more than 64 MiB; they travel in "
				      "the flasher's RAM");
		return -EFBIG;
	}
	snprintf(name, sizeof(name), "copy-%zu", idx);
	r = add_file(c, name, 0600, data, len, err, errlen);
	if (r < 0) {
		free(data);
		return r;
	}
	j->copies[idx].dest = strdup(dest);
	if (!j->copies[idx].dest)
		return -ENOMEM;
	j->copies[idx].mode = have_mode ? (uint32_t)mode : (uint32_t)(st.st_mode & 07777);
	j->n_copies = idx + 1;
	c->copy_src[idx] = spec;
	return 0;
}

int identity_collect(const struct identity_options *o, struct job *j, struct identity_collected *c,
		     char *err, size_t errlen)
{
	bool all = o->keep_identity;
	size_t total = 0;
	int r;

	if (o->keep_network || all) {
		if (j->n_addresses == 0) {
			snprintf(err, errlen, "--keep-network: there is no network configuration to "
					      "keep (no default route here, or --no-carry-network)");
			return -EADDRNOTAVAIL;
		}
		j->keep_network = true;
	}
	if (o->hostname) {
		if (!job_hostname_is_valid(o->hostname)) {
			snprintf(err, errlen, "--hostname %s: a host name is letters, digits and '-' "
					      "in labels of up to 63, joined by '.'",
				 o->hostname);
			return -EINVAL;
		}
		j->hostname = strdup(o->hostname);
	} else if (all) {
		char h[256] = "";
		if (gethostname(h, sizeof(h) - 1) < 0 || !job_hostname_is_valid(h)) {
			snprintf(err, errlen, "--keep-identity: this machine's name '%s' is not a valid "
					      "host name; give one with --hostname",
				 h);
			return -EINVAL;
		}
		j->hostname = strdup(h);
	}
	if ((o->hostname || all) && !j->hostname)
		return -ENOMEM;
	j->grow = o->grow > 0 || (o->grow < 0 && all);
	if ((o->keep_host_keys || all) && (r = collect_host_keys(o, j, c, err, errlen)) < 0)
		return r;
	if ((o->keep_authorized_keys || all || o->n_key_files) &&
	    (r = collect_authorized(o, j, c, err, errlen)) < 0)
		return r;
	for (int m = 0; m < 2; m++) {
		const char *p = m ? o->meta_data : o->user_data;
		uint8_t *data;
		size_t len;
		if (!p)
			continue;
		r = read_file(m ? "--cloud-init-meta-data" : "--cloud-init-user-data", p, 1U << 20,
			      &data, &len, err, errlen);
		if (r < 0)
			return r;
		if (memchr(data, 0, len)) {
			free(data);
			snprintf(err, errlen, "%s holds a NUL byte: cloud-init data is text", p);
			return -EINVAL;
		}
		r = add_file(c, m ? "meta-data" : "user-data", 0600, data, len, err, errlen);
		if (r < 0) {
			free(data);
			return r;
		}
		*(m ? &j->ci_meta_data : &j->ci_user_data) = true;
	}
	for (size_t i = 0; i < o->n_copies; i++)
		if ((r = collect_copy(o->copies[i], i, j, c, &total, err, errlen)) < 0)
			return r;
	return 0;
}

size_t identity_copy_len(const struct identity_collected *c, size_t i)
{
	char want[32];

	snprintf(want, sizeof(want), "copy-%zu", i);
	for (size_t k = 0; k < c->n_files; k++) {
		const char *base = strrchr(c->files[k].path, '/');
		if (!strcmp(base ? base + 1 : c->files[k].path, want))
			return c->files[k].len;
	}
	return 0;
}

void identity_print_plan(FILE *f, const struct job *j, const struct identity_collected *c)
{
	if (!job_wants_configure(j)) {
		fprintf(f, "  new system: as the image has it (the backup GPT moves to the disk's end)\n");
		return;
	}
	fprintf(f, "  new system: configured after the verified write (a failure holds):\n");
	for (size_t i = 0; i < j->n_host_keys; i++)
		fprintf(f, "            SSH host key %s %s (from %s)\n", c->host_type[i], c->host_fp[i],
			c->host_dir);
	if (j->authorized_keys) {
		fprintf(f, "            authorized keys: %zu (", c->authorized.n);
		for (size_t i = 0; i < c->authorized.n; i++)
			fprintf(f, "%s%s", i ? ", " : "",
				c->authorized.keys[i].comment[0] ? c->authorized.keys[i].comment
								  : "no comment");
		fprintf(f, ") from %s, for root and cloud-init's default user\n", c->key_sources);
	}
	if (j->keep_network)
		fprintf(f, "            network: the carried configuration, for cloud-init "
			   "(network-config v2) if the image has it, else systemd-networkd, ifupdown "
			   "and NetworkManager, whichever it has\n");
	if (j->hostname)
		fprintf(f, "            hostname: %s\n", j->hostname);
	if (j->ci_user_data || j->ci_meta_data)
		fprintf(f, "            cloud-init: %s%s%s in a NoCloud seed with a fresh instance-id "
			   "(an image without cloud-init gets the direct files only)\n",
			j->ci_user_data ? "user-data" : "", j->ci_user_data && j->ci_meta_data ? " and " : "",
			j->ci_meta_data ? "meta-data" : "");
	for (size_t i = 0; i < j->n_copies; i++)
		fprintf(f, "            copy: %.*s -> %s (mode %04o, %zu bytes, contents secret)\n",
			(int)strcspn(c->copy_src[i] ? c->copy_src[i] : "", ":"),
			c->copy_src[i] ? c->copy_src[i] : "", j->copies[i].dest,
			(unsigned)j->copies[i].mode, identity_copy_len(c, i));
	fprintf(f, "            disk: the backup GPT to the disk's end%s\n",
		j->grow ? "; the root partition (when last) and its file system grow to the end" : "");
}

void identity_collected_done(struct identity_collected *c)
{
	for (size_t i = 0; i < c->n_files; i++) {
		if (c->files[i].data) {
			explicit_bzero((void *)c->files[i].data, c->files[i].len);
			free((void *)c->files[i].data);
		}
		free((void *)c->files[i].path);
	}
	ssh_keyset_done(&c->authorized);
	explicit_bzero(c, sizeof(*c));
}
