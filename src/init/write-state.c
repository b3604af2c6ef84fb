// SPDX-License-Identifier: GPL-2.0-or-later
/* The flasher's record of what it did to its disks (see init/write-state.h). */
#include "init/write-state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"

#define MAX_DEVICES 16

static const char *const names[] = {
	[WRITE_TOUCHED] = "touched",
	[WRITE_FAILED] = "failed",
	[WRITE_VERIFIED] = "verified",
};

const char *write_state_to_string(enum write_state s)
{
	return (unsigned)s < ELEMENTSOF(names) ? names[s] : "unknown";
}

static int parse_state(const char *word, enum write_state *ret)
{
	for (unsigned i = 0; i < ELEMENTSOF(names); i++)
		if (!strcmp(word, names[i])) {
			*ret = (enum write_state)i;
			return 0;
		}
	return -EINVAL;
}

void write_state_mark(const char *device, enum write_state s)
{
	_cleanup_close_ int fd = -EBADF;
	char line[512];
	int n;

	(void)mkdir("/run/reimage", 0755);
	fd = open(WRITE_STATE_FILE, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		log_warning_errno(negative_errno(), "cannot record the write to %s in %s: %m", device,
				  WRITE_STATE_FILE);
		return;
	}
	n = snprintf(line, sizeof(line), "%s %d %s\n", device, (int)getpid(),
		     write_state_to_string(s));
	/* one write(2) of one line with O_APPEND: lines of concurrent writers never interleave */
	if (n <= 0 || (size_t)n >= sizeof(line) || write(fd, line, (size_t)n) != n)
		log_warning("cannot record the write to %s in %s", device, WRITE_STATE_FILE);
	(void)fsync(fd);
}

struct record {
	char dev[256];
	int pid;
	enum write_state state;
};

/* Parse one line; an old two-field line (no state) counts as touched. 0 or -EINVAL. */
static int parse_line(const char *line, struct record *rec)
{
	char word[32] = "";
	int n = sscanf(line, "%255s %d %31s", rec->dev, &rec->pid, word);

	if (n < 2 || rec->dev[0] != '/')
		return -EINVAL;
	if (n == 2) {
		rec->state = WRITE_TOUCHED;
		return 0;
	}
	return parse_state(word, &rec->state);
}

/* The last record of every device, in order of first appearance. */
static size_t read_all(struct record *recs, size_t max, struct record *last)
{
	_cleanup_fclose_ FILE *f = fopen(WRITE_STATE_FILE, "re");
	char line[512];
	size_t n = 0;

	if (last)
		last->dev[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		struct record r;
		size_t i;

		if (parse_line(line, &r) < 0)
			continue;
		if (last)
			*last = r;
		for (i = 0; i < n; i++)
			if (!strcmp(recs[i].dev, r.dev))
				break;
		if (i < n)
			recs[i] = r;
		else if (n < max)
			recs[n++] = r;
	}
	return n;
}

int write_state_last(char *dev, size_t n, pid_t *ret_pid, enum write_state *ret_state)
{
	struct record recs[MAX_DEVICES], last;

	(void)read_all(recs, ELEMENTSOF(recs), &last);
	if (!last.dev[0])
		return 0;
	if (dev)
		snprintf(dev, n, "%s", last.dev);
	if (ret_pid)
		*ret_pid = last.pid;
	if (ret_state)
		*ret_state = last.state;
	return 1;
}

int write_state_of(const char *device, enum write_state *ret)
{
	struct record recs[MAX_DEVICES];
	size_t n = read_all(recs, ELEMENTSOF(recs), NULL);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(recs[i].dev, device)) {
			*ret = recs[i].state;
			return 1;
		}
	return 0;
}

void write_state_foreach_unfinished(void (*fn)(const char *device, pid_t pid, void *userdata),
				    void *userdata)
{
	struct record recs[MAX_DEVICES];
	size_t n = read_all(recs, ELEMENTSOF(recs), NULL);

	for (size_t i = 0; i < n; i++)
		if (recs[i].state == WRITE_TOUCHED)
			fn(recs[i].dev, recs[i].pid, userdata);
}

void write_state_set_reboot_timeout(uint64_t ms)
{
	_cleanup_fclose_ FILE *f = NULL;

	(void)mkdir("/run/reimage", 0755);
	f = fopen(WRITE_STATE_TIMEOUT_FILE, "we");
	if (f)
		fprintf(f, "%" PRIu64 "\n", ms);
}

uint64_t write_state_reboot_timeout(uint64_t def)
{
	_cleanup_fclose_ FILE *f = fopen(WRITE_STATE_TIMEOUT_FILE, "re");
	unsigned long long v;

	if (f && fscanf(f, "%llu", &v) == 1)
		return v;
	return def;
}
