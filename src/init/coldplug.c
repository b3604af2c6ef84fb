// SPDX-License-Identifier: GPL-2.0-or-later
/* Module loading by modalias for the flasher: a coldplug scan of sysfs plus a uevent listener. */
#include "init/coldplug.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"

#define MAX_SEEN 4096

struct coldplug {
	struct kmod_ctx *ctx;
	pthread_mutex_t lock; /* libkmod contexts are not thread-safe */
	char *seen[MAX_SEEN]; /* modaliases already handled */
	size_t n_seen;
	pthread_t thread;
	bool thread_running;
	volatile int stop;
	int uevent_fd;
};

int coldplug_new(struct coldplug **ret)
{
	struct coldplug *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->uevent_fd = -EBADF;
	pthread_mutex_init(&c->lock, NULL);
	c->ctx = kmod_new(NULL, NULL);
	if (!c->ctx) {
		free(c);
		return -ENOMEM;
	}
	if (kmod_load_resources(c->ctx) < 0)
		log_warning("the module index of this kernel is missing or damaged; drivers that "
			    "are modules will not load");
	*ret = c;
	return 0;
}

void coldplug_free(struct coldplug *c)
{
	if (!c)
		return;
	coldplug_watch_stop(c);
	for (size_t i = 0; i < c->n_seen; i++)
		free(c->seen[i]);
	kmod_unref(c->ctx);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static bool seen_before(struct coldplug *c, const char *alias)
{
	for (size_t i = 0; i < c->n_seen; i++)
		if (!strcmp(c->seen[i], alias))
			return true;
	if (c->n_seen < MAX_SEEN) {
		c->seen[c->n_seen] = strdup(alias);
		if (c->seen[c->n_seen])
			c->n_seen++;
	}
	return false;
}

/* Load everything matching alias; returns how many modules were newly inserted. */
static int load_alias(struct coldplug *c, const char *alias)
{
	struct kmod_list *list = NULL, *l;
	int loaded = 0;

	pthread_mutex_lock(&c->lock);
	if (seen_before(c, alias) || kmod_module_new_from_lookup(c->ctx, alias, &list) < 0 || !list) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);
		int state = kmod_module_get_initstate(m);
		int r;

		if (state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN ||
		    state == KMOD_MODULE_COMING) {
			kmod_module_unref(m);
			continue;
		}
		r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL,
						    NULL);
		if (r == 0) {
			log_info("loaded %s (for %s)", kmod_module_get_name(m), alias);
			loaded++;
		} else if (r < 0 && r != -EEXIST)
			log_warning_errno(r, "loading %s for %s failed: %m", kmod_module_get_name(m),
					  alias);
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	pthread_mutex_unlock(&c->lock);
	return loaded;
}

int coldplug_load_names(struct coldplug *c, const char *comma_list)
{
	char name[256];
	const char *p = comma_list;
	int loaded = 0;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = 0;
			loaded += load_alias(c, name);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return loaded;
}

static int scan_dir(struct coldplug *c, const char *dir, int depth)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	int loaded = 0;

	if (!d || depth > 24)
		return 0;
	while ((de = readdir(d))) {
		char p[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			loaded += scan_dir(c, p, depth + 1); /* symlinks (subsystem, driver) skipped */
		else if (de->d_type == DT_REG && !strcmp(de->d_name, "modalias")) {
			char alias[512];
			_cleanup_fclose_ FILE *f = fopen(p, "re");
			if (f && fgets(alias, sizeof(alias), f)) {
				alias[strcspn(alias, "\n")] = 0;
				if (alias[0])
					loaded += load_alias(c, alias);
			}
		}
	}
	return loaded;
}

int coldplug_run(struct coldplug *c)
{
	int total = 0;

	for (int pass = 0; pass < 16; pass++) {
		int n = scan_dir(c, "/sys/devices", 0);
		total += n;
		if (n == 0)
			break;
		/* new drivers create child devices asynchronously: give them a moment */
		usleep(200 * 1000);
	}
	return total;
}

static void *watch_thread(void *userdata)
{
	struct coldplug *c = userdata;
	char buf[8192];

	while (!c->stop) {
		struct pollfd p = { .fd = c->uevent_fd, .events = POLLIN };
		ssize_t n;
		bool add = false;
		const char *alias = NULL;

		if (poll(&p, 1, 500) <= 0)
			continue;
		n = recv(c->uevent_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* "action@devpath\0KEY=value\0..." */
		for (char *s = buf; s < buf + n; s += strlen(s) + 1) {
			if (!strcmp(s, "ACTION=add"))
				add = true;
			else if (!strncmp(s, "MODALIAS=", 9))
				alias = s + 9;
		}
		if (add && alias)
			(void)load_alias(c, alias);
	}
	return NULL;
}

int coldplug_watch_start(struct coldplug *c)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };

	c->uevent_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (c->uevent_fd < 0)
		return negative_errno();
	if (bind(c->uevent_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = negative_errno();
		c->uevent_fd = safe_close(c->uevent_fd);
		return r;
	}
	c->stop = 0;
	if (pthread_create(&c->thread, NULL, watch_thread, c) != 0) {
		c->uevent_fd = safe_close(c->uevent_fd);
		return -EAGAIN;
	}
	c->thread_running = true;
	return 0;
}

void coldplug_watch_stop(struct coldplug *c)
{
	if (!c->thread_running)
		return;
	c->stop = 1;
	pthread_join(c->thread, NULL);
	c->thread_running = false;
	c->uevent_fd = safe_close(c->uevent_fd);
}
